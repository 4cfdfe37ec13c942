package dev.parley.chat;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class TypingPaceTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final TypingPace pace = new TypingPace(now::get);

    @Test
    void one_typing_a_second_per_user_and_room_passes() {
        assertThat(pace.pass("ops", "alice")).isTrue();
        assertThat(pace.pass("ops", "alice")).as("from another connection, the same moment").isFalse();
        assertThat(pace.pass("ops", "bob")).as("another user").isTrue();
        assertThat(pace.pass("dev", "alice")).as("another room").isTrue();
        now.addAndGet(TypingPace.EVERY_MILLIS - 1);
        assertThat(pace.pass("ops", "alice")).isFalse();
        now.addAndGet(1);
        assertThat(pace.pass("ops", "alice")).isTrue();
    }

    @Test
    void a_message_ends_the_indicator_so_the_next_typing_passes_at_once() {
        assertThat(pace.pass("ops", "alice")).isTrue();
        pace.sent("ops", "alice");
        assertThat(pace.pass("ops", "alice")).isTrue();
        assertThat(pace.pass("ops", "alice")).isFalse();
        pace.sent("dev", "alice"); // another room's message
        assertThat(pace.pass("ops", "alice")).isFalse();
    }

    @Test
    void what_it_remembers_is_swept_once_stale() {
        for (int i = 0; i <= 10_000; i++) pace.pass("room-" + i, "alice");
        assertThat(pace.remembered()).isEqualTo(10_001);
        now.addAndGet(TypingPace.EVERY_MILLIS);
        pace.pass("ops", "carol");
        assertThat(pace.remembered()).isEqualTo(1);
    }
}
