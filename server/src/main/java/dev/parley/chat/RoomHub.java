package dev.parley.chat;

import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.broker.Broker;
import dev.parley.event.RoomEvent;
import dev.parley.store.MessageStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The rooms of this node: their local members and the last seq delivered. This is what turns an
 * at-most-once broker into exactly-once, in-order delivery:
 * <ul>
 *   <li>messages are delivered strictly in seq order; one that arrives early waits, and a gap not
 *       filled within {@code gapMillis} is read back from the store;</li>
 *   <li>while the broker is unhealthy, or a message was lost with nothing after it, the periodic
 *       {@link #reconcile()} compares each room with the store and fills what is missing;</li>
 *   <li>a join registers the member first and buffers what is delivered meanwhile, then replays
 *       from the store and flushes the buffer, skipping seqs already sent: no gap and no duplicate at
 *       the seam.</li>
 * </ul>
 * Each room's state is guarded by the room's own lock; delivery only queues frames on subscribers.
 */
public final class RoomHub {
    private static final Logger log = LoggerFactory.getLogger(RoomHub.class);
    private static final Membership[] NONE = new Membership[0];
    /** {@code joined} lists at most this many members (PROTOCOL.md); {@code online} counts them all. */
    static final int MAX_MEMBERS_LISTED = 500;

    private final Vertx vertx;
    private final MessageStore store;
    private final Broker broker;
    private final int replayLimit;
    private final long gapMillis;
    private final Listener listener;
    private final ConcurrentHashMap<String, Room> rooms = new ConcurrentHashMap<>();

    /** Told about deliveries and resumes; the metrics listen here. */
    public interface Listener {
        void delivered(int recipients);

        void resumed(boolean recovered);

        Listener NONE = new Listener() {
            @Override
            public void delivered(int recipients) {}

            @Override
            public void resumed(boolean recovered) {}
        };
    }

    public RoomHub(Vertx vertx, MessageStore store, Broker broker, int replayLimit, long gapMillis, Listener listener) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.store = requireNonNull(store, "store");
        this.broker = requireNonNull(broker, "broker");
        this.replayLimit = replayLimit;
        this.gapMillis = gapMillis;
        this.listener = requireNonNull(listener, "listener");
    }

    private static final class Room {
        final String name;
        long lastDelivered = -1; // unknown until the first join has read the store
        final TreeMap<Long, Message> early = new TreeMap<>();
        Membership[] members = NONE;
        int joining;
        boolean filling;
        boolean dead;
        /** The users this node's members were last told are present; null until the first join has read them. */
        Set<String> announced;

        Room(String name) {
            this.name = name;
        }
    }

    /** One subscriber in one room. */
    public static final class Membership {
        private final Room room;
        private final Subscriber subscriber;
        private long lastSent;
        private List<Message> buffer = new ArrayList<>(); // non-null until the join's replay is sent
        private List<Notice> notices; // typing and presence that came while the join was read

        private Membership(Room room, Subscriber subscriber) {
            this.room = room;
            this.subscriber = subscriber;
        }

        public String room() {
            return room.name;
        }

        public Subscriber subscriber() {
            return subscriber;
        }

        /**
         * The highest seq this member was given, or passed over as history when it joined. Read it
         * after {@link RoomHub#leave}: it changes under the room's lock until then.
         */
        public long lastSent() {
            synchronized (room) {
                return lastSent;
            }
        }

        // Called with the room's lock held.
        private void deliver(Message m) {
            if (buffer != null) {
                buffer.add(m);
            } else if (m.seq() > lastSent) {
                lastSent = m.seq();
                subscriber.message(m);
            }
        }
    }

    /** Handles an event of the broker: this node's own, or another node's. */
    public void onEvent(RoomEvent event) {
        switch (event) {
            case RoomEvent.MessageCommitted mc -> offer(mc.message());
            case RoomEvent.Typing t -> notify(new Notice(Notice.Kind.TYPING, t.room(), t.user()));
            case RoomEvent.PresenceChanged p -> notify(new Notice(p.online() ? Notice.Kind.ONLINE : Notice.Kind.OFFLINE, p.room(), p.user()));
        }
    }

    /**
     * To every member of the room but the user it is about. A member still joining gets it after
     * {@code joined}: its list of present users may have been read before this change, and a
     * presence change dropped meanwhile would leave that list wrong until the next one.
     */
    private void notify(Notice notice) {
        if (notice.kind() != Notice.Kind.TYPING) {
            Room r = rooms.get(notice.room());
            if (r != null) {
                synchronized (r) {
                    if (r.announced != null) {
                        if (notice.kind() == Notice.Kind.ONLINE) r.announced.add(notice.user());
                        else r.announced.remove(notice.user());
                    }
                }
            }
        }
        for (Membership m : members(notice.room())) {
            if (m.subscriber.user().equals(notice.user())) continue;
            if (m.buffer == null) {
                m.subscriber.notice(notice);
                continue;
            }
            synchronized (m.room) {
                if (m.buffer != null) {
                    if (m.notices == null) m.notices = new ArrayList<>(4);
                    m.notices.add(notice);
                    continue;
                }
            }
            m.subscriber.notice(notice);
        }
    }

    private Membership[] members(String room) {
        Room r = rooms.get(room);
        if (r == null) return NONE;
        synchronized (r) {
            return r.members;
        }
    }

    /** Delivers a committed message to local members, in seq order. Any thread. */
    public void offer(Message m) {
        Room r = rooms.get(m.room());
        if (r == null) return; // nobody here: nothing to deliver, nothing to track
        boolean gap;
        synchronized (r) {
            gap = offerLocked(r, m);
        }
        if (gap) scheduleFill(r);
    }

    /** @return true if a gap is now waiting to be filled */
    private boolean offerLocked(Room r, Message m) {
        if (r.lastDelivered < 0) {
            r.early.put(m.seq(), m);
            return false;
        }
        if (m.seq() <= r.lastDelivered) return false;
        if (m.seq() != r.lastDelivered + 1) {
            r.early.put(m.seq(), m);
            return true;
        }
        deliverLocked(r, m);
        drainEarlyLocked(r);
        return !r.early.isEmpty();
    }

    private void deliverLocked(Room r, Message m) {
        r.lastDelivered = m.seq();
        Membership[] ms = r.members;
        for (Membership member : ms) member.deliver(m);
        listener.delivered(ms.length);
    }

    private void drainEarlyLocked(Room r) {
        while (!r.early.isEmpty()) {
            Map.Entry<Long, Message> first = r.early.firstEntry();
            if (first.getKey() <= r.lastDelivered) {
                r.early.pollFirstEntry();
            } else if (first.getKey() == r.lastDelivered + 1) {
                r.early.pollFirstEntry();
                deliverLocked(r, first.getValue());
            } else {
                return;
            }
        }
    }

    /**
     * Subscribes {@code subscriber} to {@code room}. The subscriber gets {@code joined}, then (with
     * {@code since}) every stored message after it, then live messages, each exactly once in order.
     * If more than the replay limit were missed, only the newest ones are replayed and {@code joined}
     * says {@code recovered: false}.
     */
    public Future<Membership> join(Subscriber subscriber, String room, Long since, String ref, Supplier<Future<List<String>>> presentUsersAfterRegistering) {
        Room r;
        Membership m;
        boolean first;
        while (true) {
            r = rooms.computeIfAbsent(room, Room::new);
            synchronized (r) {
                if (r.dead) continue;
                first = r.members.length == 0 && r.joining == 0;
                r.joining++;
                m = new Membership(r, subscriber);
                r.members = append(r.members, m);
                break;
            }
        }
        if (first) broker.subscribe(room);
        Room room0 = r;
        Membership member = m;
        // Registered above, before anything asynchronous: a send that the client pipelined right
        // after its join is delivered back to it, whenever it commits.
        Future<Replay> stored = Blocking.run(vertx, () -> {
            long last = store.ensureRoom(room);
            List<Message> replay = List.of();
            long from = last;
            if (since != null && since < last) {
                from = Math.max(since, last - replayLimit);
                replay = store.range(room, from, last);
            }
            return new Replay(last, from, replay, since == null || last - since <= replayLimit);
        });
        // Read after registering: a presence change from now on reaches this member (after joined).
        Future<List<String>> presentUsers = presentUsersAfterRegistering.get();
        return Future.all(stored, presentUsers).compose(both -> {
            Replay replay = stored.result();
            List<String> users = presentUsers.result();
            List<String> members = users.size() > MAX_MEMBERS_LISTED ? users.subList(0, MAX_MEMBERS_LISTED) : users;
            boolean gap;
            synchronized (room0) {
                room0.joining--;
                if (room0.lastDelivered < 0) {
                    room0.lastDelivered = replay.last;
                    drainEarlyLocked(room0);
                }
                gap = !room0.early.isEmpty() || room0.lastDelivered < replay.last;
                subscriber.joined(new Subscriber.Joined(room, ref, replay.last, users.size(), members, replay.recovered));
                if (room0.announced == null) room0.announced = new HashSet<>(users);
                member.lastSent = replay.from;
                for (Message msg : replay.messages) {
                    if (msg.seq() > member.lastSent) {
                        member.lastSent = msg.seq();
                        subscriber.message(msg);
                    }
                }
                // Still buffering while these go out, so a notice arriving meanwhile waits for the lock.
                if (member.notices != null) {
                    for (Notice n : member.notices) subscriber.notice(n);
                    member.notices = null;
                }
                List<Message> buffered = member.buffer;
                member.buffer = null;
                for (Message msg : buffered) member.deliver(msg);
            }
            if (since != null) listener.resumed(replay.recovered);
            if (gap) scheduleFill(room0);
            return Future.succeededFuture(member);
        }, err -> {
            synchronized (room0) {
                room0.joining--;
            }
            leave(member);
            return Future.failedFuture(err);
        });
    }

    private record Replay(long last, long from, List<Message> messages, boolean recovered) {}

    /** Removes the membership; the room is forgotten when its last local member leaves. */
    public void leave(Membership m) {
        Room r = m.room;
        boolean empty;
        synchronized (r) {
            int i = Arrays.asList(r.members).indexOf(m);
            if (i < 0) return;
            Membership[] next = new Membership[r.members.length - 1];
            System.arraycopy(r.members, 0, next, 0, i);
            System.arraycopy(r.members, i + 1, next, i, r.members.length - i - 1);
            r.members = next;
            empty = next.length == 0 && r.joining == 0;
            if (empty) {
                r.dead = true;
                rooms.remove(r.name, r);
            }
        }
        if (empty) broker.unsubscribe(r.name);
    }

    /** Rooms with local members. */
    public List<String> activeRooms() {
        return new ArrayList<>(rooms.keySet());
    }

    /** How many local members the room has on this node. */
    public int localMembers(String room) {
        return members(room).length;
    }

    private void scheduleFill(Room r) {
        synchronized (r) {
            if (r.filling || r.dead) return;
            r.filling = true;
        }
        vertx.setTimer(gapMillis, id -> fill(r));
    }

    /** Reads what this node has not delivered from the store and offers it, until the room is caught up. */
    private void fill(Room r) {
        long from;
        synchronized (r) {
            from = r.lastDelivered;
            if (r.dead || from < 0) {
                r.filling = false;
                return;
            }
        }
        Blocking.run(vertx, () -> {
            long last = store.lastSeq(r.name).orElse(0);
            return last > from ? store.range(r.name, from, Math.min(last, from + replayLimit)) : List.<Message>of();
        }).onComplete(ar -> {
            boolean again;
            synchronized (r) {
                if (ar.succeeded()) {
                    for (Message m : ar.result()) offerLocked(r, m);
                } else {
                    log.warn("could not fill the gap of room {} after seq {}: {}", r.name, from, ar.cause().getMessage());
                }
                r.filling = false;
                again = !r.dead && (ar.failed() || !r.early.isEmpty() || (ar.result().size() == replayLimit));
            }
            if (again) scheduleFill(r);
        });
    }

    /**
     * Compares every local room with the store and fills what was missed. Run periodically in a
     * cluster: it is what delivers messages while the broker is down, and a lost message that no
     * later message reveals as a gap.
     */
    public Future<Void> reconcile() {
        List<String> names = activeRooms();
        if (names.isEmpty()) return Future.succeededFuture();
        return Blocking.run(vertx, () -> store.lastSeqs(names)).map(lasts -> {
            lasts.forEach((name, last) -> {
                Room r = rooms.get(name);
                if (r == null) return;
                boolean behind;
                synchronized (r) {
                    behind = r.lastDelivered >= 0 && r.lastDelivered < last;
                }
                if (behind) scheduleFill(r);
            });
            return null;
        });
    }

    /**
     * Tells this node's members what changed in their rooms' presence while it could not be told:
     * the broker delivers at most once, so arrivals and departures on other nodes during a Redis
     * outage were announced to nobody here. Compares what the members were told with what
     * {@code presentUsers} says now, and announces the difference as online and offline notices.
     */
    public void resyncPresence(Function<String, Future<List<String>>> presentUsers) {
        for (String name : activeRooms()) {
            presentUsers.apply(name).onSuccess(users -> {
                Room r = rooms.get(name);
                if (r == null) return;
                List<Notice> changes = new ArrayList<>();
                synchronized (r) {
                    if (r.announced == null) return;
                    Set<String> now = new HashSet<>(users);
                    for (String u : r.announced) if (!now.contains(u)) changes.add(new Notice(Notice.Kind.OFFLINE, name, u));
                    for (String u : now) if (!r.announced.contains(u)) changes.add(new Notice(Notice.Kind.ONLINE, name, u));
                }
                if (!changes.isEmpty()) log.info("room {}: {} presence changes missed while the broker was down, announced now", name, changes.size());
                for (Notice n : changes) notify(n);
            });
        }
    }

    private static Membership[] append(Membership[] ms, Membership m) {
        Membership[] next = Arrays.copyOf(ms, ms.length + 1);
        next[ms.length] = m;
        return next;
    }
}
