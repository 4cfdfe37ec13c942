package dev.parley.broker;

import dev.parley.event.RoomEvent;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.resource.ClientResources;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The broker of a cluster: events travel between nodes over Redis Pub/Sub, one channel per room
 * ({@code parley:room:<room>}). Choose it when several nodes share one PostgreSQL; a single node
 * needs only {@link LocalBroker}. The Redis is one server, a master found through Sentinel, or a
 * Redis Cluster ({@link RedisClients.Target}); on a cluster the channels are sharded
 * ({@code SPUBLISH}, {@code SSUBSCRIBE}): each room's events go through the shard owning its
 * channel's hash slot only, so the rooms' traffic spreads over the primaries.
 *
 * <ul>
 *   <li>A node subscribes to a room's channel while the room has local members: one subscription
 *       per room, not per connection. Subscribe and unsubscribe are counted, so that a leave and a
 *       join racing on the node cannot leave a room with members unsubscribed.</li>
 *   <li>{@link #publish} queues the event for a single publishing thread that encodes it once and
 *       publishes it through a {@link Publisher}: {@link RedisPublisher} (no replies) on one server,
 *       {@link LettucePublisher} on a cluster or through Sentinel. The node has delivered it to its
 *       own members already, so local delivery never depends on Redis. It never blocks: the
 *       group-commit writer thread calls it. While Redis is down, or if the queue is full, the event
 *       is dropped; the delivery reads missed messages from the store.</li>
 *   <li>Every event carries the publishing instance's id; a node ignores its own echo.</li>
 *   <li>Every record carries an HMAC under the cluster key ({@link BrokerCodec}); one that does not
 *       verify is dropped and counted, so whoever can write to Redis cannot make a node deliver a
 *       message nobody sent, nor the real one be taken for its duplicate.</li>
 *   <li>The {@link Subscriptions} keep every subscribed room subscribed across reconnects and, on a
 *       cluster, failovers ({@link ChannelSubscriptions}, {@link ShardedSubscriptions}). The
 *       publishers reconnect themselves. {@link #healthy()} is false while either half may miss
 *       events, which makes the delivery poll the store.</li>
 * </ul>
 */
public final class RedisBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);
    static final String CHANNEL_PREFIX = "parley:room:";
    private static final int MAX_QUEUED_EVENTS = 20_000;
    private static final int MAX_PER_FLUSH = 512;

    /** Why a record from Redis was dropped, as {@code rejected} is told. */
    public static final String UNAUTHENTICATED = "unauthenticated", UNREADABLE = "unreadable";
    /** The least time between two warnings of dropped records: a flood of forgeries must not flood the log too. */
    private static final long REJECT_LOG_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final BrokerCodec codec;
    private final Consumer<String> rejected;
    private final AtomicLong rejectLoggedAt = new AtomicLong(System.nanoTime() - REJECT_LOG_NANOS);
    private final LongAdder rejectedSinceLog = new LongAdder();
    private final String url;
    private final String origin;
    private final Subscriptions subs;
    private final Publisher pub;
    private final Map<String, Integer> subscriptions = new HashMap<>(); // guarded by itself
    private final ConcurrentLinkedQueue<Object> outgoing = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedEvents = new AtomicInteger();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final ScheduledExecutorService publishing;
    private final LongAdder dropped = new LongAdder();
    private volatile Consumer<RoomEvent> handler = event -> {};
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean closed;
    private boolean reportedUp = true; // guarded by this
    private boolean reportedOverflow;  // guarded by this

    private record Subscription(String room, boolean subscribe) {}

    /**
     * Connects to Redis; fails if it cannot.
     *
     * @param nodeId     this node's name; a random suffix makes the echo filter safe even if two
     *                   nodes were given the same name
     * @param resources  the node's Lettuce thread pools, shut down by the caller after {@link #close()}
     * @param clusterKey the key of the records' tags ({@link BrokerCodec}): at least 32 bytes, the same on every node
     * @param rejected   told, on a Lettuce thread, of each record from Redis that is dropped: {@link #UNAUTHENTICATED}
     *                   (its tag does not verify) or {@link #UNREADABLE} (authentic, but of a release this node cannot read)
     */
    public RedisBroker(String url, String nodeId, ClientResources resources, byte[] clusterKey, Consumer<String> rejected) {
        this.codec = new BrokerCodec(requireNonNull(clusterKey, "clusterKey"));
        this.rejected = requireNonNull(rejected, "rejected");
        this.url = RedisClients.masked(requireNonNull(url, "url"));
        this.origin = requireNonNull(nodeId, "nodeId") + "#" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        requireNonNull(resources, "resources");
        RedisClients.Target target;
        try {
            target = RedisClients.Target.parse(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        this.publishing = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("parley-redis-publish").daemon(true).factory());
        // Publishing is at most once: while Redis is down, events are dropped rather than buffered.
        Publisher p = null;
        try {
            p = publisher(target, url, "parley-pub-" + nodeId, resources);
            this.pub = p;
            // Subscriptions wait in the reconnect buffer while Redis is down, and must not time out there.
            this.subs = target.cluster()
                    ? new ShardedSubscriptions(resources, url, "parley-sub-" + nodeId, publishing, this::healthChanged)
                    : new ChannelSubscriptions(RedisClients.client(resources, url, "parley-sub-" + nodeId, null, ClientOptions.DisconnectedBehavior.DEFAULT),
                    this::healthChanged);
        } catch (IOException | RuntimeException e) {
            if (p != null) p.closeNow();
            publishing.shutdownNow();
            throw new IllegalStateException("cannot connect to Redis at " + this.url + ": " + RedisClients.masked(String.valueOf(e.getMessage())), e);
        }
        if (!(pub instanceof RedisPublisher)) {
            // Lettuce's publisher is unhealthy for a while after a failed publish, and becomes healthy
            // again with time rather than with an event: looked at twice a second, for the log.
            publishing.scheduleWithFixedDelay(this::healthChanged, 500, 500, TimeUnit.MILLISECONDS);
        }
        log.info("Redis broker connected to {} ({}) as {}", this.url, target.kind().name().toLowerCase(java.util.Locale.ROOT), origin);
    }

    /**
     * The cluster key of a cluster that sets none: derived from the JWT secret, which every node
     * must share already (a token one node issues is checked by all). Taken through HMAC-SHA256
     * with a label, so the key that signs events is not the key that signs tokens. Acceptable
     * because it protects against the same people: whoever holds the JWT secret can already sign in
     * as anyone and post under any name through the front door, and whoever can only write to Redis
     * knows neither. A separate {@code CHAT_CLUSTER_KEY} keeps them apart, e.g. when the JWT secret is
     * replaced.
     */
    public static byte[] keyFromJwtSecret(byte[] jwtSecret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(jwtSecret, "HmacSHA256"));
            return mac.doFinal("parley cluster key v1".getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }

    /**
     * One server: the socket without replies, the fast path. Sentinel and a cluster: Lettuce's
     * connection, which finds the master (or each channel's shard) and follows it through a failover.
     */
    private Publisher publisher(RedisClients.Target target, String url, String name, ClientResources resources) throws IOException {
        if (target.kind() != RedisClients.Kind.STANDALONE) return new LettucePublisher(resources, target, url, name, dropped::increment, this::healthChanged);
        RedisPublisher p;
        try {
            p = new RedisPublisher(url, name, RedisClients.CONNECT_TIMEOUT, publishing, this::healthChanged);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot use the Redis URL " + this.url + ": " + e.getMessage(), e);
        }
        p.connect();
        return p;
    }

    @Override
    public void start(Consumer<RoomEvent> handler) {
        this.handler = requireNonNull(handler, "handler");
        subs.start(this::receive);
    }

    // --- out ---

    @Override
    public void publish(RoomEvent event) {
        if (closing.get() || !pub.takes()) {
            dropped.increment();
            return;
        }
        if (queuedEvents.incrementAndGet() > MAX_QUEUED_EVENTS) {
            queuedEvents.decrementAndGet();
            dropped.increment();
            overflowChanged(true);
            return;
        }
        enqueue(event);
    }

    @Override
    public void subscribe(String room) {
        synchronized (subscriptions) {
            if (subscriptions.merge(room, 1, Integer::sum) == 1) enqueue(new Subscription(room, true));
        }
    }

    @Override
    public void unsubscribe(String room) {
        synchronized (subscriptions) {
            Integer n = subscriptions.get(room);
            if (n == null) return;
            if (n > 1) {
                subscriptions.put(room, n - 1);
            } else {
                subscriptions.remove(room);
                enqueue(new Subscription(room, false));
            }
        }
    }

    /** Queues for the publishing thread; the order of the queue is the order of the Redis commands. */
    private void enqueue(Object item) {
        outgoing.add(item);
        scheduleDrain();
    }

    private void scheduleDrain() {
        if (!drainScheduled.compareAndSet(false, true)) return;
        try {
            publishing.execute(this::drain);
        } catch (RejectedExecutionException e) {
            // closing: close() sends what is left itself
        }
    }

    /** On the publishing thread: encodes and writes a batch of commands, flushes once, and goes on later if there is more. */
    private void drain() {
        drainScheduled.set(false);
        drainBatch();
        if (!outgoing.isEmpty()) scheduleDrain();
    }

    private void drainBatch() {
        int published = 0;
        for (int n = 0; n < MAX_PER_FLUSH; n++) {
            Object item = outgoing.poll();
            if (item == null) break;
            try {
                if (item instanceof RoomEvent event) {
                    queuedEvents.decrementAndGet();
                    if (!pub.takes()) {
                        dropped.increment();
                        continue;
                    }
                    pub.add(channel(event.room()), codec.encode(origin, event));
                    published++;
                } else if (item instanceof Subscription s) {
                    if (s.subscribe()) subs.subscribe(s.room());
                    else subs.unsubscribe(s.room());
                }
            } catch (RuntimeException e) {
                // A closed connection throws instead of failing the future.
                if (!closed) log.warn("Redis broker could not send a command: {}", e.toString());
            }
        }
        if (published > 0) dropped.add(pub.flush());
        if (queuedEvents.get() < MAX_QUEUED_EVENTS / 2) overflowChanged(false);
    }

    // --- in ---

    /**
     * On a Lettuce thread: another node's event. One that is not authentic, or not readable, is
     * dropped: to the delivery it is an event the broker lost, which it reads from the store.
     */
    private void receive(byte[] bytes) {
        BrokerCodec.Decoded d;
        try {
            d = codec.decode(bytes);
        } catch (BrokerCodec.Unauthenticated e) {
            rejected(UNAUTHENTICATED, bytes.length, "not authentic (" + e.getMessage() + "): forged by a writer to Redis, or from a node"
                    + " with another cluster key (CHAT_CLUSTER_KEY, else CHAT_JWT_SECRET) or of an older release");
            return;
        } catch (IllegalArgumentException e) {
            rejected(UNREADABLE, bytes.length, "authentic but unreadable here (" + e.getMessage() + "): from a node of a newer release?");
            return;
        }
        if (origin.equals(d.origin())) return; // our own echo: the node delivered it when it published
        try {
            handler.accept(d.event());
        } catch (RuntimeException e) {
            log.error("handling an event of room {} failed", d.event().room(), e);
        }
    }

    private void rejected(String reason, int bytes, String why) {
        rejected.accept(reason);
        rejectedSinceLog.increment();
        long last = rejectLoggedAt.get(), now = System.nanoTime();
        if (now - last < REJECT_LOG_NANOS || !rejectLoggedAt.compareAndSet(last, now)) return;
        log.warn("dropped {} record(s) from Redis in the last minute at most (counted in parley_broker_events_rejected_total); the latest, {} bytes, is {}",
                rejectedSinceLog.sumThenReset(), bytes, why);
    }

    // --- health ---

    private void healthChanged() {
        if (subs == null) return; // the constructor runs: the publisher's first state is no change
        boolean up = healthy();
        int rooms;
        synchronized (this) {
            if (closed || up == reportedUp) return;
            reportedUp = up;
        }
        synchronized (subscriptions) {
            rooms = subscriptions.size();
        }
        if (up) {
            log.info("Redis broker reconnected to {} (subscribed rooms: {}, subscribed again); messages missed meanwhile are read from the store", url, rooms);
        } else {
            log.warn("Redis broker lost {}: other nodes' messages now come from the store (polled) until it is back", url);
        }
    }

    private void overflowChanged(boolean overflowing) {
        synchronized (this) {
            if (overflowing == reportedOverflow) return;
            reportedOverflow = overflowing;
        }
        if (overflowing) log.warn("Redis broker is {} events behind; dropping events until it catches up (messages are read from the store)", MAX_QUEUED_EVENTS);
        else log.info("Redis broker caught up with its publishing queue");
    }

    @Override
    public boolean healthy() {
        Subscriptions s = subs; // null while the constructor runs: the publisher reports its state from there
        Publisher p = pub;
        return s != null && p != null && s.up() && p.up() && !closed;
    }

    @Override
    public boolean distributed() {
        return true;
    }

    /** Events not sent to other nodes (Redis down, queue full, publish failed) since start. */
    public long dropped() {
        return dropped.sum();
    }

    static byte[] channel(String room) {
        return (CHANNEL_PREFIX + room).getBytes(StandardCharsets.UTF_8);
    }

    /** Publishes what is queued (waiting up to about 2 s for Redis to take it), then closes the connections. */
    @Override
    public Future<Void> close() {
        if (!closing.compareAndSet(false, true)) return Future.succeededFuture();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().name("parley-redis-broker-close").daemon(true).start(() -> {
            publishing.shutdown();
            boolean stopped = false;
            try {
                stopped = publishing.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (stopped) {
                while (!outgoing.isEmpty()) drainBatch(); // the publishing thread is gone: this thread is the only writer now
                pub.close(Duration.ofSeconds(2)); // waits for Redis to have taken every publish
            } else {
                // Stuck in a write Redis does not take: closing the socket ends it.
                publishing.shutdownNow();
                pub.closeNow();
            }
            closed = true;
            subs.close().whenComplete((x, err) -> done.complete(null));
        });
        return Future.fromCompletionStage(done);
    }
}
