package dev.parley;

import dev.parley.auth.AttemptCounter;
import dev.parley.auth.LocalAttempts;
import dev.parley.auth.LoginThrottle;
import dev.parley.auth.PasswordHasher;
import dev.parley.auth.RedisAttempts;
import dev.parley.auth.TokenService;
import dev.parley.auth.UsedTickets;
import dev.parley.broker.Broker;
import dev.parley.broker.LocalBroker;
import dev.parley.broker.RedisBroker;
import dev.parley.broker.RedisClients;
import dev.parley.chat.Admin;
import dev.parley.chat.ChatService;
import dev.parley.chat.Limits;
import dev.parley.chat.Names;
import dev.parley.chat.ErrorCode;
import dev.parley.chat.Sessions;
import dev.parley.config.ChatConfig;
import dev.parley.delivery.Delivery;
import dev.parley.delivery.PresenceBatching;
import dev.parley.event.Message;
import dev.parley.http.AdminRoutes;
import dev.parley.http.Health;
import dev.parley.http.HttpErrors;
import dev.parley.http.HttpRoutes;
import dev.parley.http.ClientAddress;
import dev.parley.http.RequestHeadDeadline;
import dev.parley.http.SocketsPerAddress;
import dev.parley.metrics.ChatMetrics;
import dev.parley.presence.LocalPresence;
import dev.parley.presence.NodeDirectory;
import dev.parley.presence.Presence;
import dev.parley.presence.RedisPresence;
import dev.parley.store.AdminQueries;
import dev.parley.store.Database;
import dev.parley.store.Journal;
import dev.parley.store.MessageStore;
import dev.parley.store.RetentionStore;
import dev.parley.store.RetentionSweep;
import dev.parley.store.BotStore;
import dev.parley.store.RevocationStore;
import dev.parley.store.MessageChanges;
import dev.parley.store.RoomStore;
import dev.parley.store.StoreException;
import dev.parley.store.UserStore;
import dev.parley.store.WebhookStore;
import dev.parley.webhook.UrlGuard;
import dev.parley.webhook.WebhookDispatcher;
import dev.parley.ws.CloseCode;
import dev.parley.work.Blocking;
import dev.parley.work.BoundedPool;
import dev.parley.work.SharedCheck;
import dev.parley.ws.WsEndpoint;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.resource.ClientResources;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The composition root: builds every part from a {@link ChatConfig}, in one place and in plain
 * Java. {@link #start} returns once the node listens; {@link #close} drains it.
 *
 * <p>Over 400 lines because it is the one place where the parts are wired together (the plain-Java
 * wiring the project keeps in one place) and stopped in order.
 */
public final class ChatServer {
    /** The refusal metric's reason for a TCP connection closed at accept for its address's cap (SocketsPerAddress). */
    static final String SOCKETS_REFUSED = "address_sockets";
    private static final Logger log = LoggerFactory.getLogger(ChatServer.class);
    /** How long a login waits for Redis to count it before this node counts it alone (RedisAttempts). */
    private static final Duration ATTEMPTS_TIMEOUT = Duration.ofMillis(500);
    /** How long a WebSocket upgrade waits for Redis to claim its ticket before this node goes by its own memory (UsedTickets). */
    private static final Duration TICKETS_TIMEOUT = Duration.ofMillis(500);
    /** How long a report to, or a read of, the cluster's list of nodes waits for Redis (ClusterNodes). */
    private static final Duration NODES_TIMEOUT = Duration.ofSeconds(1);

    private final ChatConfig config;
    private final Vertx vertx;
    private final Database db;
    private final ClientResources redisResources; // null unless clustered
    private final Broker broker;
    private final Presence presence;
    private final MessageStore store;
    private final Delivery delivery;
    private final WsEndpoint ws;
    private final Health health;
    private final ChatMetrics metrics;
    private final TokenService tokens;
    private final Sessions sessions;
    private final RetentionSweep retention;
    private final WebhookDispatcher webhooks;
    private final BoundedPool passwords;
    private final BoundedPool searches;
    private final NetworkTransport.Choice transport;
    private final RedisAttempts redisAttempts; // null unless clustered
    private final UsedTickets usedTickets;
    private final ClusterNodes nodes;
    private final Router router;
    private final Router adminRouter;
    private final Vertx adminVertx;
    private final SharedCheck<Boolean> databaseUp;
    private final AtomicInteger port = new AtomicInteger();
    private final AtomicInteger adminPort = new AtomicInteger();
    private String deploymentId;
    private volatile boolean closing;

    private ChatServer(ChatConfig config) {
        this.config = config;
        // What is built is closed again, in reverse, if a later step fails: a failed start leaves no
        // thread, Redis client or event loop behind.
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            this.transport = NetworkTransport.choose(config.transport());
            this.vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(config.eventLoopCount()))
                    .withTransport(transport.transport()).build();
            undo.push(() -> vertx.close());
            this.metrics = new ChatMetrics(Arrays.stream(ErrorCode.values()).map(ErrorCode::wire).toList());
            if (config.embeddedDatabase() || config.jwtSecret().isEmpty()) DataDir.create(config.dataDir());
            byte[] jwtSecret = secret(config);
            this.tokens = new TokenService(jwtSecret, config.tokenTtl(), config.accessTokenTtl(), config.jwksUrl(), config.jwksIssuer(),
                    config.jwksAudience(), Clock.systemUTC());
            // With CHAT_JOURNAL_SYNC=commit, what H2 writes outside the journal (sign-ups, rooms, and the
            // checkpoint that lets the journal be emptied) is synced too: else a power cut could take
            // those back while every message survived.
            this.db = new Database(config.databaseUrl(), config.databaseUser(), config.databasePassword(), config.databasePoolSize(),
                    config.journalSync() && config.embeddedDatabase(), config.embeddedDatabase());
            undo.push(db::close);
            this.redisResources = config.clustered() ? RedisClients.resources() : null;
            if (redisResources != null) undo.push(() -> redisResources.shutdown());
            this.broker = newBroker(config, redisResources, jwtSecret, metrics);
            undo.push(broker::close);
            if (broker instanceof RedisBroker redisBroker) metrics.brokerDrops(redisBroker::dropped);
            // Presence tells the delivery (built below, with the store) of users it found gone.
            this.presence = newPresence(config, redisResources, this::presenceGone);
            undo.push(presence::close);
            Journal journal = journal(config);
            if (journal != null) {
                metrics.journalSyncs(journal::forces);
                journal.onSync(metrics::journalSynced);
            }
            this.store = new MessageStore(db, journal, config.appendBatchMax(), config.appendLinger().toNanos(),
                    this::committed, metrics::batchCommitted);
            undo.push(() -> store.close(Duration.ofSeconds(5)));
            this.delivery = new Delivery(vertx, store, broker, presence, config.effectiveReplayLimit(), config.replayBytes(), config.maxTextLength(), 100, config.presenceTtl(),
                    new PresenceBatching(config.presenceBatchThreshold(), config.presenceBatchInterval()), new Delivery.Observer() {
                @Override
                public void delivered(int messages) {
                    metrics.delivered(messages);
                }

                @Override
                public void resumed(boolean recovered) {
                    metrics.resumed(recovered);
                }

                @Override
                public void arrived(long millisSinceCommit) {
                    metrics.brokerLag(millisSinceCommit);
                }

                @Override
                public void repaired(int messages) {
                    metrics.repaired(messages);
                }
            });
            delivery.start();
            undo.push(delivery::close);
            store.start(); // commits reach the delivery from now on
            presence.start(); // and users presence finds gone
            UserStore users = new UserStore(db);
            RoomStore roomStore = new RoomStore(db);
            // Before the node serves: a name like one taken before look-alike keys were kept is refused too.
            users.fillKeys(Names::key);
            roomStore.fillKeys(Names::key);
            // Removes what rooms keep no longer, on its own thread (RetentionSweep); every node sweeps.
            this.retention = new RetentionSweep(new RetentionStore(db), new RetentionStore.Policy(config.retentionDays(), config.retentionMessages()),
                    metrics::retentionSwept, System::currentTimeMillis);
            retention.start();
            undo.push(retention::close);
            // A deletion's purge that a stop or a crash cut short: done now, off the start's path
            // (reads skip those rows already; their text must not stay on the disk for good).
            vertx.executeBlocking(() -> {
                long purged = 0;
                for (String room : roomStore.unpurged()) {
                    try {
                        purged += roomStore.purge(room);
                    } catch (RuntimeException e) {
                        log.warn("could not purge what deleted room {} left (the next start tries again): {}", room, e.toString());
                    }
                }
                if (purged > 0) log.info("purged {} messages of deleted rooms that an earlier stop left", purged);
                return null;
            }, false).onFailure(err -> log.warn("could not purge what deleted rooms left: {}", err.toString()));
            // Before the node serves: a token revoked before a restart stays refused after it.
            this.sessions = new Sessions(vertx, new RevocationStore(db), System::currentTimeMillis);
            sessions.start(users);
            undo.push(sessions::close);
            warnOfUnclaimedAdmins(config, users);
            this.passwords = new BoundedPool("parley-password", config.passwordThreadCount(), config.passwordQueue());
            undo.push(passwords::close);
            this.searches = new BoundedPool("parley-search", dev.parley.chat.Search.THREADS, dev.parley.chat.Search.WAITING);
            undo.push(searches::close);
            // In a cluster the attempts at passwords are counted in Redis, by every node together.
            this.redisAttempts = redisResources == null ? null : new RedisAttempts(RedisClients.connect(redisResources, config.redisUrl(),
                    "parley-attempts-" + config.nodeId(), ATTEMPTS_TIMEOUT, ClientOptions.DisconnectedBehavior.REJECT_COMMANDS, "to count login attempts"),
                    new LocalAttempts());
            if (redisAttempts != null) undo.push(redisAttempts::close);
            AttemptCounter attempts = redisAttempts != null ? redisAttempts : new LocalAttempts();
            LoginThrottle throttle = new LoginThrottle(attempts, config.loginFailuresPerIp(), config.registrationsPerIp());
            // In a cluster a WebSocket ticket is claimed in Redis too, so that it opens one connection on any node.
            this.usedTickets = redisResources == null ? new UsedTickets() : new UsedTickets(RedisClients.connect(redisResources,
                    config.redisUrl(), "parley-tickets-" + config.nodeId(), TICKETS_TIMEOUT, ClientOptions.DisconnectedBehavior.REJECT_COMMANDS,
                    "to keep WebSocket tickets single-use"));
            undo.push(usedTickets::close);
            ChatService chat = new ChatService(vertx, new Limits(config), users, store, roomStore, new MessageChanges(db), delivery, presence,
                    new PasswordHasher(config.bcryptCost()), tokens, sessions, throttle, passwords, config.registrationOpen(),
                    config.tokenTtl(), config.admins(), config.roomCreationByAnyone(), usedTickets, new BotStore(db), searches);
            // Rooms' webhooks: delivered from the store by threads of their own, never on the send path.
            WebhookStore hooks = new WebhookStore(db);
            this.webhooks = new WebhookDispatcher(hooks, store, new UrlGuard(config.webhookAllowPrivate(), "webhook"), config.nodeId(),
                    new WebhookDispatcher.Settings(config.webhookTimeout(), config.webhookRetryBase(), config.webhookAttempts()), System::currentTimeMillis,
                    metrics::webhookDelivery);
            webhooks.start();
            undo.push(webhooks::close);
            this.ws = new WsEndpoint(vertx, config, chat, metrics);
            ws.start();
            // Bounded: the pool gives up on a connection after 1.5 s, but a hung database can hold every
            // worker, and a scrape of /metrics, which checks readiness too, must still answer. On a
            // thread of its own: behind the shared workers' queue, which a reconnect storm fills with
            // thousands of joins' reads, the check timed out and the node said it was not ready for
            // the whole storm of its clients coming back (BENCHMARKS.md entry 58).
            SharedCheck<Boolean> databaseUp = new SharedCheck<>("parley-health", Duration.ofSeconds(3), db::healthy);
            undo.push(databaseUp::close);
            this.databaseUp = databaseUp;
            this.health = new Health(databaseUp::get, broker, presence, config.nodeId());
            // The administrators' view of the cluster: each node reports itself to the others through Redis.
            NodeDirectory directory = redisResources == null ? NodeDirectory.local(config.nodeId()) : NodeDirectory.redis(config.nodeId(),
                    RedisClients.connect(redisResources, config.redisUrl(), "parley-nodes-" + config.nodeId(), NODES_TIMEOUT,
                            ClientOptions.DisconnectedBehavior.REJECT_COMMANDS, "to list the cluster's nodes"));
            this.nodes = new ClusterNodes(vertx, directory, health, metrics, config.nodeId());
            undo.push(nodes::close);
            nodes.start();
            Admin admin = new Admin(vertx, new AdminQueries(db), users, hooks, presence, sessions, chat.accounts()::isAdmin, config.tokenTtl(),
                    nodes::list);
            this.router = HttpRoutes.create(vertx, config, chat, chat.webhooks(hooks, new UrlGuard(config.webhookAllowPrivate(), "webhook-registration")), admin, tokens, metrics, health);
            // The admin listener runs on a Vert.x of its own, one event loop: in a reconnect storm the
            // node's loops take seconds a turn, and /health/ready and /metrics, which an orchestrator
            // and Prometheus read with a timeout, would wait for them (BENCHMARKS.md entry 59).
            this.adminVertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                    .setInternalBlockingPoolSize(1)).withTransport(transport.transport()).build();
            undo.push(() -> adminVertx.close());
            this.adminRouter = AdminRoutes.create(adminVertx, metrics, health);
        } catch (RuntimeException | Error e) {
            while (!undo.isEmpty()) {
                try {
                    undo.pop().run();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    // The store and presence are built before the delivery they report to, which reads the store.
    private void committed(List<Message> messages) {
        delivery.committed(messages);
    }

    private void presenceGone(String room, String user, boolean online) {
        delivery.presenceChanged(room, user, online);
    }

    /** Starts a node and completes when it listens. */
    public static Future<ChatServer> start(ChatConfig config) {
        ChatServer server;
        try {
            server = new ChatServer(config);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        // A promise without a context: the listen future belongs to an event loop that close()
        // shuts down, so a failure chained on it would never be delivered (serve hung 60 s on a
        // port in use and then reported a TimeoutException instead of the bind error).
        Promise<ChatServer> started = Promise.promise();
        server.listen().compose(x -> server.listenAdmin()).onComplete(ar -> {
            if (ar.succeeded()) started.complete(server);
            else server.close().onComplete(x -> started.fail(ar.cause()));
        });
        return started.future();
    }

    private Future<Void> listen() {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.host())
                .setPort(config.port())
                // No compression: Vert.x would otherwise put a WebSocket extension handler in every
                // HTTP/1 pipeline, which would then negotiate deflate in the handshake of WsEndpoint.
                .setPerMessageWebSocketCompressionSupported(false)
                .setPerFrameWebSocketCompressionSupported(false)
                .setTcpNoDelay(true)
                // HTTP/1.1 only: nothing here gains from HTTP/2 in clear text, the WebSocket needs HTTP/1.1,
                // and Vert.x's h2c upgrade broke the stream of a HEAD request.
                .setHttp2ClearTextEnabled(false)
                // An HTTP connection that sends nothing is closed after the heartbeat's timeout, so idle
                // or half-sent requests cannot hold sockets for ever. A WebSocket drops this watch at its
                // handshake (Handshake.takeOver): the heartbeat watches it from then on.
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, config.heartbeatTimeout().toMillis()))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        int instances = config.port() == 0 ? 1 : config.eventLoopCount();
        // One count for every event loop's server: an address's connections land on any of them.
        metrics.refusalCounter(SOCKETS_REFUSED);
        SocketsPerAddress sockets = new SocketsPerAddress(config.maxConnectionsPerIp(), new ClientAddress(config.trustedProxies()),
                () -> metrics.connectionRefused(SOCKETS_REFUSED));
        return vertx.deployVerticle(() -> new VerticleBase() {
            @Override
            public Future<?> start() {
                // /ws is served outside the router: WsEndpoint takes the request's Netty channel over,
                // which vertx-web's wrapped request would not let it reach.
                // Requests Netty could not read (414, 431) are answered with the error body too.
                long headTimeoutNanos = config.requestHeadTimeout().toNanos();
                return vertx.createHttpServer(options).invalidRequestHandler(HttpErrors.invalidRequests(metrics))
                        // The idle timeout above starts again with every byte: a request head trickled a
                        // byte at a time would hold the socket for ever without a deadline of its own.
                        .connectionHandler(conn -> {
                            if (sockets.admit(conn)) RequestHeadDeadline.install(conn, headTimeoutNanos, () -> metrics.error(ErrorCode.REQUEST_TIMEOUT.wire()));
                        })
                        .requestHandler(req -> {
                            if ("/ws".equals(req.path())) ws.handle(req);
                            else router.handle(req);
                        }).listen().onSuccess(s -> port.set(s.actualPort()));
            }
        }, new DeploymentOptions().setInstances(instances)).map(id -> {
            deploymentId = id;
            log.info("Parley listening on http://{}:{} node={} database={} broker={} transport={}", config.host(), port(),
                    config.nodeId(), config.h2() ? "H2 (embedded)" : "PostgreSQL", broker.distributed() ? "Redis" : "in-process",
                    transport.name());
            if (!transport.passedOver().isEmpty()) {
                log.info("transport {} taken for CHAT_TRANSPORT={}; passed over: {}", transport.name(), config.transport(),
                        String.join(", ", transport.passedOver()));
            }
            return (Void) null;
        }).recover(err -> Future.<Void>failedFuture(addressInUse(err)
                ? new StartFailure("cannot listen on " + config.host() + ":" + config.port() + ": the address is already in use"
                        + " (another Parley, or another program?); stop it, or choose another port with --port or CHAT_PORT", err)
                : err));
    }

    /**
     * The admin listener: {@code /metrics} and the health checks in detail, for Prometheus and
     * operators, on an address of its own ({@code CHAT_ADMIN_HOST}, loopback by default) so that the
     * public port, which a load balancer exposes to the internet, shows neither. One server on the
     * admin Vert.x's one event loop: a scrape every few seconds needs no more, and the node's own
     * loops, however busy, do not hold its answers up.
     */
    private Future<Void> listenAdmin() {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.adminHost())
                .setPort(config.adminPort())
                .setHttp2ClearTextEnabled(false)
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, config.heartbeatTimeout().toMillis()))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        return adminVertx.createHttpServer(options).invalidRequestHandler(HttpErrors.invalidRequests(metrics)).requestHandler(adminRouter)
                .listen().<Void>map(s -> {
                    adminPort.set(s.actualPort());
                    log.info("admin (metrics, health) on http://{}:{}", config.adminHost(), adminPort());
                    return null;
                }).recover(err -> Future.failedFuture(addressInUse(err)
                        ? new StartFailure("cannot listen on " + config.adminHost() + ":" + config.adminPort() + " (the admin listener): the address"
                                + " is already in use (another Parley?); choose another port with --admin-port or CHAT_ADMIN_PORT, 0 for any", err)
                        : err));
    }

    /** A bind refused because something listens there already: NIO's BindException, or epoll's NativeIoException with the same words. */
    private static boolean addressInUse(Throwable err) {
        for (Throwable t = err; t != null; t = t.getCause()) {
            if (t instanceof BindException || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) return true;
        }
        return false;
    }

    /** A start that failed for a reason the operator can fix, said in words: {@code serve} prints it without a stack trace. */
    public static final class StartFailure extends RuntimeException {
        StartFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public int port() {
        return port.get();
    }

    /** The port of the admin listener ({@code /metrics}, detailed health). */
    public int adminPort() {
        return adminPort.get();
    }

    /** The network transport the event loops run on: io_uring, epoll or nio (CHAT_TRANSPORT, and what was available). */
    public String transportName() {
        return transport.name();
    }

    public ChatConfig config() {
        return config;
    }

    public Vertx vertx() {
        return vertx;
    }

    public ChatMetrics metrics() {
        return metrics;
    }

    public TokenService tokens() {
        return tokens;
    }

    /**
     * Runs a pass of the retention sweep now, taking {@code nowMillis} as the time (a test ages the
     * messages it wrote this way, without waiting days). Completes with the messages removed.
     */
    public Future<Long> sweepRetention(long nowMillis) {
        return Future.fromCompletionStage(retention.sweepNow(nowMillis));
    }

    /**
     * Drains the node: it turns not-ready and refuses new connections, commits what is pending (so
     * every acked message is stored and its ack sent), closes clients with 1001, then stops.
     */
    public Future<Void> close() {
        if (closing) return Future.succeededFuture();
        closing = true;
        log.info("draining node={}", config.nodeId());
        health.draining();
        ws.startDraining();
        sessions.close();
        delivery.close();
        Promise<Void> done = Promise.promise();
        Blocking.run(vertx, () -> {
            webhooks.close(); // gives its leases up: another node goes on at once
            nodes.close(); // out of the cluster's list of nodes
            retention.close(); // waits for a transaction under way
            store.close(config.drainTimeout());
            return null;
        }).compose(x -> ws.closeAll(CloseCode.GOING_AWAY, WsEndpoint.DRAIN_CLOSE_MILLIS))
                .compose(x -> deploymentId == null ? Future.succeededFuture() : vertx.undeploy(deploymentId))
                // Presence first: its last leaves announce users offline through the broker.
                .transform(x -> presence.close())
                .transform(x -> broker.close())
                .onComplete(x -> {
                    passwords.close();
                    searches.close();
                    if (redisAttempts != null) redisAttempts.close();
                    usedTickets.close();
                    if (redisResources != null) redisResources.shutdown(0, 2, java.util.concurrent.TimeUnit.SECONDS);
                    db.close();
                    databaseUp.close();
                    vertx.close().transform(y -> adminVertx.close()).onComplete(y -> {
                        log.info("stopped node={}", config.nodeId());
                        done.complete();
                    });
                });
        return done.future();
    }

    /** An administrator's name nobody has registered yet goes to whoever signs up as it first: the operator is told. */
    private static void warnOfUnclaimedAdmins(ChatConfig config, UserStore users) {
        for (String admin : config.admins()) {
            var user = users.find(admin);
            if (user.isEmpty()) {
                log.warn("CHAT_ADMINS lists {}, which has no account here: whoever signs up as {} first is an administrator;"
                        + " register it now, or remove it from CHAT_ADMINS (with CHAT_JWKS_URL set, local registration of such a name is refused,"
                        + " and the identity provider's user of that name is the administrator)", admin, admin);
            } else if (user.get().deleted()) {
                log.warn("CHAT_ADMINS lists {}, whose account was deleted: nobody can sign in as it", admin);
            }
        }
    }

    /** The embedded database's journal (see {@link Journal}); none for a database URL the operator gave. */
    private static Journal journal(ChatConfig config) {
        if (!config.embeddedDatabase()) return null;
        try {
            Journal journal = Journal.open(config.dataDir().resolve("parley.journal"), config.journalSync());
            // Both hold every message and, in H2, the password hashes. A data dir made by an older
            // version, or by the operator, may let others in; these two files at least do not.
            DataDir.ownerOnly(config.dataDir().resolve("parley.journal"));
            DataDir.ownerOnly(config.dataDir().resolve("parley.mv.db"));
            return journal;
        } catch (IOException e) {
            throw new StoreException("could not open the journal in " + config.dataDir(), e);
        }
    }

    private static Broker newBroker(ChatConfig config, ClientResources redis, byte[] jwtSecret, ChatMetrics metrics) {
        if (!config.clustered()) return new LocalBroker();
        // The cluster key signs the records between nodes; without one of its own, it is derived from
        // the JWT secret, which every node shares already (RedisBroker.keyFromJwtSecret says why that will do).
        byte[] clusterKey = config.clusterKey().isEmpty()
                ? RedisBroker.keyFromJwtSecret(jwtSecret)
                : config.clusterKey().getBytes(StandardCharsets.UTF_8);
        return new RedisBroker(config.redisUrl(), config.nodeId(), redis, clusterKey, metrics::brokerEventRejected);
    }

    private static Presence newPresence(ChatConfig config, ClientResources redis, RedisPresence.Announcer gone) {
        if (!config.clustered()) return new LocalPresence();
        Duration ttl = config.presenceTtl();
        return new RedisPresence(config.redisUrl(), config.nodeId(), redis, ttl, ttl.dividedBy(3), gone);
    }

    /** The configured HS256 secret, or one generated on first start and kept in the data dir. */
    private static byte[] secret(ChatConfig config) {
        if (!config.jwtSecret().isEmpty()) return config.jwtSecret().getBytes(StandardCharsets.UTF_8);
        return DataDir.jwtSecret(config.dataDir());
    }
}
