package dev.parley.delivery;

import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.event.RoomChange;
import dev.parley.event.RoomEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.IntConsumer;

import static java.util.Objects.requireNonNull;

/**
 * The rooms of this node: their local members, and the join seam. The order itself is decided by
 * each room's {@link Sequencer}; what its members were told of presence is kept by its
 * {@link PresenceBook}. Reading the store, timers and the broker are {@link Delivery}'s.
 *
 * <p>Each room's state is guarded by the room's own lock, and the subscribers are called under it.
 * That is deliberate: a subscriber only queues (a connection's outbox is a lock-free queue and a
 * counter; its writes run on its event loop when the batch's {@link HandOff} is released, after the
 * lock), and the order of a connection's frames across threads is the order of the decisions only
 * if each decision reaches the queue before the lock is let go. Delivering after the lock was tried
 * first (2026-12-06): a message could then follow the {@code left} of its room, {@code left} could
 * precede {@code joined}, a room dying and made again sent one connection two streams, and the
 * thread that happened to be delivering a busy room (the commit writer, a Redis thread) could be
 * kept at it by every other thread's messages.
 *
 * <p>Just over 400 lines: the room's members, its order and the lock that keeps them together are one
 * piece; what is not under the lock (the queues, the fill) lives in Delivery and its HandOff.
 */
final class RoomHub {
    private final ConcurrentHashMap<String, Room> rooms = new ConcurrentHashMap<>();
    private final IntConsumer delivered;
    private final Removals removals;
    private final int batchAbove;
    private final java.util.Set<Room> batched = ConcurrentHashMap.newKeySet(); // rooms whose batch holds changes

    /** Told, after the room's lock, of each subscriber a room event took out of a room. */
    interface Removals {
        /** @param roomGone whether it was the room's last local member: the room is gone (unsubscribe) */
        void removed(String room, Subscriber subscriber, boolean roomGone);
    }

    /**
     * @param delivered  told how many messages were handed to subscribers, a call at a time (metrics)
     * @param batchAbove a room with more users online than this gets its presence changes in summaries
     *                   ({@link #flushPresence}); 0: never
     */
    RoomHub(IntConsumer delivered, Removals removals, int batchAbove) {
        this.delivered = requireNonNull(delivered, "delivered");
        this.removals = requireNonNull(removals, "removals");
        this.batchAbove = batchAbove;
    }

    /** One room with local members. */
    static final class Room {
        final String name;
        final Sequencer<Membership> order = new Sequencer<>();
        final PresenceBook presence = new PresenceBook();
        final PresenceBatch batch = new PresenceBatch();
        boolean filling;
        boolean dead;

        Room(String name) {
            this.name = name;
        }
    }

    /** One subscriber in one room. */
    static final class Membership {
        final Room room;
        final Subscriber subscriber;
        final Seat seat;
        Sequencer.Stream<Membership> stream;
        private List<Notice> notices; // typing and presence that came while the join was read
        private dev.parley.event.ReadState readLater; // the user's read marker, moved while the join was read

        private Membership(Room room, Subscriber subscriber, Seat seat) {
            this.room = room;
            this.subscriber = subscriber;
            this.seat = seat;
        }
    }

    /**
     * Hands what a call of the sequencer decided to the subscribers, and counts the messages. A room
     * event after the member's access was checked may change its seat: a mute, or its removal, after
     * which nothing more is sent to it (a removal's event is the last) and it is taken out of the
     * room before the lock is let go ({@link #takeOut}).
     */
    private static final class Out implements Sequencer.Out<Membership> {
        final HandOff handOff;
        int messages;
        List<Membership> removed; // null while none

        Out(HandOff handOff) {
            this.handOff = handOff;
        }

        @Override
        public void send(Membership m, Message message) {
            if (m.seat.removed()) return;
            m.subscriber.message(message, handOff);
            messages++;
            RoomChange e = message.event();
            if (e == null || message.seq() <= m.seat.accessSeq()) return;
            String user = m.subscriber.user();
            long mute = e.muteOf(user);
            if (mute >= 0) m.seat.mute(mute);
            String reason = e.removes(user);
            if (reason != null) {
                m.seat.remove();
                m.subscriber.removed(m.room.name, reason, handOff);
                if (removed == null) removed = new ArrayList<>(2);
                removed.add(m);
            }
        }
    }

    /** Under the room's lock: takes out the members a room event removed. @return whether the room is gone with them */
    private boolean takeOut(Room r, Out out) {
        if (out.removed == null) return false;
        for (Membership m : out.removed) r.order.remove(m.stream);
        if (!r.order.isEmpty()) return false;
        r.dead = true;
        rooms.remove(r.name, r);
        return true;
    }

    /** After the room's lock: tells who was taken out. */
    private void told(Room r, Out out, boolean gone) {
        if (out.removed == null) return;
        for (int i = 0; i < out.removed.size(); i++) removals.removed(r.name, out.removed.get(i).subscriber, gone && i == out.removed.size() - 1);
    }

    record Registered(Membership membership, boolean first, long given) {}

    /**
     * Adds a joining member: from now on what is delivered to the room is kept for it until
     * {@link #open}. {@code first} says the room had no local member before (subscribe to it).
     */
    Registered register(Subscriber subscriber, String name, Seat seat) {
        while (true) {
            Room r = rooms.computeIfAbsent(name, Room::new);
            synchronized (r) {
                if (r.dead) continue;
                boolean first = r.order.isEmpty();
                return new Registered(add(r, subscriber, seat), first, -1);
            }
        }
    }

    private static Membership add(Room r, Subscriber subscriber, Seat seat) {
        Membership m = new Membership(r, subscriber, seat);
        m.stream = r.order.add(m);
        return m;
    }

    /**
     * Joins a room again: takes the subscriber's membership out and puts a new, joining one in, in
     * one step, so that nothing is delivered in between and the room does not die meanwhile.
     *
     * @return the new membership and {@code given}, the highest seq the old one was given; null if
     *         the subscriber is not in the room
     */
    Registered replace(Subscriber subscriber, String name, Seat seat) {
        Room r = rooms.get(name);
        if (r == null) return null;
        synchronized (r) {
            Membership previous = find(r, subscriber);
            if (previous == null || r.dead) return null;
            r.order.remove(previous.stream);
            return new Registered(add(r, subscriber, seat), false, previous.stream.lastSent());
        }
    }

    private static Membership find(Room r, Subscriber subscriber) {
        for (Sequencer.Stream<Membership> s : r.order.streams()) {
            if (s.member().subscriber == subscriber) return s.member();
        }
        return null;
    }

    /** The subscriber's membership of the room, joined or joining, or null. */
    Membership find(Subscriber subscriber, String name) {
        Room r = rooms.get(name);
        if (r == null) return null;
        synchronized (r) {
            return find(r, subscriber);
        }
    }

    /**
     * The join's store read is done: the member gets {@code joined}, then the replay and what came
     * meanwhile, each seq once, then live messages. {@code joined} lists who is present: the room's
     * first join on this node reads that from the presence store ({@code present}, sorted), and starts
     * the room's presence book with it; later joins pass null and list the book (see
     * {@link #presenceKnown}). Nothing is sent if the read is too old to open with
     * ({@link Sequencer.Opened#REREAD}): the caller reads again.
     */
    Sequencer.Opened open(Membership m, Function<PresenceBook.Listing, Subscriber.Joined> joinedOf, long roomLast, long from,
                          List<Message> replay, List<String> present, HandOff handOff) {
        Room r = m.room;
        Out out = new Out(handOff);
        Sequencer.Opened opened;
        boolean gone;
        synchronized (r) {
            if (r.order.tooOld(m.stream, roomLast)) return Sequencer.Opened.REREAD;
            PresenceBook.Listing listing;
            if (present != null) {
                r.presence.seen(present);
                listing = new PresenceBook.Listing(present.size(), List.copyOf(present.subList(0, Math.min(present.size(), Delivery.MAX_MEMBERS_LISTED))));
            } else if (r.presence.started()) {
                listing = r.presence.listing(m.subscriber.user(), Delivery.MAX_MEMBERS_LISTED);
            } else {
                throw new IllegalStateException("a join of " + r.name + " read no presence, and none had before");
            }
            m.subscriber.joined(joinedOf.apply(listing), handOff);
            opened = r.order.open(m.stream, roomLast, from, replay, out);
            if (m.notices != null) {
                if (!m.seat.removed()) for (Notice n : m.notices) m.subscriber.notice(n, handOff);
                m.notices = null;
            }
            if (m.readLater != null) {
                if (!m.seat.removed()) m.subscriber.read(m.readLater, handOff);
                m.readLater = null;
            }
            gone = takeOut(r, out);
        }
        if (out.messages > 0) delivered.accept(out.messages);
        told(r, out, gone);
        return opened;
    }

    /**
     * Whether a join of the membership's room may skip reading who is present: the room's presence
     * book has started, and it lives as long as the membership's room does.
     */
    boolean presenceKnown(Membership m) {
        synchronized (m.room) {
            return m.room.presence.started();
        }
    }

    /** Removes the membership. @return true if it was the room's last: the room is gone (unsubscribe) */
    boolean leave(Membership m) {
        Room r = m.room;
        synchronized (r) {
            if (!r.order.remove(m.stream) || !r.order.isEmpty()) return false;
            r.dead = true;
            rooms.remove(r.name, r);
            return true;
        }
    }

    /**
     * Delivers a committed message to the room's local members, in seq order. Any thread.
     *
     * @return the room if a gap now waits to be filled from the store, else null
     */
    Room offer(Message message, HandOff handOff) {
        Room r = rooms.get(message.room());
        if (r == null) return null; // nobody here: nothing to deliver, nothing to track
        Out out = new Out(handOff);
        boolean gap, gone;
        synchronized (r) {
            gap = r.order.offer(message, out);
            gone = takeOut(r, out);
        }
        if (out.messages > 0) delivered.accept(out.messages);
        told(r, out, gone);
        return gap && !gone ? r : null;
    }

    /**
     * Typing or presence, to every member of the room but the user it is about. A member still
     * joining gets it after {@code joined}: its list of present users may have been read before this
     * change, and a presence change dropped meanwhile would leave that list wrong until the next one.
     */
    void notify(Notice notice, HandOff handOff) {
        Room r = rooms.get(notice.room());
        if (r == null) return;
        synchronized (r) {
            if (notice.kind() != Notice.Kind.TYPING) {
                boolean online = notice.kind() == Notice.Kind.ONLINE;
                r.presence.changed(notice.user(), online);
                // While a batch holds changes, later ones join it, whatever the count: so that a
                // change is never told before an earlier one.
                if (batchAbove > 0 && (!r.batch.isEmpty() || r.presence.count() > batchAbove)) {
                    r.batch.changed(notice.user(), online);
                    batched.add(r);
                    return;
                }
            }
            tell(r, notice, notice.user(), handOff);
        }
    }

    /** Under the room's lock: to every member but {@code except}'s connections; a member still joining gets it after {@code joined}. */
    private static void tell(Room r, Notice notice, String except, HandOff handOff) {
        for (Sequencer.Stream<Membership> s : r.order.streams()) {
            Membership m = s.member();
            if (except != null && m.subscriber.user().equals(except)) continue;
            if (s.joining()) {
                if (m.notices == null) m.notices = new ArrayList<>(4);
                m.notices.add(notice);
            } else {
                m.subscriber.notice(notice, handOff);
            }
        }
    }

    /**
     * Sends each big room with changes since its last summary one {@code presence_summary}: one
     * notice per room, encoded once for all its members, the users it names included. Any thread;
     * run every interval.
     */
    void flushPresence(HandOff handOff) {
        for (Room r : batched) {
            batched.remove(r);
            synchronized (r) {
                if (r.dead || r.batch.isEmpty()) continue;
                Notice.Summary summary = r.batch.drain(Math.max(0, r.presence.count()));
                tell(r, Notice.summary(r.name, summary), null, handOff);
            }
        }
    }

    /**
     * A user's moved read marker, to that user's joined members of the room but {@code except}. One
     * pass over the room's local members, under its lock (so that it is queued in order with the
     * room's other frames); a member still joining gets it after {@code joined}, whose state may
     * have been read before the marker moved.
     */
    void read(RoomEvent.ReadMoved moved, Subscriber except, HandOff handOff) {
        Room r = rooms.get(moved.room());
        if (r == null) return;
        synchronized (r) {
            for (Sequencer.Stream<Membership> s : r.order.streams()) {
                Membership m = s.member();
                if (m.subscriber == except || m.seat.removed() || !m.subscriber.user().equalsIgnoreCase(moved.user())) continue;
                if (s.joining()) {
                    if (m.readLater == null || m.readLater.seq() < moved.state().seq()) m.readLater = moved.state();
                } else {
                    m.subscriber.read(moved.state(), handOff);
                }
            }
        }
    }

    /** Rooms with local members. */
    List<String> activeRooms() {
        return new ArrayList<>(rooms.keySet());
    }

    Room room(String name) {
        return rooms.get(name);
    }

    /** How many local members the room has on this node. */
    int localMembers(String name) {
        Room r = rooms.get(name);
        if (r == null) return 0;
        synchronized (r) {
            return r.order.streams().length;
        }
    }

    /** Marks the room as being filled. @return false if a fill is already under way, or the room is gone */
    boolean claimFill(Room r) {
        synchronized (r) {
            if (r.filling || r.dead) return false;
            r.filling = true;
            return true;
        }
    }

    /** Where a fill starts: the last seq delivered, or -1 if there is nothing to fill (gone, or not started). */
    long fillFrom(Room r) {
        synchronized (r) {
            long from = r.order.last();
            if (r.dead || from < 0) {
                r.filling = false;
                return -1;
            }
            return from;
        }
    }

    /**
     * A fill read {@code read} of the store's {@code (from, upTo]} (null if the read failed): offers
     * it, passing over what the store no longer has (see {@link Sequencer#filled}).
     *
     * @param more whether the store had more after {@code upTo} (the read was cut at the replay limit)
     * @return whether to fill again: the read failed, a gap is still open, or there is more
     */
    boolean filled(Room r, List<Message> read, long upTo, boolean more, HandOff handOff) {
        Out out = new Out(handOff);
        boolean again, gone;
        synchronized (r) {
            boolean gap = false;
            if (read != null) gap = r.order.filled(read, upTo, out);
            r.filling = false;
            gone = takeOut(r, out);
            again = !r.dead && (read == null || gap || r.order.hasGap() || more);
        }
        if (out.messages > 0) delivered.accept(out.messages);
        told(r, out, gone);
        return again;
    }

    /** Whether the store's last seq of the room is past what was delivered here. */
    boolean behind(Room r, long storeLast) {
        synchronized (r) {
            return r.order.behind(storeLast);
        }
    }

    /** What the room's members were not told of presence, given who is present now; empty if nothing is known yet. */
    List<Notice> missedPresence(Room r, List<String> presentNow) {
        synchronized (r) {
            return r.presence.missed(r.name, presentNow);
        }
    }
}
