package dev.parley.chat;

import dev.parley.event.Message;
import dev.parley.auth.LoginThrottle;
import dev.parley.auth.PasswordHasher;
import dev.parley.auth.TokenService;
import dev.parley.broker.Broker;
import dev.parley.event.RoomEvent;
import dev.parley.presence.Presence;
import dev.parley.store.MessageStore;
import dev.parley.store.StoreException;
import dev.parley.store.UserStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * The use cases of PROTOCOL.md, independent of transport: the HTTP routes and the WebSocket frames
 * both call these. Every method runs on an event loop and returns a Future; blocking work goes
 * through {@link Blocking}.
 */
public final class ChatService {
    private final Vertx vertx;
    private final Limits limits;
    private final UserStore users;
    private final MessageStore store;
    private final RoomHub hub;
    private final Broker broker;
    private final Presence presence;
    private final PasswordHasher hasher;
    private final TokenService tokens;
    private final String dummyHash;
    private final LoginThrottle logins = new LoginThrottle();

    public ChatService(Vertx vertx, Limits limits, UserStore users, MessageStore store, RoomHub hub, Broker broker,
                       Presence presence, PasswordHasher hasher, TokenService tokens) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.limits = requireNonNull(limits, "limits");
        this.users = requireNonNull(users, "users");
        this.store = requireNonNull(store, "store");
        this.hub = requireNonNull(hub, "hub");
        this.broker = requireNonNull(broker, "broker");
        this.presence = requireNonNull(presence, "presence");
        this.hasher = requireNonNull(hasher, "hasher");
        this.tokens = requireNonNull(tokens, "tokens");
        this.dummyHash = hasher.dummyHash();
    }

    public Limits limits() {
        return limits;
    }

    // --- accounts ---

    public Future<TokenService.Issued> register(String username, String password) {
        try {
            limits.username(username);
            limits.password(password);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return Blocking.run(vertx, () -> {
            if (!users.create(username, hasher.hash(password))) {
                throw new ChatException(ErrorCode.CONFLICT, "username " + username + " is taken");
            }
            return tokens.issue(username);
        });
    }

    public Future<TokenService.Issued> login(String username, String password) {
        if (username == null || password == null) return Future.failedFuture(ChatException.badRequest("username and password are required"));
        long wait = logins.attempt(username);
        if (wait > 0) {
            return Future.failedFuture(new ChatException(ErrorCode.RATE_LIMITED,
                    "too many logins as " + username + " without the right password; try again in " + wait + " s"));
        }
        return Blocking.run(vertx, () -> {
            var user = users.find(username);
            // Verify against a dummy hash for unknown users too, so the answer takes as long either way.
            boolean ok = hasher.verify(password, user.map(UserStore.User::passwordHash).orElse(dummyHash));
            if (user.isEmpty() || !ok) throw new ChatException(ErrorCode.UNAUTHORIZED, "wrong username or password");
            logins.succeeded(username);
            return tokens.issue(user.get().username());
        });
    }

    /**
     * The identity a token proves, or empty for a missing, malformed, forged or expired one. With a
     * JWKS configured, verification may fetch the identity provider's keys, so it runs off the loop.
     */
    public Future<Optional<TokenService.Identity>> authenticate(String token) {
        if (!tokens.usesJwks()) return Future.succeededFuture(tokens.verify(token));
        return vertx.executeBlocking(() -> tokens.verify(token), false);
    }

    // --- rooms ---

    public record RoomSummary(String name, long lastSeq, int online) {}

    public Future<List<RoomSummary>> rooms() {
        return Blocking.run(vertx, store::rooms).compose(rooms -> presence.counts(rooms.stream().map(MessageStore.RoomInfo::name).toList())
                .map(counts -> rooms.stream().map(r -> new RoomSummary(r.name(), r.lastSeq(), counts.getOrDefault(r.name(), 0))).toList()));
    }

    public Future<MessageStore.Page> history(String room, Long before, Long after, Integer limit) {
        int n;
        try {
            limits.room(room);
            Limits.cursor("before", before);
            Limits.cursor("after", after);
            if (before != null && after != null) throw ChatException.badRequest("give before or after, not both");
            n = limits.historyLimit(limit);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return Blocking.run(vertx, () -> {
            if (store.lastSeq(room).isEmpty()) throw ChatException.notFound("no room " + room);
            return store.page(room, before, after, n);
        });
    }

    public Future<List<String>> presence(String room) {
        try {
            limits.room(room);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return Blocking.run(vertx, () -> store.lastSeq(room).isPresent()).compose(exists -> exists
                ? presence.members(room)
                : Future.failedFuture(ChatException.notFound("no room " + room)));
    }

    // --- a connection's session ---

    /**
     * Joins the subscriber to the room: it counts as present, gets {@code joined} and, with
     * {@code since}, the replay, then live messages. Announces the user online if this is their first
     * connection in the room. A join of a room the subscriber is already in ({@code replacing}) starts
     * its stream afresh without touching presence.
     */
    public Future<RoomHub.Membership> join(Subscriber sub, String room, Long since, String ref, RoomHub.Membership replacing) {
        try {
            limits.room(room);
            if (since != null && since < 0) throw ChatException.badRequest("since must be a non-negative integer");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        String user = sub.user();
        if (replacing != null) {
            // A join of a room this connection is in: it goes on from what it was given, so that
            // nothing arrives twice (whatever since says) and nothing is skipped (without since).
            hub.leave(replacing);
            long given = replacing.lastSent();
            return hub.join(sub, room, since == null ? given : Math.max(since, given), ref, () -> presence.members(room));
        }
        Future<Boolean> present = presence.join(room, user);
        return hub.join(sub, room, since, ref, () -> present.compose(first -> presence.members(room)))
                .onSuccess(m -> {
                    if (present.result()) broker.publish(new RoomEvent.PresenceChanged(room, user, true));
                })
                .recover(err -> (present.succeeded() ? presence.leave(room, user).<Void>mapEmpty() : Future.<Void>succeededFuture())
                        .transform(x -> Future.failedFuture(err)));
    }

    /** Leaves the room; announces the user offline if that was their last connection in it. */
    public Future<Void> leave(RoomHub.Membership membership) {
        hub.leave(membership);
        String room = membership.room();
        String user = membership.subscriber().user();
        return presence.leave(room, user).map(last -> {
            if (last) broker.publish(new RoomEvent.PresenceChanged(room, user, false));
            return null;
        });
    }

    /**
     * Stores the message and completes once it is durably committed; the room's members receive it
     * through the hub. A retry with the same clientId completes with the first copy.
     */
    public Future<MessageStore.Appended> send(String room, String user, String clientId, String text) {
        String t;
        try {
            limits.clientId(clientId);
            t = limits.text(text);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return onContext(store.append(room, user, clientId, t));
    }

    public void typing(String room, String user) {
        broker.publish(new RoomEvent.Typing(room, user));
    }

    /** Called by the store on its writer thread after each commit: hands new messages to the broker (and so to local members). */
    public static void publishCommitted(Broker broker, List<dev.parley.event.Message> committed) {
        for (dev.parley.event.Message m : committed) broker.publish(new RoomEvent.MessageCommitted(m));
    }

    private <T> Future<T> onContext(CompletableFuture<T> cf) {
        Context ctx = vertx.getOrCreateContext();
        Promise<T> p = Promise.promise();
        cf.whenComplete((v, err) -> ctx.runOnContext(x -> {
            if (err == null) p.complete(v);
            else if (err instanceof dev.parley.store.RefusedException) p.fail(ChatException.badRequest("the message cannot be stored"));
            else if (err instanceof StoreException) p.fail(ChatException.unavailable("storage is unavailable, the message was not stored; retry with the same clientId"));
            else p.fail(err);
        }));
        return p.future();
    }
}
