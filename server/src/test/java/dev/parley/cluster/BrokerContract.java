package dev.parley.cluster;

import dev.parley.broker.Broker;
import dev.parley.event.RoomEvent;
import dev.parley.event.Message;
import dev.parley.testing.Await;
import dev.parley.testing.Futures;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every {@link Broker} promises, run against each implementation. Cross-node tests run only for
 * a distributed broker; each test uses rooms of its own.
 */
interface BrokerContract {
    Duration WAIT = Duration.ofSeconds(10);

    /** A started broker of a new node of one cluster (the same cluster for every call in a test), closed after the test. */
    Node newNode();

    record Node(Broker broker, Events events) {}

    /** What a node's handler received, in order. */
    final class Events implements Consumer<RoomEvent> {
        private final List<RoomEvent> list = new ArrayList<>();

        @Override
        public synchronized void accept(RoomEvent e) {
            list.add(e);
        }

        public synchronized List<RoomEvent> all() {
            return new ArrayList<>(list);
        }

        public List<RoomEvent> matching(Predicate<RoomEvent> p) {
            return all().stream().filter(p).toList();
        }

        public long count(Predicate<RoomEvent> p) {
            return all().stream().filter(p).count();
        }

        public void await(String what, Predicate<RoomEvent> p) {
            Await.until(what, WAIT, () -> count(p) > 0);
        }
    }

    static String room(String base) {
        return base + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    }

    static Message message(String room, long seq, String text) {
        return new Message(room, seq, "id-" + room + "-" + seq, "alice", text, 1_700_000_000_123L + seq, "c-" + seq);
    }

    static Predicate<RoomEvent> typing(String room, String user) {
        return e -> e instanceof RoomEvent.Typing t && t.room().equals(room) && t.user().equals(user);
    }

    /**
     * Publishes probes from {@code from} until {@code to} receives one: its subscription to the room is
     * live. The probes of each call are its own, so that a probe of an earlier call still on its way
     * cannot make a later call return before the subscription it waits for is live.
     */
    static void awaitSubscribed(Node from, Node to, String room) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String tag = "probe-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "-";
        for (int i = 0; ; i++) {
            String probe = tag + i;
            from.broker().publish(new RoomEvent.Typing(room, probe));
            long until = System.nanoTime() + Duration.ofMillis(100).toNanos();
            while (System.nanoTime() < until) {
                if (to.events().count(e -> e instanceof RoomEvent.Typing t && t.room().equals(room) && t.user().startsWith(tag)) > 0) return;
                Thread.onSpinWait();
            }
            if (System.nanoTime() > deadline) throw new AssertionError("the subscription to " + room + " did not become live within " + WAIT);
        }
    }

    @Test
    default void publish_never_hands_the_event_to_this_nodes_own_handler() {
        Node a = newNode();
        Node b = a.broker().distributed() ? newNode() : null;
        String room = room("own");
        a.broker().subscribe(room);
        if (b != null) {
            b.broker().subscribe(room);
            awaitSubscribed(a, b, room);
        }
        a.broker().publish(new RoomEvent.Typing(room, "bob"));
        if (b != null) {
            b.events().await("bob typing at b", typing(room, "bob"));
            // Redis sent a's echo to a before b's marker, on the same subscription.
            awaitSubscribed(b, a, room);
        }
        assertThat(a.events().count(typing(room, "bob"))).as("the node delivers its own events itself").isZero();
    }

    @Test
    default void every_kind_of_event_arrives_intact_on_every_other_node() {
        Node a = newNode();
        assumeTrue(a.broker().distributed(), "a single-node broker has no other nodes");
        Node b = newNode();
        String room = room("kinds");
        a.broker().subscribe(room);
        b.broker().subscribe(room);
        awaitSubscribed(a, b, room);
        Message m = message(room, 7, "héllo ✓ \"quoted\"\n\ttab 𝄞");
        a.broker().publish(new RoomEvent.MessageCommitted(m));
        a.broker().publish(new RoomEvent.PresenceChanged(room, "carol", true));
        a.broker().publish(new RoomEvent.PresenceChanged(room, "carol", false));
        a.broker().publish(new RoomEvent.Typing(room, "dave"));
        b.events().await("the typing event", typing(room, "dave"));

        List<RoomEvent> got = b.events().matching(e -> e.room().equals(room) && !(e instanceof RoomEvent.Typing t && t.user().startsWith("probe-")));
        assertThat(got).hasSize(4);
        Message r = ((RoomEvent.MessageCommitted) got.get(0)).message();
        assertThat(List.of(r.room(), r.seq(), r.id(), r.from(), r.text(), r.tsMillis(), r.clientId()))
                .isEqualTo(List.of(m.room(), m.seq(), m.id(), m.from(), m.text(), m.tsMillis(), m.clientId()));
        assertThat(got.subList(1, 4)).containsExactly(
                new RoomEvent.PresenceChanged(room, "carol", true),
                new RoomEvent.PresenceChanged(room, "carol", false),
                new RoomEvent.Typing(room, "dave"));
    }

    @Test
    default void a_node_receives_other_nodes_events_only_for_rooms_it_subscribed_to() {
        Node a = newNode();
        assumeTrue(a.broker().distributed(), "a single-node broker has no other nodes");
        Node b = newNode();
        String joined = room("joined"), other = room("other");
        b.broker().subscribe(joined);
        awaitSubscribed(a, b, joined);
        a.broker().publish(new RoomEvent.Typing(other, "x"));
        a.broker().publish(new RoomEvent.Typing(joined, "y"));
        b.events().await("y typing", typing(joined, "y"));
        assertThat(b.events().count(e -> e.room().equals(other))).isZero();

        b.broker().unsubscribe(joined);
        String marker = room("marker");
        b.broker().subscribe(marker);
        awaitSubscribed(a, b, marker); // the unsubscribe went before this subscribe, on the same connection
        a.broker().publish(new RoomEvent.Typing(joined, "after-unsubscribe"));
        a.broker().publish(new RoomEvent.Typing(marker, "end"));
        b.events().await("the end marker", typing(marker, "end"));
        assertThat(b.events().count(typing(joined, "after-unsubscribe"))).isZero();
    }

    @Test
    default void a_node_never_gets_its_own_events_back_as_an_echo() {
        Node a = newNode();
        Node b = a.broker().distributed() ? newNode() : null;
        String room = room("echo");
        a.broker().subscribe(room);
        if (b != null) {
            b.broker().subscribe(room);
            awaitSubscribed(b, a, room);
            awaitSubscribed(a, b, room);
        }
        a.broker().publish(new RoomEvent.MessageCommitted(message(room, 1, "mine")));
        if (b != null) {
            b.events().await("a's message at b", e -> e instanceof RoomEvent.MessageCommitted);
            // Redis sent a's echo to a before b's marker, on the same subscription.
            b.broker().publish(new RoomEvent.Typing(room, "marker"));
            a.events().await("b's marker at a", typing(room, "marker"));
        }
        assertThat(a.events().count(e -> e instanceof RoomEvent.MessageCommitted)).isZero();
    }

    @Test
    default void events_from_one_node_arrive_at_another_in_the_order_they_were_published() {
        Node a = newNode();
        assumeTrue(a.broker().distributed(), "a single-node broker has no other nodes");
        Node b = newNode();
        String room = room("order");
        b.broker().subscribe(room);
        awaitSubscribed(a, b, room);
        int n = 300;
        for (int i = 1; i <= n; i++) a.broker().publish(new RoomEvent.MessageCommitted(message(room, i, "m" + i)));
        Await.until(n + " messages at b", WAIT, () -> b.events().count(e -> e instanceof RoomEvent.MessageCommitted) >= n);
        List<Long> seqs = b.events().matching(e -> e instanceof RoomEvent.MessageCommitted).stream()
                .map(e -> ((RoomEvent.MessageCommitted) e).message().seq()).toList();
        assertThat(seqs).hasSize(n).isSorted().doesNotHaveDuplicates();
    }

    @Test
    default void a_room_stays_subscribed_until_every_subscribe_is_matched_by_an_unsubscribe() {
        Node a = newNode();
        assumeTrue(a.broker().distributed(), "a single-node broker has no other nodes");
        Node b = newNode();
        String room = room("counted");
        // As when a room's last member leaves while a new first member joins, on two threads.
        b.broker().subscribe(room);
        b.broker().subscribe(room);
        b.broker().unsubscribe(room);
        awaitSubscribed(a, b, room);
        a.broker().publish(new RoomEvent.Typing(room, "still-here"));
        b.events().await("an event after one of two unsubscribes", typing(room, "still-here"));
    }

    @Test
    default void publish_after_close_does_not_throw() {
        Node a = newNode();
        Futures.await(a.broker().close());
        a.broker().publish(new RoomEvent.Typing(room("closed"), "x"));
        a.broker().subscribe(room("closed"));
    }
}
