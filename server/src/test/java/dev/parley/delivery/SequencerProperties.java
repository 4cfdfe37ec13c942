package dev.parley.delivery;

import dev.parley.event.Message;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The room's order under random interleavings of what happens on a node: messages committed (some
 * lost by the broker), the broker delivering them late, reordered and twice, gap fills reading the
 * store, clients joining with and without {@code since}, their joins' store reads completing at any
 * later moment, resumes and leaves. Whatever the interleaving, every client gets every seq of its
 * session exactly once, in order, and after a last fill it has the room's newest message.
 *
 * <p>The model drives {@link Sequencer} the way {@code RoomHub} and {@code Delivery} do: a join
 * registers first and opens with what the store held when its read ran; a fill reads from the last
 * seq delivered, at most the replay limit at a time.
 */
class SequencerProperties {
    sealed interface Step {}

    /** The next message is committed; the broker loses it if {@code lost}. */
    record Commit(boolean lost) implements Step {}

    /** The broker delivers one of the messages it has in flight; {@code again}: it will deliver it again later. */
    record Broker(int pick, boolean again) implements Step {}

    /** A gap fill reads the store from the last seq delivered. */
    record Fill() implements Step {}

    /** A client joins, with since (its last seq, or 0 for the first join) or without. */
    record Join(int client, boolean withSince) implements Step {}

    /** A joining client's store read runs now (what it finds is used when the join opens). */
    record Read(int client) implements Step {}

    /** A joining client's join opens with the read it made (or one made now, if it made none). */
    record Open(int client) implements Step {}

    /** A client's connection drops and it joins again with since = the last seq it received. */
    record Resume(int client) implements Step {}

    record Leave(int client) implements Step {}

    /** One client of the room, across its resumes. */
    static final class Client {
        final int id;
        Sequencer.Stream<Client> stream; // null while not in the room
        Long since;
        StoreRead read; // made, and not used yet
        boolean sessionRecovered = true; // false once a resume was cut at the replay limit
        final List<Long> received = new ArrayList<>();
        long sessionStart = -1; // the seq after which this session's messages start

        Client(int id) {
            this.id = id;
        }
    }

    /** What a join's read of the store found. */
    record StoreRead(long last, long from, List<Message> replay, boolean recovered) {}

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Integer> clients = Arbitraries.integers().between(0, 3);
        Arbitrary<Step> step = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.of(true, false, false, false).map(Commit::new)),
                net.jqwik.api.Tuple.of(6, Combinators.combine(Arbitraries.integers().between(0, 1000), Arbitraries.of(false, false, true)).as(Broker::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Fill())),
                net.jqwik.api.Tuple.of(2, Combinators.combine(clients, Arbitraries.of(true, false)).as(Join::new)),
                net.jqwik.api.Tuple.of(2, clients.map(Read::new)),
                net.jqwik.api.Tuple.of(2, clients.map(Open::new)),
                net.jqwik.api.Tuple.of(1, clients.map(Resume::new)),
                net.jqwik.api.Tuple.of(1, clients.map(Leave::new)));
        return step.list().ofMaxSize(150);
    }

    @Property(tries = 2000)
    void every_client_gets_every_seq_of_its_session_once_and_in_order(@ForAll("steps") List<Step> steps,
                                                                     @ForAll @IntRange(min = 1, max = 8) int replayLimit) {
        Room room = new Room(replayLimit);
        for (Step s : steps) room.apply(s);
        room.settle();

        for (Client c : room.clients.values()) {
            if (c.stream == null || c.sessionStart < 0) continue;
            List<Long> got = c.received;
            assertThat(got).as("client %d: no seq twice, increasing", c.id).isSorted().doesNotHaveDuplicates();
            if (c.sessionRecovered) {
                List<Long> expected = new ArrayList<>();
                for (long q = c.sessionStart + 1; q <= room.committed.size(); q++) expected.add(q);
                assertThat(got).as("client %d: every seq after %d, in order", c.id, c.sessionStart).isEqualTo(expected);
            } else {
                assertThat(got).as("client %d: up to the newest", c.id).isNotEmpty().last().isEqualTo((long) room.committed.size());
            }
        }
    }

    /** One room on one node, with the store and the broker around it. */
    static final class Room {
        final int replayLimit;
        Sequencer<Client> order = new Sequencer<>(); // a new one when the last member leaves, as the hub forgets the room
        final List<Message> committed = new ArrayList<>(); // the store: seq n at index n-1
        final List<Message> inFlight = new ArrayList<>();   // the broker's
        final Map<Integer, Client> clients = new HashMap<>();
        final Sequencer.Out<Client> out = (client, m) -> client.received.add(m.seq());

        Room(int replayLimit) {
            this.replayLimit = replayLimit;
        }

        void apply(Step step) {
            switch (step) {
                case Commit c -> {
                    long seq = committed.size() + 1;
                    Message m = new Message("r", seq, "id" + seq, "u", "t" + seq, seq, "c" + seq);
                    committed.add(m);
                    if (!c.lost()) inFlight.add(m);
                }
                case Broker b -> {
                    if (inFlight.isEmpty()) return;
                    int i = b.pick() % inFlight.size();
                    Message m = b.again() ? inFlight.get(i) : inFlight.remove(i);
                    if (!order.isEmpty()) order.offer(m, out); // a room with no member here is not tracked
                }
                case Fill f -> fill();
                case Join j -> {
                    Client c = clients.computeIfAbsent(j.client(), Client::new);
                    if (c.stream != null) return; // in the room already: the connection would not join twice here
                    c.received.clear();
                    c.sessionStart = -1;
                    c.sessionRecovered = true;
                    c.since = j.withSince() ? 0L : null;
                    c.read = null;
                    c.stream = order.add(c);
                }
                case Read r -> {
                    Client c = clients.get(r.client());
                    if (c != null && c.stream != null && c.stream.joining() && c.read == null) c.read = read(c);
                }
                case Open o -> {
                    Client c = clients.get(o.client());
                    if (c != null && c.stream != null && c.stream.joining()) open(c);
                }
                case Resume r -> {
                    Client c = clients.get(r.client());
                    if (c == null || c.stream == null || c.stream.joining()) return;
                    removeMember(c);
                    c.since = c.received.isEmpty() ? c.sessionStart : c.received.get(c.received.size() - 1);
                    c.read = null;
                    c.stream = order.add(c);
                }
                case Leave l -> {
                    Client c = clients.get(l.client());
                    if (c == null || c.stream == null) return;
                    removeMember(c);
                    c.stream = null;
                }
            }
        }

        void removeMember(Client c) {
            order.remove(c.stream);
            if (order.isEmpty()) order = new Sequencer<>();
        }

        /** The join's store read, as Delivery makes it: the room's last seq now, and what the client missed. */
        StoreRead read(Client c) {
            long last = committed.size();
            long from = last;
            List<Message> replay = List.of();
            if (c.since != null && c.since < last) {
                from = Math.max(c.since, last - replayLimit);
                replay = new ArrayList<>(committed.subList((int) from, (int) last));
            }
            return new StoreRead(last, from, replay, c.since == null || last - c.since <= replayLimit);
        }

        /** Opens the client's join with its read; a read too old is dropped, and the client reads again later. */
        boolean open(Client c) {
            StoreRead r = c.read != null ? c.read : read(c);
            c.read = null;
            if (order.open(c.stream, r.last(), r.from(), r.replay(), out) == Sequencer.Opened.REREAD) return false;
            if (c.sessionStart < 0) c.sessionStart = r.from();
            else if (!r.recovered()) c.sessionRecovered = false;
            return true;
        }

        /** A fill as Delivery does it: from the last seq delivered, at most the replay limit. */
        void fill() {
            long from = order.last();
            if (from < 0) return;
            long last = committed.size();
            if (last <= from) return;
            long upTo = Math.min(last, from + replayLimit);
            order.filled(committed.subList((int) from, (int) upTo), upTo, out);
        }

        /** Every join completes, then fills run until the room has caught up with the store. */
        void settle() {
            for (Client c : clients.values()) {
                if (c.stream == null || !c.stream.joining()) continue;
                boolean opened = open(c);
                if (!opened) assertThat(open(c)).as("a read made now is never too old").isTrue();
            }
            for (int i = 0; i <= committed.size() && order.last() >= 0 && order.last() < committed.size(); i++) fill();
            if (order.last() >= 0) assertThat(order.last()).as("the room caught up with the store").isEqualTo(committed.size());
            assertThat(order.hasGap()).as("no early arrival left waiting").isFalse();
        }
    }
}
