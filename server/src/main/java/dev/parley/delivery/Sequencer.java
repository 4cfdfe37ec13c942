package dev.parley.delivery;

import dev.parley.event.Message;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The order of one room on this node, with no I/O, no threads and no Vert.x: where exactly-once,
 * in-order delivery is decided. Messages come in any order and any number of times (the broker may
 * lose, repeat or reorder them; gap fills and joins read them again from the store); each member's
 * {@link Stream} is given every seq after its start once, in increasing order.
 *
 * <ul>
 *   <li><b>The room:</b> the last seq delivered here. A message above the next one waits as an early
 *       arrival, and the room has a gap until the missing seqs arrive (the caller then reads them
 *       from the store). A seq at or below the last is a duplicate and is dropped. Until the first
 *       join has read the store the last seq is unknown, and everything waits.</li>
 *   <li><b>A member:</b> the highest seq it was given. A member still joining (its store read under
 *       way) keeps what is delivered meanwhile aside; {@link #open} then gives it its replay followed
 *       by what it kept, skipping whatever it already has: no gap and no duplicate at the seam. It
 *       keeps from the moment the room's sequence is known (at once, if it is known when the member
 *       is added): a read older than that moment could miss what was delivered between the two, so
 *       {@link #open} refuses it ({@link Opened#REREAD}) and the caller reads the store again.</li>
 * </ul>
 *
 * <p>Not thread-safe: the hub calls it under the room's lock. Each call reports what to send
 * through an {@link Out}, which only collects; nothing is sent from inside.
 *
 * @param <T> what a member is to the caller (the hub's membership; a name in tests)
 */
public final class Sequencer<T> {
    /** Collects the deliveries a call decided, in order. */
    public interface Out<T> {
        void send(T member, Message message);
    }

    /** What {@link #open} did. */
    public enum Opened {
        /** The member is live. */
        OPENED,
        /** The member is live, and the room has a gap or is behind the store: fill it. */
        OPENED_FILL,
        /** Nothing: the member's read is older than what it kept; read the store again and open again. */
        REREAD
    }

    /** One member's place in the room's sequence. */
    public static final class Stream<T> {
        private final T member;
        private long lastSent;
        private List<Message> kept = new ArrayList<>(); // non-null until the join's replay is given
        private long keptAfter = -1; // it keeps every message above this; -1 until the room's sequence is known

        private Stream(T member) {
            this.member = member;
        }

        public T member() {
            return member;
        }

        /** The highest seq given to this member, or passed over as history when it joined. */
        public long lastSent() {
            return lastSent;
        }

        /** Whether the member's join has not been opened yet. */
        public boolean joining() {
            return kept != null;
        }

        private void deliver(Message m, Out<T> out) {
            if (kept != null) {
                kept.add(m);
            } else if (m.seq() > lastSent) {
                lastSent = m.seq();
                out.send(member, m);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Stream<T>[] streams = new Stream[0];
    private long last = -1; // unknown until the first join has read the store
    private final TreeMap<Long, Message> early = new TreeMap<>();

    /** The last seq delivered here, or -1 before the first join read the store. */
    public long last() {
        return last;
    }

    /** Whether seqs are missing before messages that arrived early: the caller reads the store. */
    public boolean hasGap() {
        return !early.isEmpty();
    }

    /** Whether the store's last seq is past what was delivered here (a message lost with nothing after it). */
    public boolean behind(long storeLast) {
        return last >= 0 && last < storeLast;
    }

    /** The members, joining or not. The array is never changed: a change replaces it. */
    public Stream<T>[] streams() {
        return streams;
    }

    public boolean isEmpty() {
        return streams.length == 0;
    }

    /** Adds a member that is joining: what is delivered from now on is kept for it until {@link #open}. */
    public Stream<T> add(T member) {
        Stream<T> s = new Stream<>(member);
        s.keptAfter = last;
        Stream<T>[] next = Arrays.copyOf(streams, streams.length + 1);
        next[streams.length] = s;
        streams = next;
        return s;
    }

    /** Removes a member. @return false if it was not here */
    public boolean remove(Stream<T> s) {
        int i = Arrays.asList(streams).indexOf(s);
        if (i < 0) return false;
        @SuppressWarnings("unchecked")
        Stream<T>[] next = new Stream[streams.length - 1];
        System.arraycopy(streams, 0, next, 0, i);
        System.arraycopy(streams, i + 1, next, i, streams.length - i - 1);
        streams = next;
        return true;
    }

    /**
     * A committed message, from the broker or read from the store: delivered to every member if it
     * is the next seq (with the early arrivals it releases), kept if early, dropped if old.
     *
     * @return whether a gap now waits to be filled from the store
     */
    public boolean offer(Message m, Out<T> out) {
        if (last < 0) {
            early.put(m.seq(), m);
            return false;
        }
        if (m.seq() <= last) return false;
        if (m.seq() != last + 1) {
            early.putIfAbsent(m.seq(), m);
            return true;
        }
        deliver(m, out);
        drainEarly(out);
        return !early.isEmpty();
    }

    /**
     * A fill's read of the store's {@code (from, upTo]}, {@code read} ascending: offered as
     * {@link #offer} would, but a seq of that range the read did not find is gone from the store (a
     * deleted room's history) and is passed over instead of waited for. The read is consistent: it
     * found the room's last seq first, and every row up to it was committed then.
     *
     * @return whether a gap now waits to be filled from the store
     */
    public boolean filled(List<Message> read, long upTo, Out<T> out) {
        if (last < 0) {
            for (Message m : read) early.put(m.seq(), m);
            return false;
        }
        for (Message m : read) {
            if (m.seq() > last + 1) passOver(m.seq() - 1, out);
            offer(m, out);
        }
        if (last < upTo) passOver(upTo, out);
        return !early.isEmpty();
    }

    /** Takes the seqs up to {@code seq} as delivered: they are gone, nobody will get them. */
    private void passOver(long seq, Out<T> out) {
        if (seq <= last) return;
        last = seq;
        drainEarly(out);
    }

    /**
     * Whether a join's read that found the room at {@code roomLast} is too old to open {@code s}
     * with: seqs above it were delivered (or passed over) before the member began keeping them.
     * Only a member added before the room's sequence was known can be in that case.
     */
    public boolean tooOld(Stream<T> s, long roomLast) {
        return last >= 0 && roomLast < s.keptAfter;
    }

    /**
     * A member's join has read the store: the room's last seq {@code roomLast} and the messages
     * {@code (from, roomLast]} it missed ({@code replay}, ascending; empty without {@code since}).
     * The member is given the replay, then what was kept for it, each seq once; from now on it gets
     * messages live. The first join of the room also tells the room where its sequence stands.
     *
     * @return whether the member is live (and whether the room should be filled), or needs a newer read
     */
    public Opened open(Stream<T> s, long roomLast, long from, List<Message> replay, Out<T> out) {
        if (last < 0) {
            // The first open tells the room where it stands; every member joining from now on keeps
            // what comes after that. What arrived early up to there is history, in their reads.
            last = roomLast;
            for (Stream<T> other : streams) if (other.keptAfter < 0) other.keptAfter = roomLast;
            drainEarly(out);
        }
        if (tooOld(s, roomLast)) return Opened.REREAD; // (roomLast, keptAfter] is in neither its read nor what it kept
        s.lastSent = from;
        for (Message m : replay) {
            if (m.seq() > s.lastSent) {
                s.lastSent = m.seq();
                out.send(s.member, m);
            }
        }
        List<Message> kept = s.kept;
        s.kept = null;
        for (Message m : kept) s.deliver(m, out);
        return !early.isEmpty() || last < roomLast ? Opened.OPENED_FILL : Opened.OPENED;
    }

    private void deliver(Message m, Out<T> out) {
        last = m.seq();
        for (Stream<T> s : streams) s.deliver(m, out);
    }

    private void drainEarly(Out<T> out) {
        while (!early.isEmpty()) {
            Map.Entry<Long, Message> first = early.firstEntry();
            if (first.getKey() <= last) {
                early.pollFirstEntry();
            } else if (first.getKey() == last + 1) {
                early.pollFirstEntry();
                deliver(first.getValue(), out);
            } else {
                return;
            }
        }
    }
}
