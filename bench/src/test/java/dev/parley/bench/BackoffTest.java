package dev.parley.bench;

import org.junit.jupiter.api.Test;

import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bench's reconnect rule (PROTOCOL.md 10): the client library's waits, and the closes and refusals
 * after which the bench stays away.
 */
class BackoffTest {
    /** Always draws the given fraction of the range. */
    static RandomGenerator drawing(double fraction) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public double nextDouble() {
                return fraction;
            }
        };
    }

    @Test
    void the_waits_are_the_client_librarys() {
        // The numbers themselves are pinned by the client library's BackoffTest; here only that the bench takes them.
        for (int close : new int[]{-1, 1001, 4002, 4029, 1008}) {
            var ours = new Backoff(drawing(0.5));
            var library = new dev.parley.client.Backoff(drawing(0.5));
            for (int i = 0; i < 3; i++) assertThat(ours.nextMillis(close, 0)).as("close %d", close).isEqualTo(library.nextMillis(close, 0));
        }
        assertThat(new Backoff(drawing(0.5)).nextMillis(-1, 7)).isEqualTo(new dev.parley.client.Backoff(drawing(0.5)).nextMillis(-1, 7));
        var ours = new Backoff(drawing(0.5));
        var library = new dev.parley.client.Backoff(drawing(0.5));
        for (long up : new long[]{0, Backoff.STABLE_MILLIS - 1, Backoff.STABLE_MILLIS}) {
            ours.nextMillis(-1, 0);
            library.nextMillis(-1, 0);
            ours.wasUp(up);
            library.wasUp(up);
            assertThat(ours.nextMillis(4002, 0)).as("after a connection up %d ms", up).isEqualTo(library.nextMillis(4002, 0));
        }
    }

    @Test
    void the_bench_stays_away_only_where_another_attempt_cannot_help() {
        for (int code : new int[]{1002, 1008, 1009, 4001, 4003}) assertThat(Backoff.finalClose(code)).as("close %d", code).isTrue();
        for (int code : new int[]{-1, 1000, 1001, 1006, 1011, 4002, 4029}) assertThat(Backoff.finalClose(code)).as("close %d", code).isFalse();
        for (int status : new int[]{400, 401, 403, 405, 426}) assertThat(Backoff.finalRefusal(status)).as("status %d", status).isTrue();
        for (int status : new int[]{429, 502, 503, 504}) assertThat(Backoff.finalRefusal(status)).as("status %d", status).isFalse();
    }
}
