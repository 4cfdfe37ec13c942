package dev.parley.ws;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.CharsetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The frame layer of one WebSocket (RFC 6455), on the Netty channel after the handshake, between
 * Netty's frame decoder and a {@link Connection}: aggregates fragmented messages up to the size limit,
 * checks that text is UTF-8, answers pings (the latest only while the socket takes nothing), and runs
 * the closing handshake. The connection sees whole
 * text messages, binary messages (to refuse them) and every frame as a sign of life.
 *
 * <p>Runs on the channel's event loop. Calls into the connection run with its Vert.x context as the
 * current one, so that the Futures and timers it starts stay on this event loop.
 */
final class FrameHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(FrameHandler.class);
    /** How long to wait for the client's answer to our close frame before ending the TCP connection (Vert.x's default). */
    private static final long CLOSING_TIMEOUT_SECONDS = 10;
    /** A ping frame as the server sends it (final, unmasked, payload "hb"), written as bytes like the Outbox's frames. */
    private static final ByteBuf HEARTBEAT_PING = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[]{(byte) 0x89, 2, 'h', 'b'}).asReadOnly());

    private final ContextInternal context;
    private final int maxMessageBytes;
    private Connection connection;
    private ChannelHandlerContext ctx;
    /** The text message being received in fragments, or null. */
    private CompositeByteBuf fragments;
    /** Bytes so far of a message received in fragments, text or binary; -1 between messages. */
    private int fragmentedBytes = -1;
    private boolean closeSent;
    /** Closing for what the client sent: its data frames are no longer read, even before our close frame leaves. */
    private boolean failed;
    /**
     * Netty's decoder met a protocol violation (1002, or a frame over the limit: 1009) and reads
     * nothing from then on, the client's answer to our close frame included.
     */
    private boolean decoderFailed;
    private ScheduledFuture<?> closingTimeout;
    /** The payload of the latest ping received while the socket was not writable, to answer once it is; or null. */
    private ByteBuf heldPong;

    FrameHandler(ContextInternal context, int maxMessageBytes) {
        this.context = context;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Set once, before the first frame can arrive (frames flow after the 101, which comes after this). */
    void connection(Connection connection) {
        this.connection = connection;
    }

    ChannelHandlerContext channelHandlerContext() {
        return ctx;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    // --- frames in ---

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // What Vert.x's HTTP decoder still passes on after the handshake (the request's end) is not ours.
        if (!(msg instanceof WebSocketFrame frame) || connection == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            read(frame);
        } finally {
            frame.release();
        }
    }

    private void read(WebSocketFrame frame) {
        switch (frame) {
            case CloseWebSocketFrame close -> onClose(close);
            case PingWebSocketFrame ping -> {
                heard();
                if (!closeSent) pong(ping.content());
            }
            case PongWebSocketFrame pong -> heard();
            default -> {
                heard();
                // After our close frame, the client may still send what it had in flight: it is dropped.
                if (!closeSent && !failed) onData(frame);
            }
        }
    }

    /** Text, binary or continuation; Netty's decoder has checked that the fragments come in a legal order. */
    private void onData(WebSocketFrame frame) {
        ByteBuf content = frame.content();
        if (frame instanceof ContinuationWebSocketFrame) {
            fragmentedBytes += content.readableBytes();
            if (fragmentedBytes > maxMessageBytes) {
                logError("a message in fragments of more than " + maxMessageBytes + " bytes");
                fail(CloseCode.TOO_BIG); // the rest of the message is dropped
                return;
            }
            if (fragments != null) fragments.addComponent(true, content.retain());
            if (frame.isFinalFragment()) {
                CompositeByteBuf text = fragments;
                fragments = null;
                fragmentedBytes = -1;
                if (text == null) {
                    binary();
                } else {
                    try {
                        text(text);
                    } finally {
                        text.release();
                    }
                }
            }
            return;
        }
        boolean isText = frame instanceof TextWebSocketFrame;
        if (frame.isFinalFragment()) {
            if (isText) text(content);
            else if (frame instanceof BinaryWebSocketFrame) binary();
            return;
        }
        fragmentedBytes = content.readableBytes();
        if (isText) {
            fragments = ctx.alloc().compositeBuffer();
            fragments.addComponent(true, content.retain());
        }
    }

    private void text(ByteBuf utf8) {
        // RFC 6455 section 8.1: text that is not UTF-8 fails the connection (1007).
        if (!ByteBufUtil.isText(utf8, CharsetUtil.UTF_8)) {
            logError("a text message that is not UTF-8");
            fail(CloseCode.INVALID_PAYLOAD);
            return;
        }
        String text = utf8.toString(CharsetUtil.UTF_8);
        ContextInternal previous = context.beginDispatch();
        try {
            connection.onText(text);
        } finally {
            context.endDispatch(previous);
        }
    }

    private void binary() {
        ContextInternal previous = context.beginDispatch();
        try {
            connection.onBinary();
        } finally {
            context.endDispatch(previous);
        }
    }

    /**
     * Answers a ping now if the socket takes data, else keeps it (the latest only) until the socket
     * does. Written at once whatever the socket's state, the pongs to a client that pings and never
     * reads would pile up in Netty's buffer, past the outbox and its bounds (issue 20); RFC 6455
     * section 5.5.3 lets an endpoint answer only the most recent of several pings.
     */
    private void pong(ByteBuf payload) {
        if (ctx.channel().isWritable()) {
            ctx.writeAndFlush(new PongWebSocketFrame(payload.retain()));
            return;
        }
        releaseHeldPong();
        heldPong = payload.retain(); // at most 125 bytes: Netty's decoder refuses longer control frames
    }

    private void releaseHeldPong() {
        if (heldPong != null) {
            heldPong.release();
            heldPong = null;
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && heldPong != null) {
            ByteBuf payload = heldPong;
            heldPong = null;
            if (!closeSent) ctx.writeAndFlush(new PongWebSocketFrame(payload));
            else payload.release();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Closes for what the client sent, after what is queued for it. The connection may first wait
     * for answers it owes, and sends the close frame then.
     */
    private void fail(CloseCode code) {
        failed = true;
        endFragments();
        connection.close(code);
    }

    private void heard() {
        connection.heard();
    }

    private void endFragments() {
        fragmentedBytes = -1;
        if (fragments != null) {
            fragments.release();
            fragments = null;
        }
    }

    // --- closing ---

    private void onClose(CloseWebSocketFrame close) {
        if (closeSent) {
            // The client's answer to our close: the handshake is complete, and the server ends TCP (RFC 6455 section 7.1.1).
            ctx.close();
            return;
        }
        closeSent = true;
        releaseHeldPong();
        int code = close.statusCode();
        // Echo the client's code (none if it sent none), then end the TCP connection. (Netty's decoder
        // has refused codes a close frame may not carry.) An empty close frame reads as -1, which
        // Netty's WebSocketCloseStatus.isValidStatusCode accepts and which would go out as 65535.
        CloseWebSocketFrame answer = code >= 1000 ? new CloseWebSocketFrame(code, null) : new CloseWebSocketFrame();
        ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
        endWithin(CLOSING_TIMEOUT_SECONDS); // a client that reads nothing never lets the echo be written
    }

    /**
     * Ends the TCP connection after {@code seconds} whatever happens meanwhile. A close that waits for
     * its close frame to be written waits for ever on a client that reads nothing: the frame stays in
     * Netty's buffer, behind what the client did not read, and the connection with it (issue 20).
     */
    private void endWithin(long seconds) {
        if (closingTimeout == null) closingTimeout = ctx.executor().schedule(() -> ctx.channel().close(), seconds, TimeUnit.SECONDS);
    }

    /**
     * Sends a close frame. The TCP connection ends when the client answers it, or after a timeout; at
     * once if {@code now} (the client is not answering anything any more).
     */
    void close(int code, String reason, boolean now) {
        if (closeSent || !ctx.channel().isActive()) {
            if (now) ctx.close();
            return;
        }
        closeSent = true;
        endFragments();
        releaseHeldPong();
        ChannelFutureListener then = now ? ChannelFutureListener.CLOSE : f -> {
            if (!f.channel().isActive()) return;
            // The client's answer cannot be read: the handshake would only end with the timeout, and a
            // client that waits for the end of TCP after answering (RFC 6455 section 7.1.1) would wait
            // all of it. Our side ends now; reading goes on (and drops everything) until the client ends
            // its side, so that nothing it still sends meets a closed socket and resets the connection.
            if (decoderFailed) endOutput(f.channel());
        };
        ctx.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener(then);
        // Counted from now, not from when the close frame is written: to a client that reads nothing it never is.
        endWithin(CLOSING_TIMEOUT_SECONDS);
    }

    private static void endOutput(Channel channel) {
        if (channel instanceof DuplexChannel duplex) duplex.shutdownOutput();
        else channel.close();
    }

    /**
     * A WebSocket ping; the answer (or any frame) counts as a sign of life. None while the socket is
     * not writable: it would only wait in Netty's buffer behind what the client does not read.
     */
    void ping() {
        if (!closeSent && ctx.channel().isWritable()) ctx.writeAndFlush(HEARTBEAT_PING.duplicate(), ctx.voidPromise());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        logError(cause.toString());
        if (cause instanceof CorruptedWebSocketFrameException e && connection != null) {
            // Netty's decoder now drops all input, the client's close frame too (see close()).
            decoderFailed = true;
            fail(CloseCode.forDecoderStatus(e.closeStatus().code()));
            return;
        }
        ctx.close();
    }

    private void logError(String what) {
        log.debug("connection error user={}: {}", connection == null ? null : connection.user(), what);
    }

    /** The client ended its side (Netty passes this on only where half-closed connections are allowed). */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent && closeSent) {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        endFragments();
        releaseHeldPong();
        if (closingTimeout != null) closingTimeout.cancel(false);
        if (connection == null) return;
        ContextInternal previous = context.beginDispatch();
        try {
            connection.onClosed();
        } finally {
            context.endDispatch(previous);
        }
    }
}
