package dev.parley.auth;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class LoginThrottleTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final LoginThrottle throttle = new LoginThrottle(now::get);

    @Test
    void ten_attempts_without_success_then_refused_until_the_window_is_over() {
        for (int i = 0; i < LoginThrottle.MAX_FAILURES; i++) assertThat(throttle.attempt("alice")).as("attempt %d", i + 1).isZero();

        now.addAndGet(60_000_000_000L); // a minute later
        assertThat(throttle.attempt("alice")).isEqualTo(240);
        assertThat(throttle.attempt("ALICE")).as("the same user, whatever the case").isPositive();
        assertThat(throttle.attempt("bob")).as("another user").isZero();

        now.addAndGet(240_000_000_000L); // five minutes after the first attempt
        assertThat(throttle.attempt("alice")).isZero();
    }

    @Test
    void the_right_password_starts_the_count_again() {
        for (int i = 0; i < LoginThrottle.MAX_FAILURES - 1; i++) throttle.attempt("carol");
        throttle.succeeded("Carol");
        for (int i = 0; i < LoginThrottle.MAX_FAILURES; i++) assertThat(throttle.attempt("carol")).isZero();
        assertThat(throttle.attempt("carol")).isPositive();
    }
}
