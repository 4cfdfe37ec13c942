package dev.parley.chat;

import dev.parley.auth.LoginThrottle;
import dev.parley.auth.PasswordHasher;
import dev.parley.auth.TokenService;
import dev.parley.delivery.Delivery;
import dev.parley.delivery.Seat;
import dev.parley.delivery.Subscriber;
import dev.parley.event.Message;
import dev.parley.event.ReadState;
import dev.parley.presence.Presence;
import dev.parley.store.LookAlikeException;
import dev.parley.store.MessageChanges;
import dev.parley.store.MessageStore;
import dev.parley.store.MissingTargetException;
import dev.parley.store.RefusedException;
import dev.parley.store.RoomStore;
import dev.parley.store.StoreException;
import dev.parley.store.UserStore;
import dev.parley.work.Blocking;
import dev.parley.work.BoundedPool;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The use cases of PROTOCOL.md, independent of transport: the HTTP routes and the WebSocket frames
 * both call these. Every method runs on an event loop and returns a Future; blocking work goes
 * through {@link Blocking}. This is where requests are validated (once) and where the store's
 * failures become the protocol's error codes ({@link #translate}, the one place).
 *
 * <p>Just over 400 lines: it hands most use cases to their own classes (Accounts, Rooms, MessageEdits,
 * Search, Bots, Posts, Webhooks) and keeps the send, join and read paths, which share its checks.
 */
public final class ChatService {
    private final Vertx vertx;
    private final Limits limits;
    private final MessageStore store;
    private final RoomStore roomStore;
    private final Delivery delivery;
    private final Presence presence;
    private final TokenService tokens;
    private final Sessions sessions;
    private final Accounts accounts;
    private final Rooms rooms;
    private final BrowserSessions browserSessions;
    private final CreationQuota creations;
    private final UserRooms userRooms;
    private final MessageEdits edits;
    private final Search search;
    private final Bots bots;
    private final Posts posts;
    private final TypingPace typingPace = new TypingPace(() -> System.nanoTime() / 1_000_000); // monotonic: a clock stepped back drops no typing

    /**
     * @param throttle     counts attempts at passwords and registrations, before any is checked
     * @param passwords    the pool where passwords are hashed and checked, apart from the shared worker pool
     * @param searches     the pool where searches run, apart from the shared worker pool ({@link Search#THREADS})
     */
    public ChatService(Vertx vertx, Limits limits, UserStore users, MessageStore store, RoomStore roomStore, MessageChanges changes, Delivery delivery,
                       Presence presence, PasswordHasher hasher, TokenService tokens, Sessions sessions, LoginThrottle throttle,
                       BoundedPool passwords, boolean registrationOpen,
                       java.time.Duration tokenTtl, java.util.Collection<String> admins, boolean roomCreationByAnyone,
                       dev.parley.auth.UsedTickets usedTickets, dev.parley.store.BotStore botStore, BoundedPool searches) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.limits = requireNonNull(limits, "limits");
        this.store = requireNonNull(store, "store");
        this.roomStore = requireNonNull(roomStore, "roomStore");
        this.delivery = requireNonNull(delivery, "delivery");
        this.presence = requireNonNull(presence, "presence");
        this.tokens = requireNonNull(tokens, "tokens");
        this.sessions = requireNonNull(sessions, "sessions");
        requireNonNull(passwords, "passwords");
        this.accounts = new Accounts(vertx, limits, requireNonNull(users, "users"), sessions, requireNonNull(hasher, "hasher"), tokens,
                requireNonNull(throttle, "throttle"), hasher.dummyHash(), tokenTtl,
                admins, registrationOpen, w -> blocking(w), w -> hashing(passwords, w));
        this.creations = new CreationQuota(limits.roomsPerHour());
        this.userRooms = new UserRooms(limits.maxRoomsPerUser());
        this.rooms = new Rooms(limits, roomStore, store, users, delivery, presence, accounts::isAdmin, roomCreationByAnyone, this::mayMake, w -> blocking(w));
        this.browserSessions = new BrowserSessions(vertx, tokens, sessions, usedTickets);
        this.edits = new MessageEdits(limits, requireNonNull(changes, "changes"), delivery, accounts::isAdmin, w -> blocking(w));
        this.search = new Search(vertx, limits, store, rooms, searches);
        this.bots = new Bots(vertx, limits, requireNonNull(botStore, "botStore"), sessions, accounts::isAdmin, System::currentTimeMillis);
        this.posts = new Posts(vertx, limits, roomStore, store);
    }

    /** Bot accounts and their API keys (PROTOCOL.md, "Server API and bots"). */
    public Bots bots() {
        return bots;
    }

    /** Messages posted over HTTP, by bots and users alike. */
    public Posts posts() {
        return posts;
    }

    /** The rooms' outgoing webhooks (PROTOCOL.md, webhooks), over their store and the check of their URLs. */
    public Webhooks webhooks(dev.parley.store.WebhookStore hooks, dev.parley.webhook.UrlGuard guard) {
        return new Webhooks(limits, roomStore, hooks, guard, accounts::isAdmin, w -> blocking(w));
    }

    /** Edits, deletions and reactions of messages. */
    public MessageEdits edits() {
        return edits;
    }

    /** Rooms, members, roles and bans (PROTOCOL.md 3.3). */
    public Rooms rooms() {
        return rooms;
    }

    /** Register, login, logout, password change, disabling and deleting accounts, and the accounts of an identity provider's users. */
    public Accounts accounts() {
        return accounts;
    }

    /** The web client's sessions: refresh tokens in a cookie, short access tokens, WebSocket tickets. */
    public BrowserSessions browserSessions() {
        return browserSessions;
    }

    /** Full-text search over the rooms a user may read (PROTOCOL.md 3.7). */
    public Search search() {
        return search;
    }

    public Limits limits() {
        return limits;
    }

    // --- accounts (the use cases are in Accounts) ---

    /**
     * The identity a token proves, or empty for a missing, malformed, forged, expired or revoked one,
     * or an identity provider's token for a name that is not its user's account here
     * ({@link Accounts#linked}). With a JWKS configured, verification may fetch the identity provider's
     * keys, and the first sign-in of its user makes their account, so it runs off the loop.
     */
    public Future<Optional<TokenService.Identity>> authenticate(String token) {
        // A bot's API key is no token, and acts on the HTTP API only (Bots.authenticate): never parsed as a JWT.
        if (Bots.isKey(token)) return Future.succeededFuture(Optional.empty());
        if (!tokens.usesJwks()) return Future.succeededFuture(tokens.verify(token).filter(sessions::valid));
        return Blocking.run(vertx, () -> tokens.verify(token).filter(sessions::valid).filter(accounts::linked));
    }

    /** Whether the identity's token is still good (not revoked since it was verified). No I/O. */
    public boolean stillValid(TokenService.Identity id) {
        return sessions.valid(id);
    }

    /** Called with the user (lowercase) whose sessions a revocation touched, on any thread. */
    public void onRevoked(java.util.function.Consumer<String> listener) {
        sessions.onRevoked(listener);
    }

    // --- rooms ---

    /** A page of the room's history, for a user who may read it (else {@code not_found}, as for no room). */
    public Future<HistoryPage> history(String user, String room, Long before, Long after, Integer limit) {
        return history(user, room, before, after, limit, () -> true);
    }

    /**
     * The same for a client that may go away meanwhile: if it is no longer {@code wanted} when a
     * worker takes the read, the store is not read (see {@link Blocking#run(Vertx, java.util.function.BooleanSupplier, java.util.concurrent.Callable)}).
     */
    public Future<HistoryPage> history(String user, String room, Long before, Long after, Integer limit, BooleanSupplier wanted) {
        int n;
        try {
            limits.room(room);
            Limits.before(before);
            Limits.after(after);
            if (before != null && after != null) throw ChatException.badRequest("give before or after, not both");
            n = limits.historyLimit(limit);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(wanted, () -> {
            rooms.readable(user, room);
            MessageStore.Page page = store.page(room, before, after, n);
            return new HistoryPage(page.messages(), page.hasMore(), page.historyStart());
        });
    }

    /** The most users one page of a room's presence holds, and the default: a room of up to that many online answers as before paging. */
    static final int PRESENCE_PAGE_MAX = 1000;

    /**
     * Who is online in the room, for a user who may read it (else {@code not_found}, as for no room):
     * one page by username, after {@code cursor}, of at most {@code limit} (1..1000, default 1000).
     */
    public Future<Rooms.Page<String>> presence(String user, String room, String cursor, Integer limit) {
        int n = limit == null ? PRESENCE_PAGE_MAX : limit;
        try {
            limits.room(room);
            if (n < 1 || n > PRESENCE_PAGE_MAX) throw ChatException.badRequest("limit must be between 1 and " + PRESENCE_PAGE_MAX);
            Rooms.userCursor(cursor);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> rooms.readable(user, room)).compose(a -> presence.members(room)).map(online -> {
            // Sorted by name by both presences; the page starts past the cursor.
            int from = cursor == null ? 0 : -Collections.binarySearch(online, cursor + "\0") - 1;
            int to = Math.min(online.size(), from + n);
            return new Rooms.Page<>(List.copyOf(online.subList(from, to)), to < online.size() ? online.get(to - 1) : null);
        });
    }

    // --- a connection's session ---

    /**
     * Joins the subscriber to the room (see {@link Delivery#join}): {@code joined}, then with
     * {@code since} the replay, then live messages. Joining a room the subscriber is in already
     * starts its stream afresh from what it was given.
     *
     * <p>Refused with {@code forbidden}, making nothing, for a room the user may not join: a private
     * or direct room they are no member of, a room they are banned from, or (when only
     * administrators make rooms) a name not taken. One message for all but a public room's ban, so
     * that it says no more than that the name is taken. A name not taken is made a public room if
     * the user's quota of rooms made allows ({@code quota_exceeded} otherwise, making nothing).
     * Completes with the user's seat; if the subscriber is no longer {@code wanted} (it closed) when
     * the check's turn comes, nothing is read or made.
     */
    public Future<Seat> join(Subscriber sub, String room, Long since, String ref, BooleanSupplier wanted) {
        try {
            limits.room(room);
            if (since != null && since < 0) throw ChatException.badRequest("since must be a non-negative integer");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        String user = sub.user();
        return blocking(wanted, () -> {
            RoomStore.Access a = roomStore.access(room, user);
            ChatException refused = new ChatException(ErrorCode.FORBIDDEN, "you may not join " + room);
            if (a.room() == null && rooms.mayCreate(user) && !Limits.isDirectName(room)) {
                // A name not taken: the join makes a public room, which counts against the user's quota.
                mayMake(user);
                a = roomStore.accessOrCreate(room, user, limits::newRoomKey);
            }
            if (a.room() == null) throw refused;
            boolean open = RoomStore.PUBLIC.equals(a.room().kind());
            if (!open && a.member() == null) throw refused;
            if (a.ban() != null) throw open ? new ChatException(ErrorCode.FORBIDDEN, "you are banned from " + room) : refused;
            Long muted = a.member() == null ? null : a.member().mutedUntil();
            return new Seat(a.room().lastSeq(), muted == null ? 0 : muted);
        }).compose(seat -> !wanted.getAsBoolean() ? Future.<Seat>failedFuture(new Blocking.Abandoned())
                : delivery.join(sub, room, since, ref, seat, wanted).recover(err -> err instanceof Delivery.Refused
                ? Future.failedFuture(new ChatException(ErrorCode.FORBIDDEN, "you may not join " + room))
                : translate(err)));
    }

    /**
     * Counts one more connection of the user in the room, for the cap on rooms per user (PROTOCOL.md
     * section 12); a connection calls it when it takes a room on, and {@link #exitRoom} when it lets
     * it go, whatever the reason (a leave, a removal, a failed join, its close).
     *
     * @throws ChatException {@code too_many_rooms} if the user's connections on this node are in as
     *                       many different rooms as they may be already
     */
    public void enterRoom(String user, String room) {
        if (!userRooms.enter(user, room)) {
            throw new ChatException(ErrorCode.TOO_MANY_ROOMS, "your connections are in " + limits.maxRoomsPerUser()
                    + " rooms, the most one user may be in at once; leave one first");
        }
    }

    public void exitRoom(String user, String room) {
        userRooms.exit(user, room);
    }

    /**
     * Takes one room of the user's quota of rooms made an hour (administrators have none). Blocking
     * callers only: it is thread-safe, not event-loop bound.
     *
     * @throws ChatException {@code quota_exceeded} if they have made as many as they may for now
     */
    void mayMake(String user) {
        if (accounts.isAdmin(user)) return;
        long wait = creations.take(user);
        if (wait > 0) {
            long seconds = Math.max(1, (wait + 999) / 1000);
            throw new ChatException(ErrorCode.QUOTA_EXCEEDED, "you have made the most rooms one user may make in an hour ("
                    + limits.roomsPerHour() + "); the next one in " + seconds + " s", seconds); // over HTTP, Retry-After too
        }
    }

    /** Leaves the room; announces the user offline if that was their last connection in it. */
    public void leave(Subscriber sub, String room) {
        limits.room(room);
        if (!delivery.leave(sub, room)) throw new ChatException(ErrorCode.NOT_JOINED, "not joined to " + room);
    }

    /**
     * Stores the message and completes once it is durably committed, with the stored message; the
     * room's members receive it through the delivery. A retry with the same clientId completes with
     * the first copy.
     */
    public Future<Message> send(Subscriber sub, String room, String clientId, String text) {
        return send(sub, room, clientId, text, null);
    }

    /**
     * The same for a reply: {@code replyTo} is the seq of the message it answers, or null. A reply to
     * no message of the room (a seq it does not have, or a room event) is {@code not_found}.
     */
    public Future<Message> send(Subscriber sub, String room, String clientId, String text, Long replyTo) {
        String t;
        try {
            limits.room(room);
            if (!sub.inRoom(room)) throw new ChatException(ErrorCode.NOT_JOINED, "join " + room + " before sending to it");
            mayPost(sub, room);
            limits.clientId(clientId);
            t = limits.text(text);
            if (replyTo != null) Limits.messageSeq(replyTo, "replyTo");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        String user = sub.user();
        typingPace.sent(room, user); // receivers end the indicator at the message: the next typing starts one
        Context ctx = vertx.getOrCreateContext();
        Promise<Message> p = Promise.promise();
        Seat seat = sub.seat(room);
        store.append(room, user, clientId, t, replyTo == null ? 0 : replyTo, false, seat == null ? -1 : seat.accessSeq()).whenComplete((v, err) -> ctx.runOnContext(x -> {
            if (err == null) p.complete(v.message());
            else p.fail(err);
        }));
        return p.future().recover(ChatService::translate);
    }

    /**
     * Marks the room read up to {@code seq} for the user (PROTOCOL.md, read): raises their stored
     * marker (a seq above the room's last is taken as the last; a lower one than stored changes
     * nothing), and completes once it is durable with the state it leaves, which the user's other
     * connections in the room, on every node, are told of too. The connection must be in the room
     * ({@code not_joined} otherwise, as for a send: a room the user may not read cannot be joined).
     * Not done if the subscriber is no longer {@code wanted} when a worker takes it.
     */
    public Future<ReadState> read(Subscriber sub, String room, long seq, BooleanSupplier wanted) {
        try {
            limits.room(room);
            if (seq < 0) throw ChatException.badRequest("seq must be a non-negative integer");
            if (!sub.inRoom(room)) throw new ChatException(ErrorCode.NOT_JOINED, "join " + room + " before marking it read");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        String user = sub.user();
        return blocking(wanted, () -> store.markRead(room, user, seq)).compose(state -> {
            // Deleted meanwhile: the connection is being taken out of it.
            if (state == null) return Future.failedFuture(new ChatException(ErrorCode.NOT_JOINED, "not joined to " + room));
            delivery.readMoved(user, state, sub);
            return Future.succeededFuture(state);
        });
    }

    /**
     * Tells the room's other members that the user is typing (a connection keeps typing's rate
     * itself: past it the frame is dropped without a word, as typing is a hint), at most once a
     * second per user and room ({@link TypingPace}). Throws for a room not joined.
     */
    public void typing(Subscriber sub, String room) {
        limits.room(room);
        if (!sub.inRoom(room)) throw new ChatException(ErrorCode.NOT_JOINED, "join " + room + " first");
        Seat seat = sub.seat(room);
        if (seat != null && seat.mutedUntil() > System.currentTimeMillis()) return; // a hint: dropped, as past its rate
        if (typingPace.pass(room, sub.user())) delivery.typing(room, sub.user());
    }

    /** Refuses a send of a user muted in the room (as far as the room's events have reached this node). */
    private static void mayPost(Subscriber sub, String room) {
        Seat seat = sub.seat(room);
        if (seat != null && seat.mutedUntil() > System.currentTimeMillis()) {
            throw new ChatException(ErrorCode.FORBIDDEN, "you are muted in " + room + " until " + Message.formatTs(seat.mutedUntil()));
        }
    }

    /**
     * Password work on its bounded pool: a full queue is {@code unavailable} with how long to wait,
     * and store failures become the protocol's errors as for any blocking work.
     */
    private <T> Future<T> hashing(BoundedPool passwords, java.util.concurrent.Callable<T> work) {
        return passwords.run(vertx, work).recover(err -> err instanceof BoundedPool.Full full
                ? Future.failedFuture(new ChatException(ErrorCode.UNAVAILABLE, "too many password checks under way; try again in "
                        + full.retryAfterSeconds + " s", full.retryAfterSeconds))
                : translate(err));
    }

    /** Blocking work whose store failures become the protocol's errors. */
    private <T> Future<T> blocking(java.util.concurrent.Callable<T> work) {
        return Blocking.run(vertx, work).recover(ChatService::translate);
    }

    /** The same, not run if its client is gone by the time a worker takes it. */
    private <T> Future<T> blocking(BooleanSupplier wanted, java.util.concurrent.Callable<T> work) {
        return Blocking.run(vertx, wanted, work).recover(ChatService::translate);
    }

    /**
     * A new name that looks like a taken one ({@link Names#key}): {@code conflict}, as for the name
     * itself. A room is not named (it may be private); a username is, as {@code POST /api/dms} would
     * tell anyway whether it exists.
     */
    static ChatException lookAlike(LookAlikeException e) {
        return new ChatException(ErrorCode.CONFLICT, e.what() + " " + e.name() + " looks like "
                + (e.taken() == null ? "the name of a" + (e.what().equals("room") ? " room that exists" : "nother user") : e.taken() + ", which is taken"));
    }

    /**
     * The one place where a failure of the store becomes an error a client is told: a value the
     * database refuses is {@code bad_request}; a database that cannot be reached is
     * {@code unavailable}, and for a send it is unknown whether the message was stored, which a retry
     * with the same clientId settles; a new name like a taken one is a {@code conflict}; a message
     * named that its room does not have is {@code not_found}. Anything else
     * is passed on as it is.
     */
    static <T> Future<T> translate(Throwable err) {
        if (err instanceof RefusedException) return Future.failedFuture(ChatException.badRequest("the message cannot be stored"));
        if (err instanceof LookAlikeException e) return Future.failedFuture(lookAlike(e));
        if (err instanceof MissingTargetException e) return Future.failedFuture(ChatException.notFound(e.getMessage()));
        if (err instanceof StoreException) {
            return Future.failedFuture(ChatException.unavailable("storage is unavailable; try again (a send retried with the same clientId is never stored twice)"));
        }
        return Future.failedFuture(err);
    }
}
