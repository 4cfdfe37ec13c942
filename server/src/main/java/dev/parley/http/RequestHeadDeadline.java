package dev.parley.http;

import dev.parley.chat.ErrorCode;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.impl.ConnectionBase;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A deadline for the head of every HTTP request (its request line and headers), that trickled bytes
 * do not extend: the connection's idle timeout starts again with each byte, so a client sending one
 * byte every few seconds (slowloris) could hold a socket for ever. The head of the first request must
 * have arrived {@code timeout} after the connection opened; the head of a later request on a kept-alive
 * connection, {@code timeout} after its first byte (a kept-alive connection waiting for its next
 * request is left to the idle timeout). Past it the client gets 408 ({@code request_timeout}) and the
 * connection is closed.
 *
 * <p>Two handlers share one watch: one before the HTTP decoder, which sees bytes arrive, and one after
 * it, which sees a head completed (the decoder passes a request on only then) and the request's end,
 * and the answers going out: a 408 is written only between answers, never into the middle of one.
 * {@link #remove} takes both away, as the WebSocket handshake does.
 */
public final class RequestHeadDeadline {
    private static final String BYTES = "parley-head-bytes";
    private static final String HEADS = "parley-head-requests";

    private final long timeoutNanos;
    private final Runnable onTimeout;
    private ChannelHandlerContext bytesCtx;
    private ScheduledFuture<?> timer;
    /** A request's head has come and its end not yet: the bytes arriving are its body. */
    private boolean inBody;
    /** Requests whose head has come and whose answer has not been written to its end. */
    private int unanswered;

    private RequestHeadDeadline(long timeoutNanos, Runnable onTimeout) {
        this.timeoutNanos = timeoutNanos;
        this.onTimeout = onTimeout;
    }

    /**
     * Adds the deadline to a new connection of Vert.x's HTTP server, from its connection handler (on
     * the channel's event loop, before the connection reads). Like {@code ws.Handshake}, this knows a
     * Vert.x internal: an HTTP/1 connection is a {@link ConnectionBase} on a Netty channel.
     *
     * @param onTimeout counts a 408 (runs on the channel's event loop)
     */
    public static void install(HttpConnection connection, long timeoutNanos, Runnable onTimeout) {
        if (connection instanceof ConnectionBase c) install(c.channel().pipeline(), timeoutNanos, onTimeout);
    }

    /**
     * Adds the deadline to an HTTP/1 pipeline of Vert.x, around its decoder ({@code httpDecoder}) and
     * before its connection handler ({@code handler}), and starts the first head's clock. A pipeline
     * without them (not HTTP/1) is left as it is.
     */
    static void install(ChannelPipeline pipeline, long timeoutNanos, Runnable onTimeout) {
        if (pipeline.get("httpDecoder") == null || pipeline.get("handler") == null || pipeline.get(BYTES) != null) return;
        RequestHeadDeadline deadline = new RequestHeadDeadline(timeoutNanos, onTimeout);
        pipeline.addBefore("httpDecoder", BYTES, deadline.new Bytes());
        pipeline.addBefore("handler", HEADS, deadline.new Heads());
        deadline.bytesCtx = pipeline.context(BYTES);
        deadline.start();
    }

    /** Takes the deadline away: the channel is no longer HTTP (a WebSocket). */
    public static void remove(ChannelPipeline pipeline) {
        if (pipeline.get(BYTES) != null) pipeline.remove(BYTES);
        if (pipeline.get(HEADS) != null) pipeline.remove(HEADS);
    }

    private void start() {
        if (timer == null) timer = bytesCtx.executor().schedule(this::expired, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expired() {
        timer = null;
        if (!bytesCtx.channel().isActive()) return;
        onTimeout.run();
        if (unanswered > 0) {
            // An answer is being written (a pipelined request came before this head): a 408 cannot go in its middle.
            bytesCtx.channel().close();
            return;
        }
        // Written from before the decoder, as bytes: the HTTP encoder behind it expects Vert.x's answers only.
        byte[] body = new JsonObject().put("error", ErrorCode.REQUEST_TIMEOUT.wire())
                .put("message", "the request line and headers took longer than " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms to arrive")
                .encode().getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 408 Request Timeout\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n"
                + "Connection: close\r\n\r\n";
        bytesCtx.writeAndFlush(Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body)).addListener(ChannelFutureListener.CLOSE);
        // A client that reads nothing never lets the answer be written: the connection ends anyway.
        bytesCtx.executor().schedule(() -> bytesCtx.channel().close(), 1, TimeUnit.SECONDS);
    }

    /**
     * Before the decoder: a byte arriving between requests starts the next head's clock. The start of
     * a head that arrives in the same read as the end of the request before it is not seen (the
     * decoder keeps it; a read is passed on here before it is decoded): its clock starts with its next
     * read, which the idle timeout bounds. Starting the clock at every request's end instead would cut
     * kept-alive connections that merely wait for their next request.
     */
    private final class Bytes extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            stop();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!inBody) start();
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            stop();
            ctx.fireChannelInactive();
        }
    }

    /** After the decoder: a head came (the clock stops) or a request ended; and the answers going out. */
    private final class Heads extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest) {
                stop();
                inBody = true;
                unanswered++;
            }
            // A request may be whole in one message (a head with its end): both apply.
            if (msg instanceof LastHttpContent) inBody = false;
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof LastHttpContent && unanswered > 0) unanswered--;
            ctx.write(msg, promise);
        }
    }
}
