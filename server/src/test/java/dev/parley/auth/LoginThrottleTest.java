package dev.parley.auth;

import dev.parley.auth.LoginThrottle.Reason;
import dev.parley.auth.LoginThrottle.Refusal;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The login throttle's rules, on a clock moved by hand (LocalAttempts; RedisAttemptsTest runs the same rules in Redis). */
class LoginThrottleTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final LocalAttempts attempts = new LocalAttempts(now::get, 1000);
    private final LoginThrottle throttle = new LoginThrottle(attempts, 50, 3);

    private Refusal login(String user, String address) {
        return throttle.login(user, address).toCompletableFuture().join();
    }

    private Refusal register(String address) {
        return throttle.register(address).toCompletableFuture().join();
    }

    private void seconds(long s) {
        now.addAndGet(s * 1000);
    }

    /**
     * Two attempts at once: the one whose thread read the clock first may be counted second, seeing
     * a last attempt "after" its now. Within the free attempts that is no wait (the bench's parallel
     * sign-ups were once refused "for 1 s" by it).
     */
    @Test
    void an_attempt_counted_after_a_later_one_within_the_free_attempts_goes_at_once() {
        AttemptCounter.Rule rule = new AttemptCounter.Rule(1000, 60_000, 60_000, 3_600_000);
        assertThat(attempts.count("r:10.0.0.1", rule)).isZero();
        now.addAndGet(5);
        assertThat(attempts.count("r:10.0.0.1", rule)).isZero();
        now.addAndGet(-3); // the racing thread's earlier reading of the clock
        assertThat(attempts.count("r:10.0.0.1", rule)).as("not refused for the 3 ms between the two readings").isZero();
        // and the last attempt stays the later one: past the free attempts the wait runs from it
        AttemptCounter.Rule one = new AttemptCounter.Rule(1, 60_000, 1000, 60_000);
        assertThat(attempts.count("r:10.0.0.2", one)).isZero();
        now.addAndGet(500);
        assertThat(attempts.count("r:10.0.0.2", one)).isEqualTo(500);
    }

    @Test
    void after_ten_attempts_at_one_username_each_next_one_waits_twice_as_long_up_to_a_minute() {
        for (int i = 0; i < 10; i++) assertThat(login("alice", "10.0.0." + i)).as("attempt %d", i + 1).isNull();

        assertThat(login("alice", "10.0.1.1")).isEqualTo(new Refusal(Reason.USERNAME, 1));
        assertThat(login("ALICE", "10.0.1.2")).as("the same user, whatever the case").isEqualTo(new Refusal(Reason.USERNAME, 1));
        assertThat(login("bob", "10.0.1.3")).as("another user").isNull();

        long[] waits = {1, 2, 4, 8, 16, 32, 60, 60, 60};
        for (long wait : waits) {
            seconds(wait - 1);
            assertThat(login("alice", "10.0.2.1")).as("a second early").isEqualTo(new Refusal(Reason.USERNAME, 1));
            seconds(1);
            assertThat(login("alice", "10.0.2.1")).as("after %d s", wait).isNull();
        }
    }

    @Test
    void refused_attempts_do_not_push_the_wait_further_out_so_the_owner_is_slowed_not_locked_out() {
        for (int i = 0; i < 16; i++) {
            seconds(60);
            assertThat(login("carol", "10.0.0.1")).isNull();
        }
        // However many refused guesses come meanwhile, a minute after the last counted one the next goes.
        for (int i = 0; i < 59; i++) {
            assertThat(login("carol", "10.9.9." + i)).isNotNull();
            seconds(1);
        }
        seconds(1);
        assertThat(login("carol", "10.0.0.1")).isNull();
    }

    @Test
    void the_right_password_starts_the_count_again_and_five_quiet_minutes_forgive_it() {
        for (int i = 0; i < 9; i++) login("dave", "10.0.0.1");
        throttle.succeeded("Dave", "10.0.0.1");
        for (int i = 0; i < 10; i++) assertThat(login("dave", "10.0.0.1")).isNull();
        assertThat(login("dave", "10.0.0.1")).isNotNull();

        seconds(5 * 60);
        for (int i = 0; i < 10; i++) assertThat(login("dave", "10.0.0.1")).isNull();
    }

    @Test
    void one_address_trying_many_usernames_is_slowed_after_its_own_limit_and_other_addresses_are_not() {
        for (int i = 0; i < 50; i++) assertThat(login("user" + i, "192.0.2.7")).isNull();

        assertThat(login("user-next", "192.0.2.7")).isEqualTo(new Refusal(Reason.ADDRESS, 1));
        assertThat(login("user-next", "192.0.2.8")).isNull();
    }

    @Test
    void an_address_refused_leaves_the_usernames_count_alone() {
        for (int i = 0; i < 50; i++) login("spray" + i, "192.0.2.9");
        for (int i = 0; i < 20; i++) assertThat(login("erin", "192.0.2.9")).extracting(Refusal::reason).isEqualTo(Reason.ADDRESS);

        // erin's own ten attempts are all still there for her.
        for (int i = 0; i < 10; i++) assertThat(login("erin", "198.51.100.1")).isNull();
    }

    @Test
    void a_right_password_takes_its_attempt_off_its_addresss_count() {
        for (int i = 0; i < 200; i++) {
            assertThat(login("office" + (i % 20), "203.0.113.1")).as("login %d behind one address", i).isNull();
            throttle.succeeded("office" + (i % 20), "203.0.113.1");
        }
    }

    @Test
    void registrations_from_one_address_are_slowed_after_its_limit_for_an_hour_at_most() {
        for (int i = 0; i < 3; i++) assertThat(register("198.51.100.2")).isNull();
        assertThat(register("198.51.100.2")).isEqualTo(new Refusal(Reason.ADDRESS, 60));
        assertThat(register("198.51.100.3")).isNull();
        seconds(60);
        assertThat(register("198.51.100.2")).isNull();
        assertThat(register("198.51.100.2")).isEqualTo(new Refusal(Reason.ADDRESS, 120));
    }

    @Test
    void when_no_more_keys_fit_a_new_one_is_refused_rather_than_let_through_uncounted() {
        LocalAttempts small = new LocalAttempts(now::get, 4);
        LoginThrottle tight = new LoginThrottle(small, 50, 3);
        assertThat(tight.login("a1", "10.1.0.1").toCompletableFuture().join()).isNull(); // two keys: the address and the name
        assertThat(tight.login("a2", "10.1.0.1").toCompletableFuture().join()).isNull(); // one more: the name
        assertThat(tight.login("a3", "10.1.0.1").toCompletableFuture().join()).isNull(); // four
        assertThat(small.size()).isEqualTo(4);

        assertThat(tight.login("a4", "10.1.0.1").toCompletableFuture().join()).isEqualTo(new Refusal(Reason.FULL, LoginThrottle.FULL_RETRY_SECONDS));
        assertThat(tight.login("a1", "10.1.0.1").toCompletableFuture().join()).as("keys it holds are still counted").isNull();

        seconds(5 * 60); // every key has been left alone for its window: swept to make room
        assertThat(tight.login("a4", "10.1.0.1").toCompletableFuture().join()).isNull();
        assertThat(small.size()).isEqualTo(2);
    }

    @Test
    void the_delay_doubles_from_the_base_up_to_the_cap() {
        AttemptCounter.Rule rule = new AttemptCounter.Rule(2, 300_000, 1000, 60_000);
        assertThat(rule.delayAfter(0)).isZero();
        assertThat(rule.delayAfter(1)).isZero();
        assertThat(rule.delayAfter(2)).isEqualTo(1000);
        assertThat(rule.delayAfter(3)).isEqualTo(2000);
        assertThat(rule.delayAfter(8)).isEqualTo(60_000);
        assertThat(rule.delayAfter(Integer.MAX_VALUE)).isEqualTo(60_000);
    }
}
