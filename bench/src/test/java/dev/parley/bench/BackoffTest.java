package dev.parley.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bench's copy of the reconnect rule (PROTOCOL.md 10), with the same numbers as the server's
 * BackoffTest pins for {@code parley client}, and the closes and refusals after which the bench stays away.
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
    void the_ceiling_starts_at_a_second_doubles_up_to_thirty_and_the_draw_is_anywhere_under_it() {
        Backoff highest = new Backoff(drawing(0.999_999));
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 8; i++) waits.add(highest.nextMillis(-1, 0));
        assertThat(waits).containsExactly(999L, 1_999L, 3_999L, 7_999L, 15_999L, 29_999L, 29_999L, 29_999L);
        assertThat(new Backoff(drawing(0)).nextMillis(1001, 0)).as("full jitter: a drained node's clients may come back at once").isZero();
    }

    @Test
    void a_connection_up_ten_seconds_starts_the_waits_again_a_shorter_one_does_not() {
        Backoff b = new Backoff(drawing(0.5));
        b.nextMillis(-1, 0);
        b.nextMillis(-1, 0);
        b.wasUp(Backoff.STABLE_MILLIS - 1); // e.g. closed with 4002 right after the replay: still failing
        assertThat(b.nextMillis(4002, 0)).isEqualTo(2_000);
        b.wasUp(Backoff.STABLE_MILLIS);
        assertThat(b.nextMillis(1001, 0)).isEqualTo(500);
    }

    @Test
    void a_refusals_retry_after_is_honoured_with_under_a_second_of_jitter_and_a_close_that_says_stay_away_is_a_floor() {
        assertThat(new Backoff(drawing(0.5)).nextMillis(-1, 7)).isEqualTo(7_500);
        assertThat(new Backoff(drawing(0.5)).nextMillis(4029, 0)).isEqualTo(30_500);
        assertThat(new Backoff(drawing(0.5)).nextMillis(1008, 0)).isEqualTo(60_500);
    }

    @Test
    void the_bench_stays_away_only_where_another_attempt_cannot_help() {
        for (int code : new int[]{1002, 1008, 1009, 4001, 4003}) assertThat(Backoff.finalClose(code)).as("close %d", code).isTrue();
        for (int code : new int[]{-1, 1000, 1001, 1006, 1011, 4002, 4029}) assertThat(Backoff.finalClose(code)).as("close %d", code).isFalse();
        for (int status : new int[]{400, 401, 403, 405, 426}) assertThat(Backoff.finalRefusal(status)).as("status %d", status).isTrue();
        for (int status : new int[]{429, 502, 503, 504}) assertThat(Backoff.finalRefusal(status)).as("status %d", status).isFalse();
    }
}
