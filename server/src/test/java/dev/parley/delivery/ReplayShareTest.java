package dev.parley.delivery;

import dev.parley.event.Message;
import dev.parley.event.RoomChange;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReplayShareTest {
    private static Message read(long seq, String text, Message.State state) {
        return new Message("lobby", seq, "id-" + seq, "bob", text, 1_000, "c-" + seq, null, 0, state);
    }

    @Test
    void a_second_read_of_the_same_messages_gets_the_first_reads_instances() {
        ReplayShare share = new ReplayShare();
        List<Message> first = share.share(List.of(read(1, "one", null), read(2, "two", null)));
        List<Message> second = share.share(List.of(read(2, "two", null), read(3, "three", null)));

        assertThat(second.get(0)).isSameAs(first.get(1));
        assertThat(second.get(1).seq()).isEqualTo(3);
        assertThat(share.share(List.of(read(3, "three", null))).get(0)).isSameAs(second.get(1));
    }

    @Test
    void a_message_read_again_after_a_change_is_not_the_old_one_and_replaces_it() {
        ReplayShare share = new ReplayShare();
        Message before = share.share(List.of(read(1, "helo", null))).get(0);

        Message edited = share.share(List.of(read(1, "hello", new Message.State(5_000, false, List.of(), 2)))).get(0);
        assertThat(edited).isNotSameAs(before);
        assertThat(edited.text()).isEqualTo("hello");
        assertThat(share.share(List.of(read(1, "hello", new Message.State(5_000, false, List.of(), 2)))).get(0)).isSameAs(edited);

        Message reacted = share.share(List.of(read(1, "hello", new Message.State(5_000, false,
                List.of(new Message.Reaction("👍", 1, List.of("amy"))), 3)))).get(0);
        assertThat(reacted).isNotSameAs(edited);
        // Text rewritten without a new state (an old edit event losing its words): not shared either.
        Message rewritten = share.share(List.of(read(1, "bob edited message 1", new Message.State(5_000, false,
                List.of(new Message.Reaction("👍", 1, List.of("amy"))), 3)))).get(0);
        assertThat(rewritten).isNotSameAs(reacted);
    }

    @Test
    void an_event_whose_data_changed_is_not_shared() {
        ReplayShare share = new ReplayShare();
        Message withText = new Message("lobby", 4, "id-4", "amy", "amy edited message 1", 1_000, "event-4", RoomChange.edited(1, "hello"));
        Message without = new Message("lobby", 4, "id-4", "amy", "amy edited message 1", 1_000, "event-4", RoomChange.edited(1, null));
        Message first = share.share(List.of(withText)).get(0);
        assertThat(share.share(List.of(without)).get(0)).isNotSameAs(first).isSameAs(without);
    }

    @Test
    void another_seq_in_the_same_slot_is_not_taken_for_it() {
        ReplayShare share = new ReplayShare();
        Message one = share.share(List.of(read(1, "one", null))).get(0);
        Message other = read(1 + ReplayShare.SLOTS, "one", null);
        assertThat(share.share(List.of(other)).get(0)).isSameAs(other);
        assertThat(share.share(List.of(read(1, "one", null))).get(0)).as("the slot was taken over").isNotSameAs(one);
    }
}
