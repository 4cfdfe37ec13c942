package dev.parley.delivery;

import dev.parley.broker.Broker;
import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.event.ReadState;
import dev.parley.event.RoomEvent;
import dev.parley.presence.Presence;
import dev.parley.store.MessageStore;
import dev.parley.work.Blocking;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * Where every event of a room goes on this node: the heart of delivery. It is the store's commit
 * listener ({@link #committed}) and the broker's handler ({@link #received}), and it drives the
 * {@link RoomHub}: a message committed here is delivered to this node's members at once and
 * published to the other nodes; one committed elsewhere arrives from the broker and is delivered the
 * same way. Joins, leaves, typing and presence come through here too.
 *
 * <p>The broker delivers at most once, so this is also where delivery repairs itself from the store,
 * which is the source of truth for order: a gap the hub reports is read back from the store after
 * {@code gapMillis}; in a cluster a periodic reconcile compares every local room with the store
 * (every second, and every 250 ms while the broker is down), which is how messages still arrive
 * while Redis is down and how a lost message with nothing after it is found.
 *
 * <p>Each batch of deliveries (a commit, an event from Redis, a fill, a join's replay) has its own
 * {@link HandOff}, released when the batch is done.
 *
 * <p>Just over 400 lines: the ways an event arrives (a local commit, the broker, a gap's fill, the
 * reconcile) are kept together, since each repair is only seen to be right next to the path it repairs.
 */
public final class Delivery {
    private static final Logger log = LoggerFactory.getLogger(Delivery.class);
    private static final long RECONCILE_MILLIS = 250;
    /** {@code joined} lists at most this many members (PROTOCOL.md); {@code online} counts them all. */
    static final int MAX_MEMBERS_LISTED = 500;

    private final Vertx vertx;
    private final MessageStore store;
    private final Broker broker;
    private final Presence presence;
    private final int replayLimit;
    private final long replayBytes;
    private final int maxTextLength;
    private final long gapMillis;
    private final Duration presenceTtl;
    private final Observer observer;
    private final RoomHub hub;
    private final PresenceBatching batching;
    private long reconcileTimer = -1;
    private long presenceTimer = -1;
    private volatile boolean closed;

    /** Told about deliveries, resumes and repairs: the metrics listen here. */
    public interface Observer {
        void delivered(int messages);

        void resumed(boolean recovered);

        /** A message of another node came through the broker, this long after its commit began there (by the two nodes' clocks). */
        default void arrived(long millisSinceCommit) {}

        /** A fill read this many messages back from the store, which the broker had not brought. */
        default void repaired(int messages) {}

        Observer NONE = new Observer() {
            @Override
            public void delivered(int messages) {}

            @Override
            public void resumed(boolean recovered) {}
        };
    }

    /**
     * @param replayLimit the most messages a join replays, and a fill reads at once
     * @param gapMillis   how long a gap may wait for the broker before it is read from the store
     * @param presenceTtl how long a dead node's presence entries live (the resync after an outage waits for them)
     * @param batching    when presence changes go out as summaries
     */
    public Delivery(Vertx vertx, MessageStore store, Broker broker, Presence presence, int replayLimit, long gapMillis,
                    Duration presenceTtl, PresenceBatching batching, Observer observer) {
        this(vertx, store, broker, presence, replayLimit, Long.MAX_VALUE, 0, gapMillis, presenceTtl, batching, observer);
    }

    /**
     * @param replayBytes the most bytes of messages a join replays (see {@link MessageStore#replayStart}):
     *                    past it, as past {@code replayLimit}, only the newest are replayed
     * @param maxTextLength CHAT_MAX_TEXT_LENGTH: a replay of so few messages that they could not
     *                      pass {@code replayBytes} at this length is not weighed (one query less a join)
     */
    public Delivery(Vertx vertx, MessageStore store, Broker broker, Presence presence, int replayLimit, long replayBytes, int maxTextLength,
                    long gapMillis, Duration presenceTtl, PresenceBatching batching, Observer observer) {
        this.replayBytes = replayBytes;
        this.maxTextLength = maxTextLength;
        this.vertx = requireNonNull(vertx, "vertx");
        this.store = requireNonNull(store, "store");
        this.broker = requireNonNull(broker, "broker");
        this.presence = requireNonNull(presence, "presence");
        this.replayLimit = replayLimit;
        this.gapMillis = gapMillis;
        this.presenceTtl = requireNonNull(presenceTtl, "presenceTtl");
        this.observer = requireNonNull(observer, "observer");
        this.batching = requireNonNull(batching, "batching");
        this.hub = new RoomHub(observer::delivered, (room, subscriber, gone) -> {
            // A room event took the subscriber out: as a leave, but decided by the event.
            if (gone) broker.unsubscribe(room);
            leavePresence(room, subscriber.user());
        }, batching.above());
    }

    /** Becomes the broker's handler, starts the presence summaries and, in a cluster, the reconcile timer. */
    public void start() {
        broker.start(this::received);
        if (broker.distributed()) reconcileTimer = vertx.setPeriodic(RECONCILE_MILLIS, new Reconciler());
        // Each node summarises what it learns, from its own connections and the broker alike: every
        // node's book hears the same changes, so their counts agree within an interval.
        if (batching.above() > 0) {
            presenceTimer = vertx.setPeriodic(batching.every().toMillis(), id -> HandOff.run(hub::flushPresence));
        }
    }

    /** Stops the timers; deliveries still under way finish. */
    public void close() {
        closed = true;
        if (reconcileTimer >= 0) vertx.cancelTimer(reconcileTimer);
        if (presenceTimer >= 0) vertx.cancelTimer(presenceTimer);
    }

    // --- events in ---

    /** The store's commit listener, on its writer thread: a transaction's new messages, in seq order per room. */
    public void committed(List<Message> messages) {
        HandOff.run(handOff -> {
            for (Message m : messages) {
                RoomEvent e = new RoomEvent.MessageCommitted(m);
                here(e, handOff);
                broker.publish(e);
            }
        });
    }

    /** The broker's handler: an event of another node, on a broker thread. */
    void received(RoomEvent event) {
        if (event instanceof RoomEvent.MessageCommitted mc) observer.arrived(System.currentTimeMillis() - mc.message().tsMillis());
        HandOff.run(handOff -> here(event, handOff));
    }

    public void typing(String room, String user) {
        publish(new RoomEvent.Typing(room, user));
    }

    /** A user came online or went offline in a room; also what a presence store calls when it finds a dead node's users gone. */
    public void presenceChanged(String room, String user, boolean online) {
        publish(new RoomEvent.PresenceChanged(room, user, online));
    }

    /**
     * The user's read marker in the room moved (stored already): tells the user's other connections
     * in the room, here at once and on the other nodes through the broker. {@code except} (the
     * connection that marked it, which answers itself) is left out here. At most once, as every
     * broker event: a connection that misses it learns the marker at its next join or room list.
     */
    public void readMoved(String user, ReadState state, Subscriber except) {
        RoomEvent.ReadMoved e = new RoomEvent.ReadMoved(user, state);
        HandOff.run(handOff -> hub.read(e, except, handOff));
        broker.publish(e);
    }

    private void publish(RoomEvent event) {
        HandOff.run(handOff -> here(event, handOff));
        broker.publish(event);
    }

    private void here(RoomEvent event, HandOff handOff) {
        switch (event) {
            case RoomEvent.MessageCommitted mc -> {
                RoomHub.Room gap = hub.offer(mc.message(), handOff);
                if (gap != null) scheduleFill(gap);
            }
            case RoomEvent.Typing t -> hub.notify(new Notice(Notice.Kind.TYPING, t.room(), t.user()), handOff);
            case RoomEvent.PresenceChanged p ->
                    hub.notify(new Notice(p.online() ? Notice.Kind.ONLINE : Notice.Kind.OFFLINE, p.room(), p.user()), handOff);
            case RoomEvent.ReadMoved r -> hub.read(r, null, handOff);
        }
    }

    // --- joining and leaving ---

    /**
     * Subscribes {@code subscriber} to {@code room}: it counts as present, gets {@code joined}, then
     * (with {@code since}) every stored message after it, then live messages, each exactly once in
     * order. If more than the replay limit were missed, only the newest are replayed and
     * {@code joined} says {@code recovered: false}. Announces the user online if this is their first
     * connection in the room. Joining a room the subscriber is in already starts its stream afresh
     * from what it was given (whatever {@code since} says), without touching presence.
     *
     * <p>{@code seat} says what the user's access was when it was checked: the room events after its
     * {@code accessSeq} that mute the user or take them out of the room apply to this subscriber
     * (RoomHub's {@code Out}). Completes with the seat.
     */
    public Future<Seat> join(Subscriber subscriber, String room, Long since, String ref, Seat seat) {
        return join(subscriber, room, since, ref, seat, () -> true);
    }

    /**
     * The same; if the subscriber is no longer {@code wanted} (it closed) when the store read's turn
     * comes, nothing is read and the join fails with {@link Blocking.Abandoned}: a client that asks
     * for many replays and goes had them all read and encoded for nobody, minutes after it went.
     */
    public Future<Seat> join(Subscriber subscriber, String room, Long since, String ref, Seat seat, BooleanSupplier wanted) {
        String user = subscriber.user();
        RoomHub.Registered again = hub.replace(subscriber, room, seat);
        if (again != null) {
            // It goes on from what it was given, so that nothing arrives twice and nothing is skipped.
            long from = since == null ? again.given() : Math.max(since, again.given());
            return open(again.membership(), room, from, ref, Future.succeededFuture(), 0, wanted)
                    .<Seat>map(seat)
                    .recover(err -> leavePresence(room, user).transform(x -> Future.failedFuture(err)));
        }
        Future<Boolean> present = presence.join(room, user);
        RoomHub.Registered registered = register(subscriber, room, seat);
        return open(registered.membership(), room, since, ref, present, 0, wanted)
                .<Seat>map(seat)
                .onSuccess(x -> {
                    // Not for a user an event took out during the join: their leave announced them gone.
                    if (present.result() && !seat.removed()) presenceChanged(room, user, true);
                })
                // Wait for the presence join, even if it is still under way: it must be undone, or the
                // user stays present in a room they never joined.
                .recover(err -> present.transform(ar -> ar.succeeded() ? presence.leave(room, user).<Void>mapEmpty() : Future.<Void>succeededFuture())
                        .transform(x -> Future.failedFuture(err)));
    }

    /** Leaves the room; announces the user offline if that was their last connection in it. @return false if not in the room */
    public boolean leave(Subscriber subscriber, String room) {
        RoomHub.Membership m = hub.find(subscriber, room);
        if (m == null) return false;
        if (hub.leave(m)) broker.unsubscribe(room);
        leavePresence(room, subscriber.user());
        return true;
    }

    private Future<Void> leavePresence(String room, String user) {
        return presence.leave(room, user).map(last -> {
            if (last) presenceChanged(room, user, false);
            return null;
        });
    }

    /** Registers first, before anything asynchronous: a send pipelined right after the join is delivered back, whenever it commits. */
    private RoomHub.Registered register(Subscriber subscriber, String room, Seat seat) {
        RoomHub.Registered registered = hub.register(subscriber, room, seat);
        if (registered.first()) broker.subscribe(room);
        return registered;
    }

    /** The most times a join reads the store again because its read was older than what it kept (see {@link Sequencer}). */
    private static final int MAX_REREADS = 5;

    /**
     * @param presentJoined the user's presence join (done or under way): who is present is read after
     *                      it, so that the list names the user. Read only for the room's first join on
     *                      this node; later joins list the room's presence book ({@link RoomHub#open}).
     */
    private Future<Void> open(RoomHub.Membership member, String room, Long since, String ref, Future<?> presentJoined, int rereads,
                              BooleanSupplier wanted) {
        Seat seat = member.seat;
        long checked = seat.accessSeq();
        Future<Replay> stored = Blocking.run(vertx, wanted, () -> {
            long last = store.ensureRoom(room);
            List<Message> replay = List.of();
            long from = last;
            if (since != null && since < last) {
                from = Math.max(since, last - replayLimit);
                // And no more bytes than a share of the outbox: a replay is queued there at once, so a
                // thousand messages of 4,000 characters (12 MB) in each of two rooms closed every client
                // resuming both with 4002, again at each reconnect; and a join storm held each whole
                // replay in memory at once, which took a node with 512 MB of heap down (a review's attack).
                // Weighed only when it could pass the bound: a resume of a few messages, the common
                // case (a reconnect storm's), costs no query more than before the bound.
                if (MessageStore.replayMayExceed(last - from, maxTextLength, replayBytes)) {
                    from = Math.max(from, store.replayStart(room, from, last, replayBytes));
                }
                replay = store.range(room, from, last);
            }
            // Changes of the room since the user's access was checked: rare, and read only then.
            List<Message> changes = last > checked ? store.events(room, checked, last) : List.of();
            ReadState read = store.readStateOnJoin(room, member.subscriber.user(), last);
            // Read after the replay: a retention sweep meanwhile can only make a resume say it is not
            // recovered when it was, never the other way.
            long start = store.historyStart(room);
            boolean recovered = since == null || (since >= last || from == since) && since + 1 >= start;
            return new Replay(last, from, replay, recovered, changes, read, start);
        });
        // Read after registering: a presence change from now on reaches this member (after joined).
        // Null once the room's book knows who is present: a join then reads nothing more (O(1) per
        // join instead of every present name, which made a join storm into a big room O(members²)).
        Future<List<String>> presentUsers = hub.presenceKnown(member)
                ? presentJoined.map(x -> (List<String>) null)
                : presentJoined.compose(x -> presence.members(room));
        return Future.all(stored, presentUsers).transform(both -> {
            Sequencer.Opened opened;
            try {
                if (both.failed()) throw both.cause();
                Replay replay = stored.result();
                if (!seat.catchUp(member.subscriber.user(), replay.changes, replay.last)) throw new Refused(room);
                List<String> users = presentUsers.result();
                Function<PresenceBook.Listing, Subscriber.Joined> joined = listing -> new Subscriber.Joined(
                        room, ref, replay.last, listing.count(), listing.names(), replay.recovered, replay.read, replay.start);
                subscriber(member).prepare(replay.messages); // encoded here, on the joining loop, not under the room's lock
                opened = HandOff.call(handOff -> hub.open(member, joined, replay.last, replay.from, replay.messages, users, handOff));
                if (opened == Sequencer.Opened.REREAD) {
                    if (rereads >= MAX_REREADS) throw new IllegalStateException("the room moved on " + MAX_REREADS + " times during the join");
                    return open(member, room, since, ref, presentJoined, rereads + 1, wanted);
                }
                if (since != null) observer.resumed(replay.recovered);
            } catch (Throwable err) {
                if (hub.leave(member)) broker.unsubscribe(room);
                return Future.failedFuture(err);
            }
            if (opened == Sequencer.Opened.OPENED_FILL) scheduleFill(member.room);
            return Future.<Void>succeededFuture();
        });
    }

    private static Subscriber subscriber(RoomHub.Membership m) {
        return m.subscriber;
    }

    /**
     * @param changes the room events after the seat's access check, up to {@code last}
     * @param start   where the room's history starts: a {@code since} below it lost what lay between
     */
    private record Replay(long last, long from, List<Message> messages, boolean recovered, List<Message> changes, ReadState read, long start) {}

    /**
     * A join refused because a room event committed after the user's access was checked took them
     * out of the room (a ban or removal racing the join): joining again checks afresh.
     */
    public static final class Refused extends RuntimeException {
        public Refused(String room) {
            super("a change of " + room + " took the user out while joining", null, false, false);
        }
    }

    /**
     * A fill's read: the store's messages up to {@code upTo}, those missing from it gone (a deleted
     * room's); {@code more}: the store had more after {@code upTo} (the read was cut at the replay limit).
     */
    private record Filled(long upTo, boolean more, List<Message> messages) {}

    /** Rooms with local members. */
    public List<String> activeRooms() {
        return hub.activeRooms();
    }

    /** How many local members the room has on this node. */
    public int localMembers(String room) {
        return hub.localMembers(room);
    }

    // --- repair from the store ---

    private void scheduleFill(RoomHub.Room r) {
        if (!closed && hub.claimFill(r)) vertx.setTimer(gapMillis, id -> fill(r));
    }

    /** Reads what this node has not delivered from the store and offers it, until the room is caught up. */
    private void fill(RoomHub.Room r) {
        long from = hub.fillFrom(r);
        if (from < 0) return;
        Blocking.run(vertx, () -> {
            long last = store.lastSeq(r.name).orElse(0);
            long upTo = Math.min(last, from + replayLimit);
            return new Filled(upTo, upTo < last, last > from ? store.range(r.name, from, upTo) : List.<Message>of());
        }).onComplete(ar -> {
            if (ar.failed()) log.warn("could not fill the gap of room {} after seq {}: {}", r.name, from, ar.cause().getMessage());
            Filled f = ar.succeeded() ? ar.result() : null;
            if (f != null && !f.messages.isEmpty()) observer.repaired(f.messages.size());
            if (HandOff.call(handOff -> hub.filled(r, f == null ? null : f.messages, f == null ? from : f.upTo, f != null && f.more, handOff))) scheduleFill(r);
        });
    }

    /**
     * Compares every local room with the store and fills what was missed: run periodically in a
     * cluster. It delivers messages while the broker is down, and a lost message that no later
     * message reveals as a gap.
     */
    Future<Void> reconcile() {
        List<String> names = hub.activeRooms();
        if (names.isEmpty()) return Future.succeededFuture();
        return Blocking.run(vertx, () -> store.lastSeqs(names)).map(lasts -> {
            lasts.forEach((name, last) -> {
                RoomHub.Room r = hub.room(name);
                if (r != null && hub.behind(r, last)) scheduleFill(r);
            });
            return null;
        });
    }

    /**
     * Tells this node's members what changed in their rooms' presence while it could not be told
     * (see {@link PresenceBook}), and announces the difference as online and offline notices.
     */
    void resyncPresence() {
        for (String name : hub.activeRooms()) {
            presence.members(name).onSuccess(users -> {
                RoomHub.Room r = hub.room(name);
                if (r == null) return;
                List<Notice> changes = hub.missedPresence(r, users);
                if (changes.isEmpty()) return;
                log.info("room {}: {} presence changes missed while the broker was down, announced now", name, changes.size());
                HandOff.run(handOff -> {
                    for (Notice n : changes) hub.notify(n, handOff);
                });
            });
        }
    }

    /** The reconcile timer: every fourth tick, and every tick while the broker is down. */
    private final class Reconciler implements io.vertx.core.Handler<Long> {
        private long ticks;
        private boolean wasUp = true;

        @Override
        public void handle(Long id) {
            boolean up = broker.healthy() && presence.healthy();
            if (up && !wasUp) {
                // Presence changes while Redis was away reached no other node. Once every live node
                // has written its entries again and a dead node's have expired (one presence TTL),
                // each node announces to its members what they missed.
                vertx.setTimer(presenceTtl.toMillis() + 1000, t -> {
                    if (!closed) resyncPresence();
                });
            }
            wasUp = up;
            if (!broker.healthy() || ++ticks % 4 == 0) reconcile();
        }
    }
}
