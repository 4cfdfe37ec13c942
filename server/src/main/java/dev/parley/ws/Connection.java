package dev.parley.ws;

import dev.parley.auth.TokenService;
import dev.parley.chat.ChatException;
import dev.parley.chat.ChatService;
import dev.parley.chat.ErrorCode;
import dev.parley.delivery.HandOff;
import dev.parley.delivery.Seat;
import dev.parley.delivery.Subscriber;
import dev.parley.config.ChatConfig;
import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.event.ReadState;
import dev.parley.metrics.ChatMetrics;
import dev.parley.work.Blocking;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One WebSocket: decodes frames, calls ChatService, and queues replies and deliveries on its
 * {@link Outbox}. Its {@link FrameHandler} hands it whole text messages. Everything but the
 * {@link Subscriber} methods runs on the connection's event loop, with {@link #context()} as the
 * current Vert.x context; the Subscriber methods may be called from any thread and only queue.
 *
 * <p>Near 500 lines: frames in, frames out, the rooms it holds (counted against the caps on rooms)
 * and the close (which waits for the answers owed to frames taken and lets its rooms go) all read
 * and write the same few fields of one connection; the parts that hold state of their own are
 * apart: the frames waiting for a join ({@link JoinWaits}) and the rate limits ({@link FrameLimits}).
 */
final class Connection implements Subscriber {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    private static final long ABUSE_WINDOW_NANOS = 10_000_000_000L;
    private static final int ABUSE_ERRORS = 100;
    /** The longest a close by the server waits for the answers owed to frames it had taken. */
    static final long OWED_ANSWERS_WAIT_MILLIS = 5_000;

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
    private final Counter summaryOut;
    private final FrameLimits limits;
    // Joined, by name, with the seat the join gave. With the rooms being joined, these are the rooms
    // the connection holds: counted against the caps on rooms (enterRoom when a room is taken on,
    // release when it is let go).
    private final Map<String, Seat> rooms = new HashMap<>(4);
    private JoinWaits joining; // null when no join is in progress, which is most of the time
    private TokenService.Identity identity; // the token it lives on (who, until when, which); a refresh replaces it
    private ScheduledFuture<?> expiryTimer;
    private volatile long lastHeardNanos = System.nanoTime();
    private long windowStart = System.nanoTime();
    private int errorsInWindow;
    /** Frames taken and not answered yet (in flight): sends in the store, history reads, joins, refreshes. */
    private int owed;
    /** The last change (edit, delete, react) this connection asked for: the next is made after it. */
    private io.vertx.core.Future<?> changes = io.vertx.core.Future.succeededFuture();
    /** A close decided by the server, waiting for what is owed; null otherwise (allocated only then). */
    private PendingClose closing;
    /** Volatile: work queued for this connection on a worker reads it, and is not run once it is set. */
    private volatile boolean closed;

    private record PendingClose(int code, String reason, ScheduledFuture<?> deadline) {}

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
        this.identity = identity;
        // Writes from the frame handler's place in the pipeline: the Outbox's frames are already
        // encoded, and the frame encoder before it lets bytes pass as they are.
        this.outbox = new Outbox(frames.channelHandlerContext(), config.outboxFrames(), config.outboxBytes(), config.flushInterval().toNanos(),
                config.unwritableTimeout().toNanos(), endpoint.outboxBudget(), this::tooSlow);
        this.messagesOut = metrics.frameOutCounter("message");
        this.typingOut = metrics.frameOutCounter("typing");
        this.presenceOut = metrics.frameOutCounter("presence");
        this.summaryOut = metrics.frameOutCounter("presence_summary");
        this.limits = new FrameLimits(chat.limits());
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
        if (closing != null || closed) return; // frames after the server decided to close are not taken
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

    private void handle(ClientFrame frame) {
        if (joining != null && putAside(frame)) return;
        try {
            if (!admitted(frame)) return;
            switch (frame) {
                case ClientFrame.Join j -> join(j);
                case ClientFrame.Leave l -> leave(l);
                case ClientFrame.Send s -> send(s);
                case ClientFrame.Typing t -> typing(t);
                case ClientFrame.History h -> history(h);
                case ClientFrame.Refresh r -> refresh(r);
                case ClientFrame.Edit e -> changed(e.ref(), () -> chat.edits().edit(this, e.room(), e.seq(), e.text()));
                case ClientFrame.Delete d -> changed(d.ref(), () -> chat.edits().delete(this, d.room(), d.seq()));
                case ClientFrame.React r -> changed(r.ref(), () -> chat.edits().react(this, r.room(), r.seq(), r.emoji(), r.on()));
                case ClientFrame.Read r -> read(r);
                case ClientFrame.Ping p -> {
                    if (outbox.offerPong(FrameCodec.pong(p.ref()))) metrics.frameOutCounter("pong").increment();
                }
            }
        } catch (ChatException e) {
            reject(frame.ref(), e);
        } catch (RuntimeException e) {
            // A bug, not bad input: the connection's state can no longer be trusted.
            log.error("unexpected failure handling a {} frame of user={}", ClientFrame.typeOf(frame), user, e);
            metrics.error(ErrorCode.INTERNAL.wire());
            close(CloseCode.INTERNAL);
        }
    }

    /**
     * Whether the frame is within its limits ({@link FrameLimits#admit}: its kind's rate, and the
     * frames in flight); a refusal throws {@code rate_limited}, and a connection that keeps running
     * into them is closed here with 4029.
     */
    private boolean admitted(ClientFrame frame) {
        boolean sendHere = frame instanceof ClientFrame.Send s && inRoom(s.room());
        // Frames waiting for a join in progress wait for their answers too (JoinWaits).
        FrameLimits.Verdict v = limits.admit(frame, sendHere, joining == null ? owed : owed + joining.waiting());
        if (v == FrameLimits.Verdict.CLOSE) {
            log.warn("closing connection of user={}: it kept sending past its rate limits", user);
            close(CloseCode.RATE_LIMITED);
        }
        return v == FrameLimits.Verdict.TAKE;
    }

    /**
     * @return whether the frame waits for a join in progress (see {@link JoinWaits}), or was refused
     *         for waiting: {@code rate_limited}, which counts towards 4029 as a frame past the
     *         frames in flight does (a client that keeps sending past the cap is flooding)
     */
    private boolean putAside(ClientFrame frame) {
        try {
            return joining.putAside(frame, config.maxInFlight(), owed);
        } catch (ChatException e) {
            if (limits.refused() == FrameLimits.Verdict.CLOSE) {
                log.warn("closing connection of user={}: it kept sending past its rate limits", user);
                close(CloseCode.RATE_LIMITED);
            } else {
                reject(frame.ref(), e);
            }
            return true;
        }
    }

    private void join(ClientFrame.Join j) {
        String room = chat.limits().room(j.room());
        if (!holds(room)) take(room);
        if (joining == null) joining = new JoinWaits();
        joining.begin(room);
        // Joining a room again goes on from what this connection was given (ChatService.join);
        // should it fail, the connection is out of the room.
        rooms.remove(room);
        owed++;
        chat.join(this, room, j.since(), j.ref(), this::open).onComplete(ar -> {
            ArrayDeque<ClientFrame> waiting = joining.end(room);
            if (joining.isEmpty()) joining = null;
            if (ar.succeeded()) {
                if (closed) {
                    leaveQuietly(room); // let go with the rest at the close
                } else {
                    rooms.put(room, ar.result());
                }
            } else {
                // Out of the room, as said above: a join again that failed leaves the subscription
                // the connection had, else it would go on receiving the room and, once closed, stay
                // online in it (the close lets go of the rooms it holds, and it holds this one no more).
                leaveQuietly(room);
                if (!closed) chat.exitRoom(user, room);
                reject(j.ref(), ar.cause());
            }
            // Not taken yet when a close was decided: they get no answer.
            while (waiting != null && !waiting.isEmpty() && !closed && closing == null) {
                handle(waiting.poll());
                if (joining != null && joining.inProgress(room)) { // that frame was a join again
                    joining.waitAgain(room, waiting);
                    break;
                }
            }
            answered();
        });
    }

    /** Whether the connection is in the room or joining it: it holds it, and it counts against the caps. */
    private boolean holds(String room) {
        return rooms.containsKey(room) || joining != null && joining.inProgress(room);
    }

    /**
     * Takes a room on, within the caps on rooms per connection and per user (PROTOCOL.md section 12):
     * else {@code too_many_rooms}. A room a removal took the connection out of no longer counts
     * (see {@link #removed}).
     */
    private void take(String room) {
        int held = rooms.size() + (joining == null ? 0 : joining.size());
        if (held >= config.maxRoomsPerConnection()) {
            throw new ChatException(ErrorCode.TOO_MANY_ROOMS, "this connection is in " + held + " rooms, the most one connection may be in; leave one first");
        }
        chat.enterRoom(user, room);
    }

    /** Lets a room go: out of the caps. */
    private void release(String room) {
        if (rooms.remove(room) != null) chat.exitRoom(user, room);
    }

    /** Whether work asked for by this connection is still wanted: not once it is closed. Any thread. */
    private boolean open() {
        return !closed;
    }

    private void leave(ClientFrame.Leave l) {
        String room = l.room();
        Seat seat = rooms.get(room);
        if (seat != null && seat.removed()) release(room); // taken out already: not_joined below
        chat.leave(this, room);
        release(room);
        queue(FrameCodec.left(l.ref(), room), "left");
    }

    /**
     * Joined, or joining: frames are handled in order, so a client may pipeline a send right after
     * its join without waiting for {@code joined}. If that message commits before the join reads
     * the room, it is history (at or below joined's lastSeq) and reaches the client in its ack only
     * (PROTOCOL.md, send). ChatService asks this when it checks membership.
     */
    @Override
    public boolean inRoom(String room) {
        Seat seat = rooms.get(room);
        return seat != null && !seat.removed() || joining != null && joining.inProgress(room);
    }

    @Override
    public Seat seat(String room) {
        return rooms.get(room);
    }

    private void send(ClientFrame.Send s) {
        owed++;
        long taken = System.nanoTime();
        chat.send(this, s.room(), s.clientId(), s.text(), s.replyTo()).onComplete(ar -> {
            if (ar.succeeded()) {
                queue(FrameCodec.ack(s.ref(), ar.result()), "ack");
                metrics.acked(System.nanoTime() - taken);
            } else {
                reject(s.ref(), ar.cause());
            }
            answered();
        });
    }

    /**
     * An edit, delete or react: answered with an ack once its event is durable (or it changed
     * nothing). Made after this connection's previous change is made: each is
     * stored on a worker thread, and run side by side, three edits sent in a row were stored in any
     * order (the message kept the second's text) and an un-react sent last could be stored first.
     * The frames in flight bound how many wait here.
     */
    private void changed(String ref, Supplier<io.vertx.core.Future<dev.parley.chat.MessageEdits.Change>> make) {
        owed++;
        io.vertx.core.Future<dev.parley.chat.MessageEdits.Change> change = changes.transform(previous -> {
            try {
                return make.get();
            } catch (RuntimeException e) { // a refusal (not_joined, bad_request, ...) is answered below
                return io.vertx.core.Future.failedFuture(e);
            }
        });
        changes = change;
        change.onComplete(ar -> {
            if (ar.succeeded()) queue(FrameCodec.changeAck(ref, ar.result()), "ack");
            else reject(ref, ar.cause());
            answered();
        });
    }

    private void typing(ClientFrame.Typing t) {
        chat.typing(this, t.room());
    }

    private void history(ClientFrame.History h) {
        owed++;
        chat.history(user, h.room(), h.before(), null, h.limit(), this::open).onComplete(ar -> {
            if (ar.succeeded()) {
                queue(FrameCodec.history(h.ref(), h.room(), ar.result().messages(), ar.result().hasMore(), ar.result().historyStart()), "history");
            } else {
                reject(h.ref(), ar.cause());
            }
            answered();
        });
    }

    /** Answered once the marker is stored; the user's other connections in the room are told by the delivery. */
    private void read(ClientFrame.Read r) {
        owed++;
        chat.read(this, r.room(), r.seq(), this::open).onComplete(ar -> {
            if (ar.succeeded()) {
                queue(FrameCodec.read(r.ref(), ar.result()), "read");
            } else {
                reject(r.ref(), ar.cause());
            }
            answered();
        });
    }

    private void refresh(ClientFrame.Refresh r) {
        owed++;
        chat.authenticate(r.token()).onComplete(ar -> {
            if (ar.succeeded()) applyRefresh(r, ar.result());
            else reject(r.ref(), ar.cause());
            answered();
        });
    }

    private void applyRefresh(ClientFrame.Refresh r, java.util.Optional<TokenService.Identity> id) {
        if (id.isEmpty()) {
            reject(r.ref(), new ChatException(ErrorCode.UNAUTHORIZED, "the token is invalid or expired"));
        } else if (!id.get().username().equals(user)) {
            reject(r.ref(), new ChatException(ErrorCode.FORBIDDEN, "the token is for another user"));
        } else {
            identity = id.get();
            scheduleExpiry();
        }
    }

    /**
     * A revocation touched this connection's user: if it was its token, closes with 4003 (after the
     * answers it owes, as every close the server decides on). Runs on the event loop.
     */
    void revalidate() {
        if (closed || closing != null || chat.stillValid(identity)) return;
        log.info("closing connection of user={}: session revoked", user);
        metrics.revokedClosed();
        close(CloseCode.SESSION_REVOKED);
    }

    // --- frames out (any thread) ---

    @Override
    public void joined(Joined joined, HandOff handOff) {
        if (outbox.offerReply(FrameCodec.joined(joined), handOff)) metrics.frameOutCounter("joined").increment();
    }

    @Override
    public void message(Message message, HandOff handOff) {
        if (outbox.offer(FrameCodec.message(message), handOff)) messagesOut.increment();
    }

    @Override
    public void read(ReadState state, HandOff handOff) {
        if (outbox.offer(FrameCodec.read(null, state), handOff)) metrics.frameOutCounter("read").increment();
    }

    @Override
    public void removed(String room, String reason, HandOff handOff) {
        if (outbox.offerReply(FrameCodec.removed(room, reason), handOff)) metrics.frameOutCounter("left").increment();
        // Out of the caps on rooms, on the event loop: a client told it was removed need not leave.
        context.runOnContext(x -> {
            Seat seat = rooms.get(room);
            if (!closed && seat != null && seat.removed()) release(room);
        });
    }

    @Override
    public void prepare(List<Message> replay) {
        for (Message m : replay) FrameCodec.message(m);
    }

    @Override
    public void notice(Notice notice, HandOff handOff) {
        if (outbox.offerDroppable(FrameCodec.notice(notice), handOff)) {
            (switch (notice.kind()) {
                case TYPING -> typingOut;
                case SUMMARY -> summaryOut;
                default -> presenceOut;
            }).increment();
        } else {
            metrics.ephemeralDropped();
        }
    }

    private void queue(ByteBuf frame, String type) {
        if (outbox.offerReply(frame)) metrics.frameOutCounter(type).increment();
    }

    /** Answers a failed frame with an error frame; a connection that keeps failing is closed with 1008. */
    private void reject(String ref, Throwable err) {
        if (err instanceof Blocking.Abandoned) return; // for a connection that is gone: nobody to tell
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
        metrics.error(code.wire());
        queue(FrameCodec.error(ref, code, message), "error");
        if (code != ErrorCode.UNAVAILABLE && code != ErrorCode.INTERNAL && code != ErrorCode.RATE_LIMITED && ++errorsInWindow > ABUSE_ERRORS) {
            log.warn("closing connection of user={}: more than {} invalid frames in 10 s", user, ABUSE_ERRORS);
            close(CloseCode.POLICY);
        }
    }

    void onBinary() {
        if (closing != null) return;
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
        }
    }

    /** Called by the endpoint's heartbeat on this connection's context. */
    void heartbeat(long timeoutNanos) {
        if (closed) return;
        if (System.nanoTime() - lastHeardNanos > timeoutNanos) {
            log.info("closing connection of user={}: no answer to pings", user);
            frames.close(CloseCode.HEARTBEAT_TIMEOUT.code, CloseCode.HEARTBEAT_TIMEOUT.reason, true);
            return;
        }
        frames.ping();
    }

    /** On the channel's event loop directly: a Netty timer costs an idle connection less than a Vert.x one. */
    private void scheduleExpiry() {
        if (expiryTimer != null) expiryTimer.cancel(false);
        Instant expiresAt = identity.expiresAt();
        long ms = Math.max(1, expiresAt.toEpochMilli() - System.currentTimeMillis());
        expiryTimer = frames.channelHandlerContext().executor().schedule(() -> {
            expiryTimer = null;
            if (!closed && !Instant.now().isBefore(expiresAt)) close(CloseCode.TOKEN_EXPIRED);
        }, ms, TimeUnit.MILLISECONDS);
    }

    private void tooSlow(Outbox.Overflow why) {
        if (closed) return;
        // Nothing more fits in the outbox: a close waiting for owed answers gives up on them.
        if (closing != null) closing.deadline().cancel(false);
        log.warn("closing slow connection of user={} ({}): the client is not reading; queued {} of {} frames, {} of {} bytes",
                user, why.metric, outbox.framesAtOverflow(), config.outboxFrames(), outbox.bytesAtOverflow(), config.outboxBytes());
        metrics.slowConsumerClosed(why.metric);
        frames.close(why.close.code, why.close.reason, false);
        leaveEverything(); // as in close(): a client that reads nothing will not answer the close frame either
    }

    /**
     * Closes with the code once the answers owed to the frames already taken are queued (or after
     * {@value #OWED_ANSWERS_WAIT_MILLIS} ms), then sends what is queued and the close frame. Frames
     * that arrive meanwhile are not taken. Runs on the event loop.
     */
    void close(CloseCode code) {
        close(code.code, code.reason);
    }

    /** The same with any code: the frame layer's failures use RFC 6455's own (1002, 1007). */
    void close(int code, String reason) {
        if (closed || closing != null) return;
        if (owed == 0) {
            closeNow(code, reason);
            return;
        }
        // An ack owed for a send in the store, lost to the close, would leave the client unsure
        // whether its message was stored (PROTOCOL.md section 10).
        closing = new PendingClose(code, reason, frames.channelHandlerContext().executor()
                .schedule(() -> closeNow(code, reason), OWED_ANSWERS_WAIT_MILLIS, TimeUnit.MILLISECONDS));
    }

    /** A frame taken has its answer queued: a close waiting for the last one goes ahead. */
    private void answered() {
        owed--;
        if (owed == 0 && closing != null && !closed) closeNow(closing.code(), closing.reason());
    }

    private void closeNow(int code, String reason) {
        if (closed) return;
        if (closing != null) closing.deadline().cancel(false);
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

    /** For the node's outbox budget (WsEndpoint), which reads its size and may give up on it. */
    Outbox outbox() {
        return outbox;
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
        if (closing != null) closing.deadline().cancel(false);
        for (String room : new ArrayList<>(rooms.keySet())) leaveQuietly(room);
        // Every room it holds, joins under way included, goes out of the caps now (a join under way
        // leaves its room in the delivery itself, when it completes).
        for (String room : rooms.keySet()) chat.exitRoom(user, room);
        if (joining != null) for (String room : joining.rooms()) chat.exitRoom(user, room);
        rooms.clear();
        outbox.close();
    }

    private void leaveQuietly(String room) {
        try {
            chat.leave(this, room);
        } catch (ChatException e) {
            // not in it after all: nothing to leave
        }
    }
}
