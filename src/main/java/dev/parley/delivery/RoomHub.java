package dev.parley.delivery;

import dev.parley.event.Message;
import dev.parley.event.Notice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

import static java.util.Objects.requireNonNull;

/**
 * The rooms of this node: their local members, and the join seam. The order itself is decided by
 * each room's {@link Sequencer}; what its members were told of presence is kept by its
 * {@link PresenceBook}. Reading the store, timers and the broker are {@link Delivery}'s.
 *
 * <p>Each room's state is guarded by the room's own lock, and nothing calls a {@link Subscriber}
 * while holding it: under the lock the deliveries are decided and queued on the room, in order;
 * after it, the thread that queued them delivers them, unless another thread is already delivering
 * that room's queue, which then delivers them too. One thread at a time per room delivers, so each
 * member still gets its room's frames in the order they were decided.
 */
final class RoomHub {
    private static final Logger log = LoggerFactory.getLogger(RoomHub.class);
    /** A delivery queue that grew past this (a burst to a big room) is not kept for reuse. */
    private static final int KEEP_QUEUE_UP_TO = 8192;

    private final ConcurrentHashMap<String, Room> rooms = new ConcurrentHashMap<>();
    private final IntConsumer delivered;

    /** @param delivered told how many messages were handed to subscribers, a batch at a time (metrics) */
    RoomHub(IntConsumer delivered) {
        this.delivered = requireNonNull(delivered, "delivered");
    }

    /** One room with local members. */
    static final class Room {
        final String name;
        final Sequencer<Membership> order = new Sequencer<>();
        final PresenceBook presence = new PresenceBook();
        boolean filling;
        boolean dead;
        // Deliveries decided and not made yet, as parallel lists: who, and what (Message, Notice or Joined).
        private ArrayList<Membership> to = new ArrayList<>();
        private ArrayList<Object> what = new ArrayList<>();
        private ArrayList<Membership> spareTo;
        private ArrayList<Object> spareWhat;
        private boolean draining;
        private final Sequencer.Out<Membership> out = this::queue;

        Room(String name) {
            this.name = name;
        }

        private void queue(Membership m, Object item) {
            to.add(m);
            what.add(item);
        }

        /** Called with the lock held, after queueing: whether the caller is now the one to deliver. */
        private boolean claimDelivery() {
            if (draining || to.isEmpty()) return false;
            draining = true;
            return true;
        }
    }

    /** One subscriber in one room. */
    static final class Membership {
        final Room room;
        final Subscriber subscriber;
        Sequencer.Stream<Membership> stream;
        private List<Notice> notices; // typing and presence that came while the join was read

        private Membership(Room room, Subscriber subscriber) {
            this.room = room;
            this.subscriber = subscriber;
        }

        /** The highest seq this member was given (or passed over as history when it joined). */
        long lastSent() {
            synchronized (room) {
                return stream.lastSent();
            }
        }
    }

    record Registered(Membership membership, boolean first) {}

    /**
     * Adds a joining member: from now on what is delivered to the room is kept for it until
     * {@link #open}. {@code first} says the room had no local member before (subscribe to it).
     */
    Registered register(Subscriber subscriber, String name) {
        while (true) {
            Room r = rooms.computeIfAbsent(name, Room::new);
            synchronized (r) {
                if (r.dead) continue;
                boolean first = r.order.isEmpty();
                Membership m = new Membership(r, subscriber);
                m.stream = r.order.add(m);
                return new Registered(m, first);
            }
        }
    }

    /** The subscriber's membership of the room, joined or joining, or null. */
    Membership find(Subscriber subscriber, String name) {
        Room r = rooms.get(name);
        if (r == null) return null;
        synchronized (r) {
            for (Sequencer.Stream<Membership> s : r.order.streams()) {
                if (s.member().subscriber == subscriber) return s.member();
            }
        }
        return null;
    }

    /**
     * The join's store read is done: the member gets {@code joined}, then the replay and what came
     * meanwhile, each seq once, then live messages. The first join of the room also records whom its
     * members were told are present.
     *
     * @return whether the room should be filled from the store (a gap, or behind the store)
     */
    boolean open(Membership m, Subscriber.Joined joined, long roomLast, long from, List<Message> replay, List<String> present, HandOff handOff) {
        Room r = m.room;
        boolean fill;
        boolean deliver;
        synchronized (r) {
            r.presence.seen(present);
            r.queue(m, joined);
            fill = r.order.open(m.stream, roomLast, from, replay, r.out);
            if (m.notices != null) {
                for (Notice n : m.notices) r.queue(m, n);
                m.notices = null;
            }
            deliver = r.claimDelivery();
        }
        if (deliver) deliver(r, handOff);
        return fill;
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
        return offer(r, List.of(message), handOff) ? r : null;
    }

    /** Offers messages read from the store (a fill). @return whether a gap is still open */
    boolean offer(Room r, List<Message> messages, HandOff handOff) {
        boolean gap = false;
        boolean deliver;
        synchronized (r) {
            for (Message m : messages) gap = r.order.offer(m, r.out);
            deliver = r.claimDelivery();
        }
        if (deliver) deliver(r, handOff);
        return gap;
    }

    /**
     * Typing or presence, to every member of the room but the user it is about. A member still
     * joining gets it after {@code joined}: its list of present users may have been read before this
     * change, and a presence change dropped meanwhile would leave that list wrong until the next one.
     */
    void notify(Notice notice, HandOff handOff) {
        Room r = rooms.get(notice.room());
        if (r == null) return;
        boolean deliver;
        synchronized (r) {
            if (notice.kind() != Notice.Kind.TYPING) r.presence.changed(notice.user(), notice.kind() == Notice.Kind.ONLINE);
            for (Sequencer.Stream<Membership> s : r.order.streams()) {
                Membership m = s.member();
                if (m.subscriber.user().equals(notice.user())) continue;
                if (s.joining()) {
                    if (m.notices == null) m.notices = new ArrayList<>(4);
                    m.notices.add(notice);
                } else {
                    r.queue(m, notice);
                }
            }
            deliver = r.claimDelivery();
        }
        if (deliver) deliver(r, handOff);
    }

    /**
     * Makes the deliveries queued on the room, outside its lock, until none is left. Only one thread
     * at a time does this for a room (the one that found nobody doing it), so the frames of a member
     * keep the order in which they were queued.
     */
    private void deliver(Room r, HandOff handOff) {
        ArrayList<Membership> to = null;
        ArrayList<Object> what = null;
        while (true) {
            synchronized (r) {
                if (to != null && to.size() <= KEEP_QUEUE_UP_TO) {
                    to.clear();
                    what.clear();
                    r.spareTo = to;
                    r.spareWhat = what;
                }
                if (r.to.isEmpty()) {
                    r.draining = false;
                    return;
                }
                to = r.to;
                what = r.what;
                r.to = r.spareTo != null ? r.spareTo : new ArrayList<>();
                r.what = r.spareWhat != null ? r.spareWhat : new ArrayList<>();
                r.spareTo = null;
                r.spareWhat = null;
            }
            int messages = 0;
            for (int i = 0; i < to.size(); i++) {
                Subscriber s = to.get(i).subscriber;
                try {
                    switch (what.get(i)) {
                        case Message m -> {
                            s.message(m, handOff);
                            messages++;
                        }
                        case Notice n -> s.notice(n, handOff);
                        case Subscriber.Joined j -> s.joined(j, handOff);
                        default -> throw new IllegalStateException("cannot deliver " + what.get(i));
                    }
                } catch (RuntimeException e) {
                    // one subscriber's failure must not stop the room's delivery to the others
                    log.error("delivery to a subscriber of room {} failed", r.name, e);
                }
            }
            if (messages > 0) delivered.accept(messages);
        }
    }

    /** Called when a member's join failed: removes it. @return true if the room is gone (unsubscribe) */
    boolean abandon(Membership m) {
        return leave(m);
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
     * A fill read {@code read} (null if the read failed). @return whether to fill again: the read
     * failed, a gap is still open, or the read was cut at {@code max} messages
     */
    boolean filled(Room r, List<Message> read, int max, HandOff handOff) {
        boolean gap = read != null && offer(r, read, handOff);
        synchronized (r) {
            r.filling = false;
            return !r.dead && (read == null || gap || r.order.hasGap() || read.size() == max);
        }
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
