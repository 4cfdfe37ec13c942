package dev.parley.ws;

import dev.parley.auth.TokenService;
import dev.parley.chat.ChatService;
import dev.parley.chat.ErrorCode;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.http.ClientAddress;
import dev.parley.http.HttpErrors;
import dev.parley.metrics.ChatMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.util.NetUtil;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.ContextInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
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
 * {@code GET /ws}: checks the Origin (403), the connection caps (503 or 429, with Retry-After), the
 * node's rate of upgrades (503, with Retry-After: {@link UpgradeRate}) and the token (401) before upgrading, so that a rejected client never gets a socket, then does the WebSocket
 * handshake on the Netty channel. Keeps the set of open connections for the heartbeat, the drain and
 * the outboxes' budget. The token arrives in the Authorization header or the query string, or stands
 * behind a single-use ticket in the query string (what browsers use, so that no lasting secret is in
 * a URL); none is ever logged.
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
    /** Seconds a client refused for the node's cap is told to wait (Retry-After): soon, or another node. */
    static final int RETRY_AFTER_NODE_FULL_SECONDS = 5;
    /** Seconds a client refused for its address's or its user's cap is told to wait: until one of its own connections ends. */
    static final int RETRY_AFTER_CAPPED_SECONDS = 30;
    /** The {@code reason} of the refusal metric for an upgrade past {@code CHAT_UPGRADE_RATE}. */
    static final String RATE_REFUSAL = "rate";
    /** How often the outboxes' bytes are compared with their budget (and at once for a big frame, see {@link OutboxBudget}). */
    private static final long BUDGET_CHECK_MILLIS = 100;

    private final OutboxBudget outboxBudget;
    private final ConnectionCaps caps;
    private final UpgradeRate upgradeRate; // null: no limit
    private final ClientAddress clientAddress;
    private long heartbeatTimer = -1;
    private long budgetTimer = -1;
    private volatile boolean draining;

    public WsEndpoint(Vertx vertx, ChatConfig config, ChatService chat, ChatMetrics metrics) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.config = requireNonNull(config, "config");
        this.chat = requireNonNull(chat, "chat");
        this.metrics = requireNonNull(metrics, "metrics");
        this.decoderConfig = Handshake.decoderConfig(config.maxFrameBytes());
        this.outboxBudget = new OutboxBudget(config.effectiveOutboxBudget());
        this.caps = new ConnectionCaps(config.maxConnections(), config.maxConnectionsPerIp(), config.maxConnectionsPerUser());
        this.clientAddress = new ClientAddress(config.trustedProxies());
        this.upgradeRate = config.upgradeRate() > 0 ? new UpgradeRate(config.upgradeRate()) : null;
        // Every reason from the start, at 0: a dashboard sees the series before the first close.
        for (Outbox.Overflow o : Outbox.Overflow.values()) metrics.slowConsumerCounter(o.metric);
        for (ConnectionCaps.Refusal r : ConnectionCaps.Refusal.values()) metrics.refusalCounter(r.metric);
        metrics.refusalCounter(RATE_REFUSAL);
        metrics.outboxes(outboxBudget::queued, outboxBudget.limit(), this::socketPendingBytes);
        // Asked for between ticks from any thread (an event loop, the group-commit writer): run on an event loop of its own.
        Context budgetContext = vertx.getOrCreateContext();
        outboxBudget.onPassed(() -> budgetContext.runOnContext(v -> keepOutboxBudget()));
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

    /**
     * Starts the heartbeat, which pings every connection and closes those that stopped answering, and
     * the check of the outboxes' budget; {@link #closeAll} stops them.
     */
    public void start() {
        long timeoutNanos = config.heartbeatTimeout().toNanos();
        this.heartbeatTimer = vertx.setPeriodic(config.heartbeatInterval().toMillis(), id -> {
            for (Connection c : connections) c.context().runOnContext(v -> c.heartbeat(timeoutNanos));
        });
        this.budgetTimer = vertx.setPeriodic(BUDGET_CHECK_MILLIS, id -> keepOutboxBudget());
    }

    /**
     * Past the budget, gives up on the connections whose outboxes hold the most (4002, as too slow):
     * they are the clients that read least, and refusing frames instead would have connections that
     * stay open miss messages. A healthy reader's outbox is nearly empty, so it is not among them.
     * Looks at every connection only when the budget is passed; the sum alone is cheap.
     */
    private synchronized void keepOutboxBudget() { // from the timer, or asked for between its ticks
        outboxBudget.checking();
        long queued = outboxBudget.queued();
        if (queued <= outboxBudget.limit()) return;
        List<OutboxBudget.Holder<Connection>> holders = new ArrayList<>(connections.size());
        for (Connection c : connections) holders.add(new OutboxBudget.Holder<>(c, c.outbox().bytes(), c.outbox().closed()));
        List<Connection> shed = outboxBudget.toShed(queued, holders);
        if (shed.isEmpty()) return;
        log.warn("outboxes hold {} bytes, over their budget of {} ({}): closing the {} connections that hold the most as too slow",
                queued, outboxBudget.limit(), Setting.OUTBOX_BUDGET.env, shed.size());
        for (Connection c : shed) c.outbox().overflow(Outbox.Overflow.BUDGET);
    }

    /** Bytes waiting in Netty's buffers of every connection, for the metrics. */
    private long socketPendingBytes() {
        long sum = 0;
        for (Connection c : connections) sum += c.outbox().socketPendingBytes();
        return sum;
    }

    OutboxBudget outboxBudget() {
        return outboxBudget;
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
        // Before the token: a flood from one address costs a lookup in a map, not a verification.
        ConnectionCaps.Slot slot = caps.admit(addressOf(req));
        if (slot.refusal() != null) {
            refuseForCap(req, slot.refusal());
            return;
        }
        // After the caps (a client they refuse takes no turn from the others), before the token: past the
        // rate an upgrade costs the node nothing more than this answer.
        int retryAfter = upgradeRate == null ? 0 : upgradeRate.admit();
        if (retryAfter > 0) {
            slot.release();
            metrics.connectionRefused(RATE_REFUSAL);
            log.debug("upgrade refused: past {} upgrades a second", config.upgradeRate());
            req.response().putHeader(HttpHeaderNames.RETRY_AFTER, String.valueOf(retryAfter));
            refuse(req, ErrorCode.UNAVAILABLE, "this node is taking as many new connections a second as it may; retry after the seconds of Retry-After, or connect to another node");
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
                slot.release();
                refuse(req, ErrorCode.UNAUTHORIZED, ticket != null ? "invalid, expired or used ticket" : "missing, invalid or expired token");
                return;
            }
            ConnectionCaps.Refusal forUser = slot.addUser(ar.result().get().username());
            if (forUser != null) {
                slot.release();
                refuseForCap(req, forUser);
                return;
            }
            upgrade(req, ar.result().get(), slot);
        });
    }

    /**
     * 503 for the node's cap (another node, or this one soon, will take the client), 429 for its
     * address's or user's (it holds enough connections already). Both with Retry-After.
     */
    private void refuseForCap(HttpServerRequest req, ConnectionCaps.Refusal cap) {
        metrics.connectionRefused(cap.metric);
        log.debug("upgrade refused: the cap of connections per {} is reached", cap.metric);
        switch (cap) {
            case NODE -> {
                req.response().putHeader(HttpHeaderNames.RETRY_AFTER, String.valueOf(RETRY_AFTER_NODE_FULL_SECONDS));
                refuse(req, ErrorCode.UNAVAILABLE, "this node holds as many connections as it takes; retry later, or connect to another node");
            }
            case ADDRESS -> {
                req.response().putHeader(HttpHeaderNames.RETRY_AFTER, String.valueOf(RETRY_AFTER_CAPPED_SECONDS));
                refuse(req, ErrorCode.RATE_LIMITED, "too many connections from this address; close one, or retry later");
            }
            case USER -> {
                req.response().putHeader(HttpHeaderNames.RETRY_AFTER, String.valueOf(RETRY_AFTER_CAPPED_SECONDS));
                refuse(req, ErrorCode.RATE_LIMITED, "too many connections for this user; close one, or retry later");
            }
        }
    }

    /**
     * The client's address as the caps count it (see {@link ConnectionCaps#addressKey}): the one the
     * HTTP limits count too, so behind a proxy of {@code CHAT_TRUSTED_PROXIES} each client counts by
     * its own address. Only an address literal is parsed (never a name looked up: that would block).
     */
    private String addressOf(HttpServerRequest req) {
        String client = clientAddress.of(req);
        InetAddress literal = client == null ? null : NetUtil.createInetAddressFromIpAddressString(client);
        if (literal != null) return ConnectionCaps.addressKey(literal);
        SocketAddress remote = Handshake.channelOf(req).remoteAddress();
        if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) return ConnectionCaps.addressKey(inet.getAddress());
        return String.valueOf(remote);
    }

    /**
     * Answers the handshake and runs the WebSocket on the Netty channel itself (see {@link Handshake}):
     * an idle connection then holds the channel, its frame codec, a {@link FrameHandler} and a
     * {@link Connection}, and nothing of Vert.x's HTTP request or connection.
     */
    private void upgrade(HttpServerRequest req, TokenService.Identity identity, ConnectionCaps.Slot slot) {
        String problem = Handshake.problem(req);
        if (problem != null) {
            log.debug("upgrade failed: {}", problem);
            slot.release();
            refuse(req, ErrorCode.BAD_REQUEST, problem);
            return;
        }
        if (!Handshake.supportedVersion(req)) {
            log.debug("upgrade failed: WebSocket version {}", req.getHeader(HttpHeaderNames.SEC_WEBSOCKET_VERSION));
            slot.release();
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
            slot.release();
            refuse(req, ErrorCode.INTERNAL, "unexpected server error");
            return;
        }
        FullHttpRequest handshake = Handshake.nettyRequest(req);
        // Outside Vert.x's handling of the request, which is still on the stack here.
        channel.eventLoop().execute(() -> {
            // From here the channel is the WebSocket's, whatever comes of the handshake: its places
            // are given back when it ends, however it ends.
            channel.closeFuture().addListener(f -> slot.release());
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
        if (budgetTimer >= 0) vertx.cancelTimer(budgetTimer);
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
