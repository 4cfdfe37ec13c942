package dev.parley.ws;

import dev.parley.auth.TokenService;
import dev.parley.chat.ChatException;
import dev.parley.chat.ChatService;
import dev.parley.chat.ErrorCode;
import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.chat.RateLimiter;
import dev.parley.chat.RoomHub;
import dev.parley.chat.Subscriber;
import dev.parley.config.ChatConfig;
import dev.parley.metrics.ChatMetrics;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One WebSocket: decodes frames, calls ChatService, and queues replies and deliveries on its
 * {@link Outbox}. Its {@link FrameHandler} hands it whole text messages. Everything but the
 * {@link Subscriber} methods runs on the connection's event loop, with {@link #context()} as the
 * current Vert.x context; the Subscriber methods may be called from any thread and only queue.
 */
final class Connection implements Subscriber {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    private static final long ABUSE_WINDOW_NANOS = 10_000_000_000L;
    private static final int ABUSE_ERRORS = 100;
    private static final int TYPING_PER_SECOND = 5;

    private final FrameHandler frames;
    private final Context context;
    private final ChatConfig config;
    private final ChatService chat;
    private final ChatMetrics metrics;
    private final WsEndpoint endpoint;
    private final String user;
    private final Outbox outbox;
    private final Counter messagesOut;
    private final Counter typingOut;
    private final Counter presenceOut;
    private final RateLimiter sendLimit;
    // Allocated when first needed, and small: an idle connection is mostly these fields (issue 5).
    private RateLimiter typingLimit;
    private final Map<String, RoomHub.Membership> rooms = new HashMap<>(4);
    /**
     * Rooms with a join in progress, each with the frames that wait for it (null while none wait);
     * null when no join is in progress, which is most of the time.
     */
    private Map<String, ArrayDeque<ClientFrame>> joining;
    private Instant expiresAt;
    private ScheduledFuture<?> expiryTimer;
    private volatile long lastHeardNanos = System.nanoTime();
    private long windowStart = System.nanoTime();
    private int errorsInWindow;
    private int rateLimitedInWindow;
    private boolean closed;

    /** @param context a Vert.x context on the channel's event loop */
    Connection(FrameHandler frames, Context context, ChatConfig config, ChatService chat, ChatMetrics metrics, WsEndpoint endpoint,
               TokenService.Identity identity) {
        this.frames = frames;
        this.context = context;
        this.config = config;
        this.chat = chat;
        this.metrics = metrics;
        this.endpoint = endpoint;
        this.user = identity.username();
        this.expiresAt = identity.expiresAt();
        // Writes from the frame handler's place in the pipeline: the Outbox's frames are already
        // encoded, and the frame encoder before it lets bytes pass as they are.
        this.outbox = new Outbox(frames.channelHandlerContext(), config.outboxFrames(), config.outboxBytes(), config.flushInterval().toNanos(), this::tooSlow);
        this.messagesOut = metrics.frameOutCounter("message");
        this.typingOut = metrics.frameOutCounter("typing");
        this.presenceOut = metrics.frameOutCounter("presence");
        this.sendLimit = new RateLimiter(config.rateLimit(), config.rateBurst());
    }

    /** Once the handshake is done. */
    void start() {
        scheduleExpiry();
    }

    @Override
    public String user() {
        return user;
    }

    // --- frames in ---

    /** A whole text message (its fragments put together), valid UTF-8. */
    void onText(String text) {
        ClientFrame frame;
        try {
            frame = FrameCodec.decode(text);
        } catch (FrameException e) {
            metrics.frameIn("invalid");
            reject(e.ref(), e);
            return;
        }
        metrics.frameIn(ClientFrame.typeOf(frame));
        handle(frame);
    }

    /** The most frames that may wait for one join; past it they are refused. */
    private static final int MAX_WAITING_FOR_A_JOIN = 64;

    private void handle(ClientFrame frame) {
        if (joining != null && waitsForAJoin(frame)) return;
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

    /**
     * Frames are handled in the order they came, and a join completes later. So a {@code leave} or
     * another {@code join} of a room whose join is in progress waits for it, and so does every frame
     * about that room after one that waits: "join, leave, join, leave" sent at once ends left. A
     * {@code send} or {@code typing} right after a join does not wait (see {@link #inRoom}).
     *
     * @return whether the frame was put aside, to be handled when the join completes
     */
    private boolean waitsForAJoin(ClientFrame frame) {
        String room = switch (frame) {
            case ClientFrame.Join j -> j.room();
            case ClientFrame.Leave l -> l.room();
            case ClientFrame.Send s -> s.room();
            case ClientFrame.Typing t -> t.room();
            default -> null;
        };
        if (room == null || !joining.containsKey(room)) return false;
        ArrayDeque<ClientFrame> waiting = joining.get(room);
        if (waiting == null && !(frame instanceof ClientFrame.Join || frame instanceof ClientFrame.Leave)) return false;
        if (waiting == null) joining.put(room, waiting = new ArrayDeque<>(4));
        if (waiting.size() >= MAX_WAITING_FOR_A_JOIN) {
            reject(frame.ref(), ChatException.badRequest("more than " + MAX_WAITING_FOR_A_JOIN + " frames about " + room
                    + " wait for its join; wait for joined"));
        } else {
            waiting.add(frame);
        }
        return true;
    }

    private void join(ClientFrame.Join j) {
        String room = chat.limits().room(j.room());
        if (joining == null) joining = new HashMap<>(4);
        joining.put(room, null);
        RoomHub.Membership previous = rooms.remove(room);
        chat.join(this, room, j.since(), j.ref(), previous).onComplete(ar -> {
            ArrayDeque<ClientFrame> waiting = joining.remove(room);
            if (joining.isEmpty()) joining = null;
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
            while (waiting != null && !waiting.isEmpty() && !closed) {
                handle(waiting.poll());
                if (joining != null && joining.containsKey(room)) {
                    // That frame was a join again: what is left waits for it in turn.
                    if (!waiting.isEmpty()) {
                        ArrayDeque<ClientFrame> next = joining.get(room);
                        if (next == null) joining.put(room, waiting);
                        else next.addAll(waiting);
                    }
                    break;
                }
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
     * its join without waiting for {@code joined}. If that message commits before the join reads
     * the room, it is history (at or below joined's lastSeq) and reaches the client in its ack only
     * (PROTOCOL.md, send).
     */
    private boolean inRoom(String room) {
        return rooms.containsKey(room) || joining != null && joining.containsKey(room);
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
        if (typingLimit == null) typingLimit = new RateLimiter(TYPING_PER_SECOND, TYPING_PER_SECOND);
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
        if (outbox.offerReply(frame)) metrics.frameOutCounter(type).increment();
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

    void onBinary() {
        reject(null, ChatException.badRequest("frames must be JSON text frames"));
    }

    // --- lifecycle ---

    /** Any frame from the client, control frames included. */
    void heard() {
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
            frames.close(CloseCode.GOING_AWAY.code, "heartbeat timeout", true);
            return;
        }
        frames.ping();
    }

    /** On the channel's event loop directly: a Netty timer costs an idle connection less than a Vert.x one. */
    private void scheduleExpiry() {
        if (expiryTimer != null) expiryTimer.cancel(false);
        long ms = Math.max(1, expiresAt.toEpochMilli() - System.currentTimeMillis());
        expiryTimer = frames.channelHandlerContext().executor().schedule(() -> {
            expiryTimer = null;
            if (!closed && !Instant.now().isBefore(expiresAt)) close(CloseCode.TOKEN_EXPIRED);
        }, ms, TimeUnit.MILLISECONDS);
    }

    private void tooSlow() {
        if (closed) return;
        log.warn("closing slow connection of user={}: the client is not reading; queued {} of {} frames, {} of {} bytes",
                user, outbox.size(), config.outboxFrames(), outbox.bytes(), config.outboxBytes());
        metrics.slowConsumerClosed();
        frames.close(CloseCode.TOO_SLOW.code, CloseCode.TOO_SLOW.reason, false);
        leaveEverything(); // as in close(): a client that reads nothing will not answer the close frame either
    }

    /** Sends what is queued, then closes with the code. Runs on the event loop. */
    void close(CloseCode code) {
        close(code.code, code.reason);
    }

    /** The same with any code: the frame layer's failures use RFC 6455's own (1002, 1007). */
    void close(int code, String reason) {
        if (closed) return;
        outbox.drainNow();
        outbox.close(); // no data frame may follow the close frame (RFC 6455 section 5.5.1)
        frames.close(code, reason, false);
        // Gone for the rooms now, not when the client answers the close frame (or the closing
        // handshake times out, 10 s later): others see it go offline at once. The endpoint still
        // counts it open until the channel ends, which is what a drain waits for.
        leaveEverything();
    }

    Context context() {
        return context;
    }

    /** The TCP connection ended, whoever ended it. */
    void onClosed() {
        leaveEverything();
        endpoint.closed(this);
    }

    private void leaveEverything() {
        if (closed) return;
        closed = true;
        if (expiryTimer != null) expiryTimer.cancel(false);
        for (RoomHub.Membership m : new ArrayList<>(rooms.values())) chat.leave(m);
        rooms.clear();
        outbox.close();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
