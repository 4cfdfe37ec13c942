package dev.parley.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One WebSocket of the load generator, on raw Netty: it writes the upgrade request itself, then
 * decodes server frames in place from the socket's bytes. A text frame costs a header parse and a
 * short byte scan ({@link Scan}); no frame object, String or JSON tree is made for it. Everything
 * here runs on the channel's event loop.
 *
 * <p>It joins one room and tracks the seqs it receives there: a seq below the highest seen and not
 * seen before is an order violation, one seen before a duplicate; losses are counted at the end
 * against what the room's senders had acknowledged.
 *
 * <p>With a {@link Reconnect} (bench storm) it outlives its sockets: after a drop it waits as the
 * reconnect rule says, opens another, rejoins with {@code since} = the highest seq it has, and its
 * sender re-sends what was not acknowledged. The tracking of seqs goes on across them, so a message
 * replayed twice or skipped at the seam counts as for any other. Hence {@code @Sharable}: one socket
 * at a time, the next added once the last one ended, all on the same event loop.
 *
 * <p>Over 400 lines: the upgrade, the frame decoder, the seq tracking and the coming back share one
 * socket's state on one loop; apart, each would reach into the others' fields.
 */
@ChannelHandler.Sharable
final class BenchConnection extends ChannelInboundHandlerAdapter {
    private static final int MAX_FRAME = 1 << 20;
    private static final int MAX_HEADERS = 16 * 1024;
    private static final int MESSAGE_FIELDS_AT = Scan.ascii("{\"type\":\"message\",\"room\":\"").length;
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final byte[] JOIN_HEAD = Scan.ascii("{\"type\":\"join\",\"room\":\"");
    private static final byte[] SINCE = Scan.ascii("\",\"since\":");
    private static final byte[] NOT_RECOVERED = Scan.ascii("\"recovered\":false");
    private static final byte[] CLOSE_NORMAL = {0x03, (byte) 0xE8};
    /** How long a reconnecting socket may take from TCP connected to joined before it is given up as a failed attempt. */
    private static final long ATTEMPT_TIMEOUT_SECONDS = 30;

    final Target target;
    private final String token;
    final String room;
    private final int seqAt; // where seq's digits start in this room's message frames
    final LoopStats stats;
    private final RunClock clock;
    final CompletableFuture<BenchConnection> joined = new CompletableFuture<>();

    Channel channel;
    Sender sender;
    /** Its client event loop, and the local address to connect from (null: the system's choice). */
    EventLoop loop;
    InetAddress source;
    /** How this connection comes back after a drop; null: it does not (a drop ends it). */
    Reconnect reconnect;
    /** The bench closed it for good: no reconnect. */
    private boolean stopped;
    /** Joined on the current socket; volatile for the progress line. */
    private volatile boolean joinedNow;
    private int refusedWith; // the status of the current socket's refused upgrade, or 0
    private boolean timedOut; // the current socket was closed for taking too long to join
    private String lastFailure = "";
    private ChannelHandlerContext ctx;
    private ByteBuf pending; // bytes of an incomplete frame (or of the upgrade response)
    private boolean open;
    private String acceptExpected;
    private boolean closing;
    private boolean disconnected;
    int closeCode = -1;

    // delivery tracking, in this connection's room
    private long baseSeq = -1; // the room's lastSeq when joined
    private long highestSeq;
    /** How often this connection marks its room read, as the web client does when its user sees the newest message; 0: never. */
    long readEveryNanos;
    private long markedSeq;
    long distinct;
    private long[] seen = new long[2];

    BenchConnection(Target target, String token, String room, LoopStats stats, RunClock clock) {
        this.target = requireNonNull(target, "target");
        this.token = requireNonNull(token, "token");
        this.room = requireNonNull(room, "room");
        this.seqAt = MESSAGE_FIELDS_AT + room.length() + "\",\"seq\":".length();
        this.stats = requireNonNull(stats, "stats");
        this.clock = requireNonNull(clock, "clock");
    }

    /** Messages of the room this connection received, duplicates not counted. Read it on the loop. */
    long distinct() {
        return distinct;
    }

    boolean isOpen() {
        return open && !closing && channel != null && channel.isActive();
    }

    /** Joined its room on the current socket: what a send waits for. */
    boolean isJoined() {
        return joinedNow && isOpen();
    }

    boolean reconnects() {
        return reconnect != null;
    }

    // --- the upgrade ---

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.channel = ctx.channel();
        open = false; // a new socket (after a reconnect): nothing of the last one holds
        closing = false;
        disconnected = false;
        joinedNow = false;
        closeCode = -1;
        refusedWith = 0;
        timedOut = false;
        if (reconnect != null) {
            Channel attempt = channel;
            ctx.executor().schedule(() -> {
                if (channel == attempt && attempt.isActive() && !joinedNow) { // a server that took the socket and never answered
                    timedOut = true;
                    attempt.close();
                }
            }, ATTEMPT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        acceptExpected = accept(key);
        String request = "GET /ws HTTP/1.1\r\n"
                + "Host: " + target.hostHeader() + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n"
                + "Authorization: Bearer " + token + "\r\n\r\n";
        ctx.writeAndFlush(ctx.alloc().buffer(request.length()).writeBytes(request.getBytes(StandardCharsets.US_ASCII)));
    }

    static String accept(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        ByteBuf buf;
        if (pending == null) {
            buf = in;
        } else {
            pending.writeBytes(in);
            in.release();
            buf = pending;
        }
        try {
            if (!open && !upgrade(buf)) return;
            if (open) frames(buf, clock.now());
        } finally {
            keepRest(buf);
        }
    }

    /** Keeps the unread bytes (an incomplete frame) for the next read. */
    private void keepRest(ByteBuf buf) {
        if (!buf.isReadable()) {
            buf.release();
            pending = null;
        } else if (buf != pending) {
            pending = ctx.alloc().buffer(Math.max(4096, buf.readableBytes() * 2));
            pending.writeBytes(buf);
            buf.release();
        } else {
            pending.discardSomeReadBytes();
        }
    }

    /** @return true once the 101 response is complete and checked */
    private boolean upgrade(ByteBuf buf) {
        int end = Scan.after(buf, buf.readerIndex(), buf.writerIndex(), Scan.END_OF_HEADERS);
        if (end < 0) {
            if (buf.readableBytes() > MAX_HEADERS) fail("the upgrade response has no end of headers");
            return false;
        }
        String head = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.ISO_8859_1);
        buf.readerIndex(end);
        String status = head.substring(0, Math.max(0, head.indexOf("\r\n")));
        if (!status.startsWith("HTTP/1.1 101")) {
            String body = buf.toString(StandardCharsets.UTF_8);
            buf.skipBytes(buf.readableBytes());
            refusedWith = Reconnect.statusCode(status);
            if (reconnect != null) reconnect.refused(refusedWith, Reconnect.retryAfter(head));
            fail("upgrade refused: " + status + (body.isBlank() ? "" : " " + body.strip()));
            return false;
        }
        if (!head.toLowerCase().contains("sec-websocket-accept: " + acceptExpected.toLowerCase())) {
            fail("upgrade answered without the expected Sec-WebSocket-Accept");
            return false;
        }
        open = true;
        if (reconnect != null) reconnect.up(clock.now());
        ByteBuf join = ctx.alloc().heapBuffer(64 + room.length());
        join.writeBytes(JOIN_HEAD).writeCharSequence(room, StandardCharsets.US_ASCII);
        if (baseSeq >= 0) { // again, after a drop: resume after the highest seq received (PROTOCOL.md 9.4)
            join.writeBytes(SINCE);
            Scan.writeDecimal(join, highestSeq);
            join.writeByte('}');
        } else {
            join.writeByte('"').writeByte('}');
        }
        writeFrame(0x1, join);
        ctx.flush();
        return true;
    }

    // --- frames in ---

    private void frames(ByteBuf buf, long now) {
        while (true) {
            int r = buf.readerIndex();
            int avail = buf.writerIndex() - r;
            if (avail < 2) return;
            int b0 = buf.getByte(r) & 0xff;
            int b1 = buf.getByte(r + 1) & 0xff;
            int len = b1 & 0x7f;
            int header = 2;
            if (len == 126) {
                if (avail < 4) return;
                len = buf.getUnsignedShort(r + 2);
                header = 4;
            } else if (len == 127) {
                if (avail < 10) return;
                long l = buf.getLong(r + 2);
                if (l < 0 || l > MAX_FRAME) {
                    fail("a frame of " + l + " bytes");
                    return;
                }
                len = (int) l;
                header = 10;
            }
            if ((b1 & 0x80) != 0) {
                fail("the server sent a masked frame");
                return;
            }
            if (avail < header + len) return;
            int at = r + header;
            buf.readerIndex(at + len);
            if ((b0 & 0x80) == 0) {
                stats.unknownFrames++; // fragments: the server never sends them
                continue;
            }
            switch (b0 & 0x0f) {
                case 0x1 -> text(buf, at, at + len, now);
                case 0x9 -> { // the server's heartbeat: pong with the ping's payload, now (idle members never flush otherwise)
                    writeFrame(0xA, buf.retainedSlice(at, len));
                    ctx.flush();
                }
                case 0xA -> { }
                case 0x8 -> {
                    closeCode = len >= 2 ? buf.getUnsignedShort(at) : 1005;
                    if (!closing && reconnect == null) {
                        disconnected();
                        stats.error("closed " + closeCode);
                    }
                    closeSocket();
                    return;
                }
                default -> stats.unknownFrames++;
            }
        }
    }

    private void text(ByteBuf b, int at, int end, long now) {
        int len = end - at;
        if (len <= Scan.TYPE_AT) {
            stats.unknownFrames++;
            return;
        }
        // One copy into the loop's array (a memcpy), then plain array scans: no per-byte buffer checks.
        byte[] a = stats.scratch(len);
        b.getBytes(at, a, 0, len);
        switch (a[Scan.TYPE_AT]) {
            case 'm' -> message(a, len, now);
            case 'a' -> ack(a, len, now);
            case 'j' -> joined(a, len);
            case 'e' -> stats.error(Scan.string(a, Scan.after(a, 0, len, Scan.CODE), len));
            default -> stats.otherFrames++;
        }
    }

    private void message(byte[] a, int len, long now) {
        // {"type":"message","room":"<this room>","seq":N,... : seq is at a known place; scan if not.
        int s = seqAt;
        if (s >= len || a[s - 1] != ':' || a[s - 2] != '"') s = Scan.after(a, MESSAGE_FIELDS_AT, len, Scan.SEQ);
        long seq = Scan.number(a, s, len);
        if (seq <= 0) {
            stats.unknownFrames++;
            return;
        }
        stats.messages++;
        track(seq);
        int t = Scan.after(a, s, len, Scan.TEXT);
        long stamp = Scan.number(a, t, Math.min(len, t + Scan.STAMP_DIGITS));
        if (stamp < 0) return; // not one of ours
        if (clock.phase().measured(stamp)) {
            stats.measuredMessages++;
            stats.latency.record(now - stamp);
        } else {
            stats.latencyOutside.record(now - stamp);
        }
    }

    private void track(long seq) {
        long i = seq - baseSeq - 1;
        if (baseSeq < 0 || i < 0) {
            stats.outOfOrder++; // before the join's lastSeq: the server should not send it
            return;
        }
        if (seq > highestSeq) {
            if (seq > highestSeq + 1) stats.gaps++;
            highestSeq = seq;
            distinct++;
            mark(i);
        } else if (marked(i)) {
            stats.duplicates++;
        } else {
            stats.outOfOrder++;
            distinct++;
            mark(i);
        }
    }

    private void mark(long i) {
        int word = (int) (i >>> 6);
        if (word >= seen.length) seen = Arrays.copyOf(seen, Math.max(word + 1, seen.length * 2));
        seen[word] |= 1L << i;
    }

    private boolean marked(long i) {
        int word = (int) (i >>> 6);
        return word < seen.length && (seen[word] & (1L << i)) != 0;
    }

    private void ack(byte[] a, int len, long now) {
        stats.acked++;
        long id = Scan.number(a, Scan.after(a, 0, len, Scan.CLIENT_ID), len);
        if (sender != null) sender.acked(id, now);
    }

    private void joined(byte[] a, int len) {
        stats.otherFrames++;
        long last = Scan.number(a, Scan.after(a, 0, len, Scan.LAST_SEQ), len);
        joinedNow = true;
        if (baseSeq >= 0) { // a rejoin with since
            if (Scan.after(a, 0, len, NOT_RECOVERED) >= 0) stats.reconnect("not recovered"); // more missed than the replay limit
            if (reconnect != null) reconnect.joined(clock.now());
            if (sender != null) sender.resend();
            return;
        }
        baseSeq = Math.max(0, last);
        highestSeq = baseSeq;
        markedSeq = baseSeq;
        if (readEveryNanos > 0) ctx.executor().scheduleAtFixedRate(this::markRead, readEveryNanos, readEveryNanos, TimeUnit.NANOSECONDS);
        joined.complete(this);
    }

    /** A read frame up to the newest seq received, if any arrived since the last (on the loop). */
    private void markRead() {
        if (!isOpen() || highestSeq <= markedSeq) return;
        markedSeq = highestSeq;
        String frame = "{\"type\":\"read\",\"room\":\"" + room + "\",\"seq\":" + markedSeq + "}";
        writeFrame(0x1, ctx.alloc().buffer(frame.length()).writeBytes(frame.getBytes(StandardCharsets.US_ASCII)));
        ctx.flush();
        stats.readsSent++;
    }

    // --- frames out ---

    /** Writes a masked client frame (RFC 6455 5.3) holding {@code payload}, which it releases. Does not flush. */
    void writeFrame(int opcode, ByteBuf payload) {
        int n = payload.readableBytes();
        ByteBufAllocator alloc = ctx.alloc();
        ByteBuf frame = alloc.buffer(n + 14);
        frame.writeByte(0x80 | opcode);
        if (n < 126) {
            frame.writeByte(0x80 | n);
        } else if (n < 65536) {
            frame.writeByte(0x80 | 126).writeShort(n);
        } else {
            frame.writeByte(0x80 | 127).writeLong(n);
        }
        int mask = ThreadLocalRandom.current().nextInt();
        frame.writeInt(mask);
        int r = payload.readerIndex();
        int i = 0;
        for (; i + 4 <= n; i += 4) frame.writeInt(payload.getInt(r + i) ^ mask);
        for (; i < n; i++) frame.writeByte(payload.getByte(r + i) ^ (mask >>> (8 * (3 - (i & 3)))));
        payload.release();
        ctx.write(frame, ctx.voidPromise());
    }

    void flush() {
        ctx.flush();
    }

    ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    // --- closing ---

    /** Closes with 1000, for good (no reconnect); from any thread. */
    void close() {
        if (channel == null) {
            stopped = true; // not connected yet (or never): a reconnect waiting in the back-off sees it
            return;
        }
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(this::close);
            return;
        }
        stopped = true;
        closeSocket();
    }

    /** Closes the current socket with 1000 (answering the server's close, or for good). */
    private void closeSocket() {
        if (closing) return;
        closing = true;
        if (open && channel.isActive()) {
            writeFrame(0x8, ctx.alloc().buffer(2).writeBytes(CLOSE_NORMAL));
            ctx.flush();
        }
        channel.close();
    }

    /** The server closed or dropped this connection while the bench still used it. */
    private void disconnected() {
        if (disconnected) return;
        disconnected = true;
        stats.disconnects++;
        joined.completeExceptionally(new IllegalStateException(
                "closed by the server" + (closeCode >= 0 ? " with " + closeCode : "") + " before joined"));
        if (sender != null) sender.stop();
    }

    private void fail(String why) {
        if (reconnect == null) joined.completeExceptionally(new IllegalStateException(why));
        else lastFailure = why;
        closing = true;
        channel.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        joinedNow = false;
        if (reconnect != null) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
            if (!stopped) dropped(ctx.channel().eventLoop(), timedOut ? "timed out" : open ? (closeCode >= 0 ? "closed " + closeCode : "dropped") : null);
            return;
        }
        if (!closing) disconnected();
        joined.completeExceptionally(new IllegalStateException("connection closed before joined"));
        if (sender != null) sender.stop();
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (reconnect == null) joined.completeExceptionally(cause);
        else lastFailure = String.valueOf(cause);
        ctx.close();
    }

    // --- coming back (with a Reconnect) ---

    /** A socket could not be opened; on {@code loop}, this connection's. */
    void connectFailed(EventLoop loop, Throwable cause) {
        if (reconnect == null) {
            joined.completeExceptionally(cause);
            return;
        }
        if (stopped) return;
        lastFailure = String.valueOf(cause);
        closeCode = -1;
        open = false;
        dropped(loop, "connect failed");
    }

    /**
     * The socket ended without the bench asking: counts why ({@code what}; null: the upgrade was refused
     * or failed, counted there), and opens the next after the rule's wait, or gives up.
     */
    private void dropped(EventLoop loop, String what) {
        stats.reconnect(what != null ? what : refusedWith > 0 ? "refused " + refusedWith : "upgrade failed");
        long wait = reconnect.next(clock.now(), open ? closeCode : -1);
        open = false;
        if (wait < 0) {
            stats.reconnect("gave up");
            joined.completeExceptionally(new IllegalStateException("not reconnecting: " + (what != null ? what : lastFailure)));
            if (sender != null) sender.stop();
            return;
        }
        reconnect.policy.schedule(loop, () -> {
            if (!stopped) reconnect.policy.open(this);
        }, wait);
    }
}
