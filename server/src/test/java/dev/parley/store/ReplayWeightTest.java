package dev.parley.store;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** When a join's replay must be weighed against its byte bound, and when it cannot pass it (no query then). */
class ReplayWeightTest {
    @Test
    void a_replay_is_weighed_only_when_its_messages_at_the_longest_could_pass_the_bound() {
        long bound = 2 * 1024 * 1024, one = MessageReads.weightOf(4000); // 12,256 bytes
        long fit = bound / one; // 171
        assertThat(MessageStore.replayMayExceed(fit, 4000, bound)).isFalse();
        assertThat(MessageStore.replayMayExceed(fit + 1, 4000, bound)).isTrue();
        assertThat(MessageStore.replayMayExceed(1000, 4000, Long.MAX_VALUE)).as("no bound").isFalse();
        // A short text limit does not make events (up to EVENT_TEXT_MAX characters) weigh less.
        assertThat(MessageStore.replayMayExceed(bound / MessageReads.weightOf(MessageReads.EVENT_TEXT_MAX) + 1, 10, bound)).isTrue();
    }
}
