package dev.parley.client;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

/** The reconnect rule of PROTOCOL.md 10 (full jitter), with the random draw fixed by the test. */
class BackoffTest {
    /** Always draws the given fraction of the range. */
    private static RandomGenerator drawing(double fraction) {
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
        for (int i = 0; i < 8; i++) waits.add(highest.nextMillis(1006, 0));
        assertThat(waits).containsExactly(999L, 1_999L, 3_999L, 7_999L, 15_999L, 29_999L, 29_999L, 29_999L);

        Backoff lowest = new Backoff(drawing(0));
        assertThat(lowest.nextMillis(1001, 0)).as("full jitter: a drained node's clients may come back at once").isZero();
    }

    @Test
    void a_connection_up_ten_seconds_starts_the_waits_again_a_shorter_one_does_not() {
        Backoff b = new Backoff(drawing(0.5));
        b.nextMillis(1006, 0);
        b.nextMillis(1006, 0);
        b.wasUp(Backoff.STABLE_MILLIS - 1); // e.g. closed with 4002 right after the replay: still failing
        assertThat(b.nextMillis(4002, 0)).isEqualTo(2_000);
        b.wasUp(Backoff.STABLE_MILLIS);
        assertThat(b.nextMillis(1001, 0)).isEqualTo(500);
    }

    @Test
    void a_refusals_retry_after_is_honoured_with_under_a_second_of_jitter_and_a_close_that_says_stay_away_is_a_floor() {
        Backoff b = new Backoff(drawing(0.5));
        assertThat(b.nextMillis(-1, 7)).isEqualTo(7_500);
        assertThat(new Backoff(drawing(0.5)).nextMillis(4029, 0)).isEqualTo(30_500);
        assertThat(new Backoff(drawing(0.5)).nextMillis(1008, 0)).isEqualTo(60_500);
        assertThat(Backoff.FINAL_CODES).contains(4003, 1002, 1009).doesNotContain(1001, 1006, 1011, 4001, 4002, 4029);
    }
}
