package dev.parley.webhook;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The wait before a failing webhook's next try: doubling from the base, at most an hour, less up to half of it at random. */
class BackoffTest {
    @Test
    void each_failure_doubles_the_wait_up_to_an_hour_of_which_a_random_half_is_taken_off() {
        for (int i = 0; i < 200; i++) {
            assertThat(WebhookDispatcher.backoff(10_000, 1)).isBetween(5_000L, 10_000L);
            assertThat(WebhookDispatcher.backoff(10_000, 2)).isBetween(10_000L, 20_000L);
            assertThat(WebhookDispatcher.backoff(10_000, 9)).isBetween(1_280_000L, 2_560_000L);
            assertThat(WebhookDispatcher.backoff(10_000, 10)).isBetween(1_800_000L, 3_600_000L); // 5,120 s, capped
            assertThat(WebhookDispatcher.backoff(10_000, 100)).isBetween(1_800_000L, 3_600_000L);
            assertThat(WebhookDispatcher.backoff(50, 1)).isBetween(25L, 50L);
        }
    }
}
