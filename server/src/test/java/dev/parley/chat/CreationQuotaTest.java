package dev.parley.chat;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The quota of rooms a user makes (PROTOCOL.md section 12): that many at once, then one every 60/N minutes. */
class CreationQuotaTest {
    private static final long MINUTE = 60_000_000_000L;
    private final AtomicLong clock = new AtomicLong(1_000);

    @Test
    void a_user_makes_the_quota_at_once_then_waits_for_the_next_one() {
        CreationQuota q = new CreationQuota(3, clock::get);
        for (int i = 0; i < 3; i++) assertThat(q.take("alice")).as("room %d", i + 1).isZero();

        long wait = q.take("alice");

        assertThat(wait).as("one room every 20 minutes").isBetween(19 * 60_000L, 20 * 60_000L);
        clock.addAndGet(20 * MINUTE);
        assertThat(q.take("alice")).isZero();
        assertThat(q.take("alice")).isPositive();
    }

    @Test
    void users_are_counted_apart_and_in_any_letter_case() {
        CreationQuota q = new CreationQuota(1, clock::get);
        assertThat(q.take("Alice")).isZero();
        assertThat(q.take("alice")).as("the same user").isPositive();
        assertThat(q.take("bob")).isZero();
    }

    @Test
    void zero_means_no_limit() {
        CreationQuota q = new CreationQuota(0, clock::get);
        for (int i = 0; i < 10_000; i++) assertThat(q.take("bot")).isZero();
        assertThat(q.tracked()).isZero();
    }

    @Test
    void users_whose_quota_filled_up_again_are_forgotten() {
        CreationQuota q = new CreationQuota(2, clock::get);
        for (int i = 0; i < 1_100; i++) q.take("old" + i);
        clock.addAndGet(60 * MINUTE);
        for (int i = 0; i < 1_100; i++) q.take("new" + i); // the map doubles: a sweep

        assertThat(q.tracked()).as("the new users only").isEqualTo(1_100);
    }
}
