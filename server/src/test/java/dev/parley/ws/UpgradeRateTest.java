package dev.parley.ws;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The node's rate of WebSocket upgrades (CHAT_UPGRADE_RATE), on a clock the test moves. */
class UpgradeRateTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private void advanceMillis(long millis) {
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @Test
    void a_burst_of_one_seconds_worth_passes_then_the_next_is_refused_until_a_token_comes_back() {
        UpgradeRate rate = new UpgradeRate(10, now::get);
        for (int i = 0; i < 10; i++) assertThat(rate.admit()).as("upgrade %d of the burst", i).isZero();
        assertThat(rate.admit()).as("past the burst").isEqualTo(1);
        advanceMillis(100);
        assertThat(rate.admit()).as("a tenth of a second later, one token").isZero();
        assertThat(rate.admit()).isPositive();
    }

    @Test
    void the_refusals_of_one_moment_are_given_turns_a_seconds_worth_a_second_not_all_the_same_second() {
        UpgradeRate rate = new UpgradeRate(100, now::get);
        for (int i = 0; i < 100; i++) rate.admit();
        List<Integer> waits = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) waits.add(rate.admit());

        assertThat(waits).allMatch(w -> w >= 1 && w <= 11);
        assertThat(waits).isSorted();
        // about a hundred told each number of seconds: what the bucket gives back in a second
        for (int s = 2; s <= 10; s++) {
            int second = s;
            assertThat(waits.stream().filter(w -> w == second).count()).as("told to wait %d s", s).isBetween(99L, 101L);
        }
    }

    @Test
    void no_refusal_is_told_to_wait_more_than_a_minute_and_turns_start_again_from_now_once_passed() {
        UpgradeRate rate = new UpgradeRate(1, now::get);
        rate.admit();
        int last = 0;
        for (int i = 0; i < 500; i++) last = rate.admit();
        assertThat(last).isEqualTo(UpgradeRate.MAX_RETRY_AFTER_SECONDS);

        advanceMillis(120_000);
        assertThat(rate.admit()).as("the bucket refilled meanwhile").isZero();
        assertThat(rate.admit()).as("a turn counted from now, not from the minute told before").isEqualTo(1);
    }

    @Test
    void a_rate_under_one_a_second_still_lets_one_upgrade_through() {
        UpgradeRate rate = new UpgradeRate(0.01, now::get);
        assertThat(UpgradeRate.burstOf(0.01)).isEqualTo(1);
        assertThat(rate.admit()).isZero();
        assertThat(rate.admit()).isEqualTo(60); // the next token is 100 s away; a turn says a minute at most
    }
}
