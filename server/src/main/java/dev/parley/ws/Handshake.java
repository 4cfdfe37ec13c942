package dev.parley.ws;

import dev.parley.http.RequestHeadDeadline;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;
import io.netty.util.concurrent.GenericFutureListener;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

import java.util.Locale;
import java.util.Set;

/**
 * The WebSocket opening handshake (RFC 6455 section 4.2), done with Netty's own handshaker on the
 * channel under a Vert.x HTTP/1 request, so that the WebSocket runs on Netty alone. Vert.x's
 * {@code ServerWebSocket} would keep, per idle connection, two queues of 1,025 slots, the upgrade
 * request with its headers and two Vert.x connection objects: more than the whole memory budget of an
 * idle connection (issue 5).
 *
 * <p>This is the one place that knows Vert.x's HTTP internals: the request's connection is a
 * {@link ConnectionBase}, whose handler sits in the channel's pipeline. After {@link #takeOver} that
 * handler is gone and nothing refers to Vert.x's request or connection any more. The only other
 * internal API the WebSocket uses is {@code ContextInternal}: {@link WsEndpoint} takes the event
 * loop's own context with it, and {@link FrameHandler} makes that context current while it calls the
 * {@link Connection}.
 */
final class Handshake {
    /** The version of RFC 6455, named in the answer to a request for another one. */
    static final String VERSION = "13";
    /** RFC 6455 and the two drafts with the same framing, all that Netty's handshaker factory takes (as Vert.x did). */
    private static final Set<String> VERSIONS = Set.of("13", "8", "7");

    private Handshake() {}

    /** The frame decoder's settings, the same for every connection (each decoder would otherwise hold its own). */
    static WebSocketDecoderConfig decoderConfig(int maxFrameBytes) {
        return WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(maxFrameBytes)
                .allowExtensions(false)
                .expectMaskedFrames(true)
                .allowMaskMismatch(false)
                // FrameHandler closes, with the code of the violation.
                .closeOnProtocolViolation(false)
                .build();
    }

    /** Why a GET {@code req} is not a WebSocket opening handshake, or null if it is one (of any version). */
    static String problem(HttpServerRequest req) {
        if (req.version() != HttpVersion.HTTP_1_1) return "a WebSocket upgrade needs HTTP/1.1";
        if (!"websocket".equalsIgnoreCase(trim(req.getHeader(HttpHeaderNames.UPGRADE)))) return "a WebSocket upgrade is required";
        if (!hasToken(req.getHeader(HttpHeaderNames.CONNECTION), "upgrade")) return "a WebSocket upgrade is required";
        String key = req.getHeader(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        if (key == null || key.isBlank()) return "Sec-WebSocket-Key is required";
        return null;
    }

    /** Whether the client asks for a version this server speaks. */
    static boolean supportedVersion(HttpServerRequest req) {
        return VERSIONS.contains(String.valueOf(trim(req.getHeader(HttpHeaderNames.SEC_WEBSOCKET_VERSION))));
    }

    /** The channel under an HTTP/1 request. */
    static Channel channelOf(HttpServerRequest req) {
        return ((ConnectionBase) req.connection()).channel();
    }

    /**
     * What the handshake needs of the request, copied out of Vert.x's: Netty's handshaker reads the
     * key and checks the Upgrade and Connection headers again. Nothing else is kept.
     */
    static FullHttpRequest nettyRequest(HttpServerRequest req) {
        HttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.UPGRADE, req.getHeader(HttpHeaderNames.UPGRADE));
        h.set(HttpHeaderNames.CONNECTION, req.getHeader(HttpHeaderNames.CONNECTION));
        h.set(HttpHeaderNames.SEC_WEBSOCKET_KEY, req.getHeader(HttpHeaderNames.SEC_WEBSOCKET_KEY));
        h.set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, trim(req.getHeader(HttpHeaderNames.SEC_WEBSOCKET_VERSION)));
        return new DefaultFullHttpRequest(io.netty.handler.codec.http.HttpVersion.HTTP_1_1, HttpMethod.GET, req.uri(),
                Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE);
    }

    /**
     * Takes the channel away from Vert.x and answers 101. Runs on the channel's event loop, outside
     * Vert.x's own handling of the request. Vert.x's HTTP handler is replaced by {@code frames}; the
     * handshaker replaces the HTTP decoder by a WebSocket frame decoder, adds the frame encoder, and
     * removes the HTTP encoder once the 101 is written. The returned future completes then.
     *
     * @return null if the channel is no longer Vert.x's HTTP/1 channel (it closed meanwhile)
     */
    static ChannelFuture takeOver(HttpServerRequest req, FullHttpRequest handshake, FrameHandler frames, WebSocketDecoderConfig decoder) {
        ConnectionBase http = (ConnectionBase) req.connection();
        ChannelHandlerContext vertx = http.channelHandlerContext();
        Channel channel = vertx.channel();
        if (!channel.isActive() || vertx.isRemoved()) return null;
        ChannelPipeline p = channel.pipeline();
        // Vert.x completes the connection's close future from a listener on the channel's: left
        // there, it would keep the Vert.x connection, and all it holds, alive as long as the channel.
        if (http.closeFuture() instanceof FutureListener<?> l) channel.closeFuture().removeListener(rawListener(l));
        // Compression and decompression are off (ChatServer); were they on, they would not belong here.
        if (p.get("deflater") != null) p.remove("deflater");
        if (p.get("inflater") != null) p.remove("inflater");
        // Vert.x's idle watch of HTTP connections (ChatServer): the heartbeat watches a WebSocket, and
        // the watch's timer would cost every idle connection memory and wake-ups.
        if (p.get("idle") != null) p.remove("idle");
        // The deadline of HTTP request heads (ChatServer): what follows on this channel is WebSocket frames.
        RequestHeadDeadline.remove(p);
        p.replace(vertx.handler(), "parley-ws", frames);
        // Paused while a token was verified (WsEndpoint): the WebSocket reads on its own from now on.
        channel.config().setAutoRead(true);
        // The location is only written by handshakes older than the versions taken here.
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(req.path(), null, decoder).newHandshaker(handshake);
        return handshaker.handshake(channel, handshake, null, channel.newPromise());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static GenericFutureListener<? extends Future<? super Void>> rawListener(FutureListener<?> l) {
        return (GenericFutureListener) l;
    }

    private static String trim(String s) {
        return s == null ? null : s.trim();
    }

    /** Whether a comma-separated header holds {@code token}, case-insensitively ("keep-alive, Upgrade"). */
    private static boolean hasToken(String header, String token) {
        if (header == null) return false;
        for (String t : header.split(",")) {
            if (t.trim().toLowerCase(Locale.ROOT).equals(token)) return true;
        }
        return false;
    }
}
