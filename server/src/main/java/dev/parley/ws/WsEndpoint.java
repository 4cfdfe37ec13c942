package dev.parley.ws;

import dev.parley.auth.TokenService;
import dev.parley.chat.ChatService;
import dev.parley.chat.ErrorCode;
import dev.parley.config.ChatConfig;
import dev.parley.http.HttpErrors;
import dev.parley.metrics.ChatMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * {@code GET /ws}: checks the Origin (403) and the token (401) before upgrading, so that a rejected
 * client never gets a socket, then does the WebSocket handshake on the Netty channel. Keeps the set of
 * open connections for the heartbeat and the drain. The token arrives in the Authorization header or
 * the query string, or stands behind a single-use ticket in the query string (what browsers use, so
 * that no lasting secret is in a URL); none is ever logged.
 */
public final class WsEndpoint {
    private static final Logger log = LoggerFactory.getLogger(WsEndpoint.class);
    private static final Set<String> LOCAL_HOSTS = Set.of("localhost", "127.0.0.1", "[::1]", "::1");

    private final Vertx vertx;
    private final ChatConfig config;
    private final ChatService chat;
    private final ChatMetrics metrics;
    private final WebSocketDecoderConfig decoderConfig;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    /**
     * How long a drain lets connections close before it goes on: a connection closing waits up to
     * {@code Connection.OWED_ANSWERS_WAIT_MILLIS} for the answers it owes, and then needs to write them.
     */
    public static final long DRAIN_CLOSE_MILLIS = Connection.OWED_ANSWERS_WAIT_MILLIS + 1_000;
    private long heartbeatTimer = -1;
    private volatile boolean draining;

    public WsEndpoint(Vertx vertx, ChatConfig config, ChatService chat, ChatMetrics metrics) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.config = requireNonNull(config, "config");
        this.chat = requireNonNull(chat, "chat");
        this.metrics = requireNonNull(metrics, "metrics");
        this.decoderConfig = Handshake.decoderConfig(config.maxFrameBytes());
        // Revocations are rare: looking at every connection for the user's is cheaper than an index
        // that every connection would pay for.
        chat.onRevoked(this::revoked);
    }

    /** A revocation touched the user (lowercase): their connections check their token, each on its own loop. */
    private void revoked(String user) {
        for (Connection c : connections) {
            if (c.user().equalsIgnoreCase(user)) c.context().runOnContext(v -> c.revalidate());
        }
    }

    /** Starts the heartbeat, which pings every connection and closes those that stopped answering; {@link #closeAll} stops it. */
    public void start() {
        long timeoutNanos = config.heartbeatTimeout().toNanos();
        this.heartbeatTimer = vertx.setPeriodic(config.heartbeatInterval().toMillis(), id -> {
            for (Connection c : connections) c.context().runOnContext(v -> c.heartbeat(timeoutNanos));
        });
    }

    public void handle(HttpServerRequest req) {
        if (req.method() != HttpMethod.GET) {
            req.response().putHeader(HttpHeaders.ALLOW, "GET");
            refuse(req, ErrorCode.METHOD_NOT_ALLOWED, "a WebSocket upgrade is a GET");
            return;
        }
        if (draining) {
            refuse(req, ErrorCode.UNAVAILABLE, "this node is shutting down; connect to another");
            return;
        }
        if (!originAllowed(req.getHeader(HttpHeaders.ORIGIN), req.getHeader(HttpHeaders.HOST))) {
            refuse(req, ErrorCode.FORBIDDEN, "origin not allowed");
            return;
        }
        // A header's token first, then a ticket (browsers: PROTOCOL.md 5), then a token in the query.
        String bearer = bearerOf(req), ticket = bearer == null ? req.getParam("ticket") : null;
        Future<Optional<TokenService.Identity>> verified = ticket != null ? chat.browserSessions().redeem(ticket)
                : chat.authenticate(bearer != null ? bearer : req.getParam("token"));
        // Verification may wait for the identity provider's keys, and a ticket for Redis: the request
        // waits, paused, meanwhile. (Nothing is read before this returns: this is the channel's thread.)
        if (!verified.isComplete()) req.pause();
        verified.onComplete(ar -> {
            if (ar.failed() || ar.result().isEmpty()) {
                refuse(req, ErrorCode.UNAUTHORIZED, ticket != null ? "invalid, expired or used ticket" : "missing, invalid or expired token");
                return;
            }
            upgrade(req, ar.result().get());
        });
    }

    /**
     * Answers the handshake and runs the WebSocket on the Netty channel itself (see {@link Handshake}):
     * an idle connection then holds the channel, its frame codec, a {@link FrameHandler} and a
     * {@link Connection}, and nothing of Vert.x's HTTP request or connection.
     */
    private void upgrade(HttpServerRequest req, TokenService.Identity identity) {
        String problem = Handshake.problem(req);
        if (problem != null) {
            log.debug("upgrade failed: {}", problem);
            refuse(req, ErrorCode.BAD_REQUEST, problem);
            return;
        }
        if (!Handshake.supportedVersion(req)) {
            log.debug("upgrade failed: WebSocket version {}", req.getHeader(HttpHeaderNames.SEC_WEBSOCKET_VERSION));
            req.response().putHeader(HttpHeaderNames.SEC_WEBSOCKET_VERSION, Handshake.VERSION);
            refuse(req, ErrorCode.UPGRADE_REQUIRED, "WebSocket version " + Handshake.VERSION + " is required");
            return;
        }
        // The event loop's own context, not the request's duplicate: shared by every connection on
        // this loop, so that Futures and timers started by a connection complete on its channel's thread.
        ContextInternal context = ((ContextInternal) vertx.getOrCreateContext()).unwrap();
        Channel channel = Handshake.channelOf(req);
        if (context.nettyEventLoop() != channel.eventLoop()) {
            log.error("the request's context runs on another event loop than its channel; refusing the upgrade");
            refuse(req, ErrorCode.INTERNAL, "unexpected server error");
            return;
        }
        FullHttpRequest handshake = Handshake.nettyRequest(req);
        // Outside Vert.x's handling of the request, which is still on the stack here.
        channel.eventLoop().execute(() -> {
            FrameHandler frames = new FrameHandler(context, config.maxFrameBytes());
            ChannelFuture shaken;
            try {
                shaken = Handshake.takeOver(req, handshake, frames, decoderConfig);
            } catch (RuntimeException e) {
                log.error("WebSocket handshake failed", e);
                channel.close();
                return;
            }
            if (shaken == null) return; // the client left
            Connection c = new Connection(frames, context, config, chat, metrics, this, identity);
            frames.connection(c);
            shaken.addListener(f -> {
                if (!f.isSuccess()) {
                    log.debug("WebSocket handshake failed: {}", f.cause().toString());
                    channel.close();
                    return;
                }
                connections.add(c);
                metrics.connectionOpened();
                c.start();
                if (draining) c.close(CloseCode.GOING_AWAY); // upgraded while closeAll went by
                else c.revalidate(); // revoked between the token check and now, when no listener could see it
            });
        });
    }

    void closed(Connection c) {
        if (connections.remove(c)) metrics.connectionClosed();
    }

    public int openConnections() {
        return connections.size();
    }

    /** Stops accepting connections (they get 503); existing ones stay until {@link #closeAll}. */
    public void startDraining() {
        draining = true;
    }

    /** Closes every connection with {@code code} after sending what is queued for it. */
    public Future<Void> closeAll(CloseCode code, long timeoutMillis) {
        if (heartbeatTimer >= 0) vertx.cancelTimer(heartbeatTimer);
        List<Future<Void>> all = new ArrayList<>();
        for (Connection c : connections) {
            Promise<Void> p = Promise.promise();
            c.context().runOnContext(v -> {
                c.close(code);
                p.complete();
            });
            all.add(p.future());
        }
        Promise<Void> done = Promise.promise();
        Future.join(all).onComplete(x -> {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            // Give the close handshakes a moment, so clients see the code rather than a reset.
            vertx.setPeriodic(20, id -> {
                if (connections.isEmpty() || System.nanoTime() > deadline) {
                    vertx.cancelTimer(id);
                    done.tryComplete();
                }
            });
        });
        return done.future();
    }

    boolean originAllowed(String origin, String host) {
        if (origin == null) return true; // not a browser: browsers always send Origin on WebSocket requests
        List<String> allowed = config.allowedOrigins();
        if (allowed.contains("*")) return true;
        String o = origin.toLowerCase(Locale.ROOT);
        if (!allowed.isEmpty()) return allowed.stream().anyMatch(a -> a.equalsIgnoreCase(o));
        try {
            URI u = URI.create(o);
            String originHost = u.getHost();
            if (originHost == null) return false;
            if (LOCAL_HOSTS.contains(originHost)) return true;
            String hostPort = originHost + (u.getPort() >= 0 ? ":" + u.getPort() : "");
            return host != null && (host.equalsIgnoreCase(hostPort) || host.equalsIgnoreCase(originHost) && u.getPort() < 0);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String bearerOf(HttpServerRequest req) {
        String auth = req.getHeader(HttpHeaders.AUTHORIZATION);
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) return auth.substring(7).trim();
        return null;
    }

    private void refuse(HttpServerRequest req, ErrorCode code, String message) {
        HttpErrors.refuse(req.response(), metrics, code, message);
    }
}
