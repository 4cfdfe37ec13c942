package dev.parley.store;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The writer's decision to let appends gather, on a clock the test moves (nanoseconds). */
class LingerTest {
    private static final long MS = 1_000_000L;

    @Test
    void a_quiet_store_commits_at_once() {
        Linger linger = new Linger(MS, 0);
        assertThat(linger.waitNanos(0, 0)).isZero();
        linger.taken(1);
        // 20 appends a second: 0.02 expected during one millisecond, not worth waiting for.
        for (long t = 50 * MS; t <= 1000 * MS; t += 50 * MS) {
            assertThat(linger.waitNanos(t, t)).as("at %d ms", t / MS).isZero();
            linger.taken(1);
        }
    }

    @Test
    void a_busy_store_waits_until_the_oldest_append_is_linger_old() {
        Linger linger = new Linger(MS, 0);
        long t = busyFor100ms(linger);
        // Ten are expected during the next millisecond: the batch waits out the linger, counted
        // from when its oldest append was queued, not from now.
        assertThat(linger.waitNanos(t, t)).isEqualTo(MS);
        assertThat(linger.waitNanos(t - MS / 4, t)).isEqualTo(3 * MS / 4);
        assertThat(linger.waitNanos(t - 2 * MS, t)).as("already older than the linger").isZero();
    }

    @Test
    void the_first_append_after_a_pause_is_not_held() {
        Linger linger = new Linger(MS, 0);
        long t = busyFor100ms(linger);
        assertThat(linger.waitNanos(t, t)).isPositive();
        linger.taken(5);
        // Ten seconds of silence: the window that closes now holds five appends over ten seconds.
        long later = t + 10_000 * MS;
        assertThat(linger.waitNanos(later, later)).isZero();
    }

    @Test
    void zero_turns_it_off() {
        Linger linger = new Linger(0, 0);
        for (long t = 0; t < 200 * MS; t += MS / 2) {
            assertThat(linger.waitNanos(t, t)).isZero();
            linger.taken(50);
        }
    }

    /** 10,000 appends a second, committed 5 at a time every half millisecond, for 100 ms; returns the time after. */
    private static long busyFor100ms(Linger linger) {
        long t = 0;
        for (; t < 100 * MS; t += MS / 2) {
            linger.waitNanos(t, t);
            linger.taken(5);
        }
        return t;
    }
}
