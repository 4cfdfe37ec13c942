package dev.parley.chat;

import dev.parley.event.Message;
import dev.parley.store.MessageStore;
import dev.parley.store.RoomStore;
import dev.parley.work.Blocking;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * A message posted over HTTP ({@code POST /api/rooms/{room}/messages}), by a bot with its API key or
 * a user with their token: what a WebSocket {@code send} does, without a connection. The same checks
 * (the room's name, the clientId, the text's length; a member of a private room, not banned, not
 * muted; the send rate) and the same store path, so the answer, like an {@code ack}, comes only once
 * the message is committed, and a retry with the same clientId answers the first copy.
 *
 * <p>Where a send asks its connection (joined, muted as far as the room's events have reached it),
 * this reads the user's access to the room from the store: there is no connection to ask. The send
 * rate ({@code CHAT_RATE_LIMIT}, {@code CHAT_RATE_BURST}) is kept per user on each node, with a bucket
 * per user under its own lock as {@code http.RequestPace} keeps them; past {@link #USERS_KEPT} users
 * the buckets start again.
 */
public final class Posts {
    static final int USERS_KEPT = 10_000;

    /** What a post stored: the message, and whether it had been stored before (a retry). */
    public record Posted(Message message, boolean duplicate) {}

    private final Vertx vertx;
    private final Limits limits;
    private final RoomStore rooms;
    private final MessageStore store;
    private final ConcurrentHashMap<String, RateLimiter> buckets = new ConcurrentHashMap<>();

    Posts(Vertx vertx, Limits limits, RoomStore rooms, MessageStore store) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.limits = requireNonNull(limits, "limits");
        this.rooms = requireNonNull(rooms, "rooms");
        this.store = requireNonNull(store, "store");
    }

    /**
     * Stores the message and completes once it is committed; the room's members receive it as any
     * message. A room the user may not read is {@code not_found}, as for no room.
     *
     * @param bot whether the user is a bot (its key posts): the message is marked so
     */
    public Future<Posted> post(String user, boolean bot, String room, String clientId, String text) {
        String t;
        try {
            limits.room(room);
            limits.clientId(clientId);
            t = limits.text(text);
            paced(user);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return Blocking.run(vertx, () -> {
            RoomStore.Access a = rooms.access(room, user);
            boolean open = a.room() != null && RoomStore.PUBLIC.equals(a.room().kind());
            if (a.room() == null || !open && a.member() == null) throw Rooms.notFound(room);
            if (a.ban() != null) throw open ? new ChatException(ErrorCode.FORBIDDEN, "you are banned from " + room) : Rooms.notFound(room);
            Long muted = a.member() == null ? null : a.member().mutedUntil();
            if (muted != null && muted > System.currentTimeMillis()) {
                throw new ChatException(ErrorCode.FORBIDDEN, "you are muted in " + room + " until " + Message.formatTs(muted));
            }
            return a;
        }).recover(ChatService::translate).compose(a -> {
            Context ctx = vertx.getOrCreateContext();
            Promise<Posted> p = Promise.promise();
            store.append(room, user, clientId, t, 0, bot, a.room().lastSeq()).whenComplete((v, err) -> ctx.runOnContext(x -> {
                if (err == null) p.complete(new Posted(v.message(), v.duplicate()));
                else p.fail(err);
            }));
            return p.future().recover(ChatService::translate);
        });
    }

    private void paced(String user) {
        if (limits.sendRate() <= 0) return;
        if (buckets.size() >= USERS_KEPT) buckets.clear();
        RateLimiter bucket = buckets.computeIfAbsent(user.toLowerCase(Locale.ROOT), u -> new RateLimiter(limits.sendRate(), limits.sendBurst()));
        boolean ok;
        synchronized (bucket) {
            ok = bucket.tryAcquire();
        }
        if (!ok) {
            long seconds = Math.max(1, (long) Math.ceil(1.0 / limits.sendRate()));
            throw new ChatException(ErrorCode.RATE_LIMITED, "more than " + limits.sendRate() + " messages a second; try again in " + seconds + " s", seconds);
        }
    }
}
