package dev.parley.ws;

import dev.parley.auth.TokenService;
import dev.parley.chat.ChatException;
import dev.parley.chat.ChatService;
import dev.parley.chat.ErrorCode;
import dev.parley.chat.Message;
import dev.parley.chat.Notice;
import dev.parley.chat.RateLimiter;
import dev.parley.chat.RoomHub;
import dev.parley.chat.Subscriber;
import dev.parley.config.ChatConfig;
import dev.parley.metrics.ChatMetrics;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One WebSocket: decodes frames, calls ChatService, and queues replies and deliveries on its
 * {@link Outbox}. Everything but the {@link Subscriber} methods runs on the connection's event loop;
 * those may be called from any thread and only queue.
 */
final class Connection implements Subscriber {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    private static final long ABUSE_WINDOW_NANOS = 10_000_000_000L;
    private static final int ABUSE_ERRORS = 100;
    private static final int TYPING_PER_SECOND = 5;

    private final ServerWebSocket ws;
    private final Context context;
    private final Vertx vertx;
    private final ChatConfig config;
    private final ChatService chat;
    private final TokenService tokens;
    private final ChatMetrics metrics;
    private final WsEndpoint endpoint;
    private final String user;
    private final Outbox outbox;
    private final Counter messagesOut;
    private final Counter typingOut;
    private final Counter presenceOut;
    private final RateLimiter sendLimit;
    private final RateLimiter typingLimit;
    private final Map<String, RoomHub.Membership> rooms = new HashMap<>();
    private final Set<String> joining = new HashSet<>();
    private Instant expiresAt;
    private long expiryTimer = -1;
    private volatile long lastHeardNanos = System.nanoTime();
    private long windowStart = System.nanoTime();
    private int errorsInWindow;
    private int rateLimitedInWindow;
    private boolean closed;

    Connection(ServerWebSocket ws, Context context, Vertx vertx, ChatConfig config, ChatService chat, TokenService tokens,
               ChatMetrics metrics, WsEndpoint endpoint, TokenService.Identity identity) {
        this.ws = ws;
        this.context = context;
        this.vertx = vertx;
        this.config = config;
        this.chat = chat;
        this.tokens = tokens;
        this.metrics = metrics;
        this.endpoint = endpoint;
        this.user = identity.username();
        this.expiresAt = identity.expiresAt();
        this.outbox = new Outbox(((WebSocketInternal) ws).channelHandlerContext(), config.outboxFrames(), config.flushInterval().toNanos(), this::tooSlow);
        this.messagesOut = metrics.frameOutCounter("message");
        this.typingOut = metrics.frameOutCounter("typing");
        this.presenceOut = metrics.frameOutCounter("presence");
        this.sendLimit = new RateLimiter(config.rateLimit(), config.rateBurst());
        this.typingLimit = new RateLimiter(TYPING_PER_SECOND, TYPING_PER_SECOND);
    }

    void start() {
        ws.textMessageHandler(this::onText);
        ws.binaryMessageHandler(b -> {
            heard();
            reject(null, ChatException.badRequest("frames must be JSON text frames"));
        });
        ws.pongHandler(b -> heard());
        ws.exceptionHandler(err -> {
            log.debug("connection error user={}: {}", user, err.toString());
            if (tooBig(err)) close(CloseCode.TOO_BIG);
        });
        ws.closeHandler(v -> onClosed());
        scheduleExpiry();
    }

    @Override
    public String user() {
        return user;
    }

    // --- frames in ---

    private void onText(String text) {
        heard();
        ClientFrame frame;
        try {
            frame = FrameCodec.decode(text);
        } catch (FrameException e) {
            metrics.frameIn("invalid");
            reject(e.ref(), e);
            return;
        }
        metrics.frameIn(ClientFrame.typeOf(frame));
        try {
            switch (frame) {
                case ClientFrame.Join j -> join(j);
                case ClientFrame.Leave l -> leave(l);
                case ClientFrame.Send s -> send(s);
                case ClientFrame.Typing t -> typing(t);
                case ClientFrame.History h -> history(h);
                case ClientFrame.Refresh r -> refresh(r);
                case ClientFrame.Ping p -> queue(FrameCodec.pong(p.ref()), "pong");
            }
        } catch (ChatException e) {
            reject(frame.ref(), e);
        } catch (RuntimeException e) {
            // A bug, not bad input: the connection's state can no longer be trusted.
            log.error("unexpected failure handling a {} frame of user={}", ClientFrame.typeOf(frame), user, e);
            metrics.error(ErrorCode.INTERNAL);
            close(CloseCode.INTERNAL);
        }
    }

    private void join(ClientFrame.Join j) {
        String room = chat.limits().room(j.room());
        if (!joining.add(room)) throw ChatException.badRequest("a join of " + room + " is already in progress");
        RoomHub.Membership previous = rooms.remove(room);
        chat.join(this, room, j.since(), j.ref(), previous).onComplete(ar -> {
            joining.remove(room);
            if (ar.succeeded()) {
                if (closed) {
                    chat.leave(ar.result());
                } else {
                    rooms.put(room, ar.result());
                }
            } else {
                if (previous != null) chat.leave(previous);
                reject(j.ref(), ar.cause());
            }
        });
    }

    private void leave(ClientFrame.Leave l) {
        RoomHub.Membership m = rooms.remove(chat.limits().room(l.room()));
        if (m == null) throw new ChatException(ErrorCode.NOT_JOINED, "not joined to " + l.room());
        chat.leave(m);
        queue(FrameCodec.left(l.ref(), l.room()), "left");
    }

    /**
     * Joined, or joining: frames are handled in order, so a client may pipeline a send right after
     * its join without waiting for {@code joined}; its membership is registered before the join's
     * store read, so it receives its own message either way.
     */
    private boolean inRoom(String room) {
        return rooms.containsKey(room) || joining.contains(room);
    }

    private void send(ClientFrame.Send s) {
        if (!inRoom(chat.limits().room(s.room()))) throw new ChatException(ErrorCode.NOT_JOINED, "join " + s.room() + " before sending to it");
        if (!sendLimit.tryAcquire()) {
            if (++rateLimitedInWindow > 2 * config.rateBurst()) {
                close(CloseCode.RATE_LIMITED);
                return;
            }
            throw new ChatException(ErrorCode.RATE_LIMITED, "more than " + fmt(config.rateLimit()) + " sends per second; slow down");
        }
        chat.send(s.room(), user, s.clientId(), s.text()).onComplete(ar -> {
            if (ar.succeeded()) {
                queue(FrameCodec.ack(s.ref(), ar.result().message()), "ack");
            } else {
                reject(s.ref(), ar.cause());
            }
        });
    }

    private void typing(ClientFrame.Typing t) {
        if (!inRoom(chat.limits().room(t.room()))) throw new ChatException(ErrorCode.NOT_JOINED, "join " + t.room() + " first");
        if (typingLimit.tryAcquire()) chat.typing(t.room(), user);
    }

    private void history(ClientFrame.History h) {
        chat.history(h.room(), h.before(), null, h.limit()).onComplete(ar -> {
            if (ar.succeeded()) {
                queue(FrameCodec.history(h.ref(), h.room(), ar.result().messages(), ar.result().hasMore()), "history");
            } else {
                reject(h.ref(), ar.cause());
            }
        });
    }

    private void refresh(ClientFrame.Refresh r) {
        chat.authenticate(r.token()).onComplete(ar -> {
            if (ar.succeeded()) applyRefresh(r, ar.result());
            else reject(r.ref(), ar.cause());
        });
    }

    private void applyRefresh(ClientFrame.Refresh r, java.util.Optional<TokenService.Identity> id) {
        if (id.isEmpty()) {
            reject(r.ref(), new ChatException(ErrorCode.UNAUTHORIZED, "the token is invalid or expired"));
        } else if (!id.get().username().equals(user)) {
            reject(r.ref(), new ChatException(ErrorCode.FORBIDDEN, "the token is for another user"));
        } else {
            expiresAt = id.get().expiresAt();
            scheduleExpiry();
        }
    }

    // --- frames out (any thread) ---

    @Override
    public void joined(Joined joined) {
        queue(FrameCodec.joined(joined), "joined");
    }

    @Override
    public void message(Message message) {
        if (outbox.offer(FrameCodec.message(message))) messagesOut.increment();
    }

    @Override
    public void notice(Notice notice) {
        if (outbox.offerDroppable(FrameCodec.notice(notice))) {
            (notice.kind() == Notice.Kind.TYPING ? typingOut : presenceOut).increment();
        } else {
            metrics.ephemeralDropped();
        }
    }

    private void queue(ByteBuf frame, String type) {
        if (outbox.offer(frame)) metrics.frameOutCounter(type).increment();
    }

    /** Answers a failed frame with an error frame; a connection that keeps failing is closed with 1008. */
    private void reject(String ref, Throwable err) {
        ErrorCode code;
        String message;
        if (err instanceof ChatException ce) {
            code = ce.code();
            message = ce.getMessage();
        } else {
            log.error("unexpected failure handling a frame of user={}", user, err);
            code = ErrorCode.INTERNAL;
            message = "unexpected server error";
        }
        metrics.error(code);
        queue(FrameCodec.error(ref, code, message), "error");
        if (code != ErrorCode.UNAVAILABLE && code != ErrorCode.INTERNAL && code != ErrorCode.RATE_LIMITED && ++errorsInWindow > ABUSE_ERRORS) {
            log.warn("closing connection of user={}: more than {} invalid frames in 10 s", user, ABUSE_ERRORS);
            close(CloseCode.POLICY);
        }
    }

    // --- lifecycle ---

    private void heard() {
        long now = System.nanoTime();
        lastHeardNanos = now;
        if (now - windowStart > ABUSE_WINDOW_NANOS) {
            windowStart = now;
            errorsInWindow = 0;
            rateLimitedInWindow = 0;
        }
    }

    /** Called by the endpoint's heartbeat on this connection's context. */
    void heartbeat(long timeoutNanos) {
        if (closed) return;
        if (System.nanoTime() - lastHeardNanos > timeoutNanos) {
            log.info("closing connection of user={}: no answer to pings", user);
            ws.close((short) 1001, "heartbeat timeout");
            ((WebSocketInternal) ws).channelHandlerContext().close();
            return;
        }
        ws.writePing(io.vertx.core.buffer.Buffer.buffer("hb"));
    }

    private void scheduleExpiry() {
        if (expiryTimer >= 0) vertx.cancelTimer(expiryTimer);
        long ms = Math.max(1, expiresAt.toEpochMilli() - System.currentTimeMillis());
        expiryTimer = vertx.setTimer(ms, id -> {
            expiryTimer = -1;
            if (!closed && !Instant.now().isBefore(expiresAt)) close(CloseCode.TOKEN_EXPIRED);
        });
    }

    private void tooSlow() {
        if (closed) return;
        log.warn("closing slow connection of user={}: {} frames queued, the client is not reading", user, config.outboxFrames());
        metrics.slowConsumerClosed();
        ws.close(CloseCode.TOO_SLOW.code, CloseCode.TOO_SLOW.reason);
    }

    /** Sends what is queued, then closes with the code. Runs on the event loop. */
    void close(CloseCode code) {
        if (closed) return;
        outbox.drainNow();
        ws.close(code.code, code.reason);
    }

    Context context() {
        return context;
    }

    private void onClosed() {
        if (closed) return;
        closed = true;
        if (expiryTimer >= 0) vertx.cancelTimer(expiryTimer);
        for (RoomHub.Membership m : new ArrayList<>(rooms.values())) chat.leave(m);
        rooms.clear();
        outbox.close();
        endpoint.closed(this);
    }

    /**
     * A frame over the size limit (Netty's decoder), or a fragmented message over it (Vert.x's
     * aggregator, which reports it with an IllegalStateException and drops the message). Vert.x
     * would otherwise close the first with 1000 and silently ignore the second.
     */
    private static boolean tooBig(Throwable err) {
        if (err instanceof CorruptedWebSocketFrameException c) return c.closeStatus().code() == CloseCode.TOO_BIG.code;
        return err instanceof IllegalStateException && String.valueOf(err.getMessage()).contains("max message size");
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
