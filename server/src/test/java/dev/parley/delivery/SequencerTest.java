package dev.parley.delivery;

import dev.parley.event.Message;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The room's order, case by case; {@link SequencerProperties} checks it under random interleavings. */
class SequencerTest {
    private final Sequencer<String> order = new Sequencer<>();
    private final List<String> sent = new ArrayList<>();
    private final Sequencer.Out<String> out = (member, m) -> sent.add(member + ":" + m.seq());

    private static Message m(long seq) {
        return new Message("r", seq, "id" + seq, "u", "t", seq, "c" + seq);
    }

    private List<Message> range(long from, long to) {
        List<Message> ms = new ArrayList<>();
        for (long s = from + 1; s <= to; s++) ms.add(m(s));
        return ms;
    }

    @Test
    void nothing_is_delivered_before_the_first_join_tells_where_the_room_stands() {
        Sequencer.Stream<String> a = order.add("a");
        assertThat(order.offer(m(6), out)).as("no gap can be known yet").isFalse();
        assertThat(sent).isEmpty();

        assertThat(order.open(a, 5, 5, List.of(), out)).isEqualTo(Sequencer.Opened.OPENED);
        assertThat(sent).containsExactly("a:6");
        assertThat(order.last()).isEqualTo(6);
    }

    @Test
    void an_early_message_waits_for_the_missing_one_and_a_duplicate_is_dropped() {
        Sequencer.Stream<String> a = order.add("a");
        order.open(a, 0, 0, List.of(), out);

        assertThat(order.offer(m(2), out)).as("seq 1 is missing").isTrue();
        assertThat(order.hasGap()).isTrue();
        assertThat(order.offer(m(1), out)).isFalse();
        assertThat(order.offer(m(1), out)).isFalse();
        assertThat(order.offer(m(2), out)).isFalse();

        assertThat(sent).containsExactly("a:1", "a:2");
        assertThat(order.hasGap()).isFalse();
    }

    @Test
    void a_joining_member_gets_its_replay_then_what_came_meanwhile_each_once() {
        Sequencer.Stream<String> live = order.add("live");
        order.open(live, 3, 3, List.of(), out);
        Sequencer.Stream<String> late = order.add("late"); // registered: joining
        order.offer(m(4), out);                              // live gets it; late keeps it
        order.offer(m(5), out);
        assertThat(late.joining()).isTrue();

        // late's read ran after 4 was committed: the store said 4, and late asked since 1
        order.open(late, 4, 1, range(1, 4), out);

        assertThat(sent).containsExactly("live:4", "live:5", "late:2", "late:3", "late:4", "late:5");
        assertThat(late.joining()).isFalse();
        assertThat(late.lastSent()).isEqualTo(5);
    }

    @Test
    void a_room_behind_the_store_says_so_when_a_join_opens() {
        Sequencer.Stream<String> a = order.add("a");
        order.open(a, 3, 3, List.of(), out);
        Sequencer.Stream<String> b = order.add("b");
        assertThat(order.open(b, 7, 7, List.of(), out)).as("seqs 4 to 7 were never delivered here").isEqualTo(Sequencer.Opened.OPENED_FILL);
        assertThat(order.behind(7)).isTrue();
        assertThat(order.behind(3)).isFalse();
    }

    @Test
    void a_member_removed_gets_nothing_more() {
        Sequencer.Stream<String> a = order.add("a");
        Sequencer.Stream<String> b = order.add("b");
        order.open(a, 0, 0, List.of(), out);
        order.open(b, 0, 0, List.of(), out);
        assertThat(order.remove(a)).isTrue();
        assertThat(order.remove(a)).isFalse();
        order.offer(m(1), out);
        assertThat(sent).containsExactly("b:1");
        assertThat(order.remove(b)).isTrue();
        assertThat(order.isEmpty()).isTrue();
    }

    @Test
    void a_member_whose_read_is_older_than_the_rooms_start_reads_again_and_then_misses_nothing() {
        Sequencer.Stream<String> a = order.add("a");
        Sequencer.Stream<String> b = order.add("b"); // both added before the room's sequence is known
        order.offer(m(11), out);                     // b's read saw 10; 11 and 12 are committed after it
        order.offer(m(12), out);
        assertThat(order.open(a, 12, 12, List.of(), out)).isEqualTo(Sequencer.Opened.OPENED); // a read 12
        order.offer(m(13), out);

        assertThat(order.open(b, 10, 10, List.of(), out)).as("11 and 12 are in neither b's read nor kept for it")
                .isEqualTo(Sequencer.Opened.REREAD);
        assertThat(b.joining()).isTrue();
        assertThat(order.open(b, 13, 10, range(10, 13), out)).isEqualTo(Sequencer.Opened.OPENED);

        assertThat(sent).containsExactly("a:13", "b:11", "b:12", "b:13");
    }

    @Test
    void a_fill_passes_over_what_the_store_no_longer_has_instead_of_waiting_for_it_forever() {
        Sequencer.Stream<String> a = order.add("a");
        order.open(a, 2, 2, List.of(), out);
        order.offer(m(9), out); // seqs 3 to 8 were missed here, and the room was deleted meanwhile
        assertThat(order.hasGap()).isTrue();

        // the store has only 8 (the deletion event) and 9 of (2, 9]: 3 to 7 are gone
        assertThat(order.filled(List.of(m(8), m(9)), 9, out)).isFalse();

        assertThat(sent).containsExactly("a:8", "a:9");
        assertThat(order.hasGap()).isFalse();
        assertThat(order.last()).isEqualTo(9);
        assertThat(order.filled(List.of(), 12, out)).as("an empty read of (9, 12]: all gone").isFalse();
        order.offer(m(13), out);
        assertThat(sent).containsExactly("a:8", "a:9", "a:13");
    }

    @Test
    void a_fill_of_a_store_that_has_everything_delivers_it_as_offers_would() {
        Sequencer.Stream<String> a = order.add("a");
        order.open(a, 0, 0, List.of(), out);
        order.offer(m(4), out);
        assertThat(order.filled(range(0, 3), 3, out)).isFalse();
        assertThat(sent).containsExactly("a:1", "a:2", "a:3", "a:4");
    }
}
