package dev.parley.ws;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which connections the node's outbox budget gives up on: the biggest holders, and only past the budget. */
class OutboxBudgetTest {
    private static final long MIB = 1 << 20;
    private final OutboxBudget budget = new OutboxBudget(100 * MIB);

    private static OutboxBudget.Holder<String> open(String who, long bytes) {
        return new OutboxBudget.Holder<>(who, bytes, false);
    }

    private static OutboxBudget.Holder<String> closing(String who, long bytes) {
        return new OutboxBudget.Holder<>(who, bytes, true);
    }

    @Test
    void within_the_budget_nobody_is_closed() {
        assertThat(budget.toShed(100 * MIB, List.of(open("a", 60 * MIB), open("b", 40 * MIB)))).isEmpty();
    }

    @Test
    void past_the_budget_the_biggest_holders_are_closed_until_a_quarter_of_it_is_free() {
        List<OutboxBudget.Holder<String>> holders = List.of(open("small", MIB), open("big", 50 * MIB), open("idle", 0),
                open("bigger", 60 * MIB), open("medium", 20 * MIB));

        // 131 MiB: closing "bigger" leaves 71, within three quarters (75).
        assertThat(budget.toShed(131 * MIB, holders)).containsExactly("bigger");
        // 160 MiB (more than the holders listed: frames of connections gone from the list): bigger, then big.
        assertThat(budget.toShed(160 * MIB, holders)).containsExactly("bigger", "big");
    }

    @Test
    void bytes_of_outboxes_already_closing_count_as_gone_and_they_are_not_chosen_again() {
        List<OutboxBudget.Holder<String>> holders = List.of(closing("going", 70 * MIB), open("a", 30 * MIB), open("b", 20 * MIB));

        assertThat(budget.toShed(120 * MIB, holders)).as("50 MiB left once it has gone: within the budget").isEmpty();
        assertThat(budget.toShed(190 * MIB, holders)).as("120 left: a takes it to 90, b to 70").containsExactly("a", "b");
    }

    @Test
    void when_every_holder_is_closed_and_the_sum_is_still_high_nothing_more_can_be_done() {
        assertThat(budget.toShed(500 * MIB, List.of(open("a", 10 * MIB), open("b", 5 * MIB)))).containsExactly("a", "b");
    }

    @Test
    void a_big_frame_past_the_budget_asks_for_the_check_once_until_it_runs() {
        List<String> asked = new java.util.ArrayList<>();
        budget.onPassed(() -> asked.add("check"));

        budget.add(100 * MIB);
        budget.bigFrameQueued();
        assertThat(asked).as("within the budget").isEmpty();

        budget.add(1);
        budget.bigFrameQueued();
        budget.bigFrameQueued();
        assertThat(asked).as("asked once while one is pending").hasSize(1);

        budget.checking();
        budget.bigFrameQueued();
        assertThat(asked).hasSize(2);
    }

    @Test
    void it_sums_what_outboxes_add_and_take_back_from_any_thread() throws InterruptedException {
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10_000; i++) {
                    budget.add(100);
                    budget.add(-100);
                }
                budget.add(7);
            });
        }
        for (Thread t : threads) t.join();
        assertThat(budget.queued()).isEqualTo(28);
        assertThat(budget.limit()).isEqualTo(100 * MIB);
        assertThatThrownBy(() -> new OutboxBudget(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
