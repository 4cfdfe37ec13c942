package dev.parley.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Every meter of the server, named once here under the {@code parley_} prefix and served at
 * {@code /metrics} in the Prometheus format. Hot paths hold their counters in fields: no lookups by
 * name per frame. It observes what it measures through the callbacks the composition root hands
 * the parts ({@link #delivered}, {@link #resumed}, {@link #batchCommitted}), and imports none of them.
 */
public final class ChatMetrics {
    public static final String PREFIX = "parley.";
    public static final String CONNECTIONS_OPEN = PREFIX + "connections.open";
    public static final String FRAMES_IN = PREFIX + "frames.in";
    public static final String FRAMES_OUT = PREFIX + "frames.out";
    public static final String MESSAGES_APPENDED = PREFIX + "messages.appended";
    public static final String APPEND_BATCH_SIZE = PREFIX + "append.batch.size";
    public static final String APPEND_BATCH_LATENCY = PREFIX + "append.batch.latency";
    public static final String DELIVERIES = PREFIX + "deliveries";
    public static final String ERRORS = PREFIX + "errors";
    public static final String SLOW_CONSUMER_CLOSES = PREFIX + "slow.consumer.closes";
    public static final String EPHEMERAL_DROPPED = PREFIX + "ephemeral.dropped";
    public static final String REVOKED_CLOSES = PREFIX + "revoked.closes";
    public static final String RESUMES = PREFIX + "resumes";
    /** Records from Redis a node dropped, by reason: {@code unauthenticated} (forged, or another key) or {@code unreadable}. */
    public static final String BROKER_REJECTED = PREFIX + "broker.events.rejected";
    public static final String JOURNAL_SYNCS = PREFIX + "journal.syncs";
    /** How long each sync of the embedded journal took: the disk's share of an ack's wait. */
    public static final String JOURNAL_SYNC_TIME = PREFIX + "journal.sync";
    /** Bytes queued in the outboxes of every connection together, and the budget they are kept within. */
    public static final String OUTBOX_BYTES = PREFIX + "outbox.bytes";
    public static final String OUTBOX_BUDGET = PREFIX + "outbox.budget.bytes";
    /** Bytes written to connections' channels that their sockets have not taken yet (Netty's buffers). */
    public static final String SOCKET_PENDING_BYTES = PREFIX + "socket.pending.bytes";
    /** WebSocket upgrades refused for a connection cap, by {@code reason}: node, address or user; or past the node's rate of upgrades: rate. */
    public static final String CONNECTIONS_REFUSED = PREFIX + "connections.refused";
    /** Messages and room events removed by the retention sweep (CHAT_RETENTION_DAYS, CHAT_RETENTION_MESSAGES, rooms' own). */
    public static final String RETENTION_SWEPT = PREFIX + "retention.swept";
    /** From a WebSocket {@code send} taken to its {@code ack} queued: the store's commit as a sender feels it. */
    public static final String ACK_LATENCY = PREFIX + "ack.latency";
    /** From the start of a message's commit on another node to its arrival here through the broker (the nodes' clocks apart included). */
    public static final String BROKER_LAG = PREFIX + "broker.lag";
    /** Events this node could not send to the others (Redis down, its queue full): the others read those messages from the store. */
    public static final String BROKER_DROPPED = PREFIX + "broker.events.dropped";
    /** Messages a fill read back from the store: lost by the broker, late past the gap wait, or missed while it was down. */
    public static final String REPAIRED = PREFIX + "delivery.repaired";
    /** 1 when {@code /health/ready} would answer 200; read at each scrape, with the checks below. */
    public static final String READY = PREFIX + "ready";
    /** 1 while a backend answers, by {@code dependency}: database, broker, presence (the last two are Redis in a cluster). */
    public static final String DEPENDENCY_UP = PREFIX + "dependency.up";
    /** 1 while the node drains (SIGTERM): not ready on purpose. */
    public static final String DRAINING = PREFIX + "draining";
    /** Buckets of the journal's sync times, in µs: about 0.1 ms on a good disk; this project's virtual one has bursts of 2 to 15 ms. */
    private static final Duration[] SYNC_BUCKETS = Stream.of(100, 250, 500, 1000, 2000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000)
            .map(micros -> Duration.ofNanos(micros * 1_000L)).toArray(Duration[]::new);
    /** Buckets of the latency histograms: a few, so that a cluster's quantiles add up in PromQL without many series. */
    private static final Duration[] LATENCY_BUCKETS = Stream.of(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000)
            .map(Duration::ofMillis).toArray(Duration[]::new);
    /** Webhook deliveries tried, by {@code outcome}: delivered (a 2xx), failed (to be retried), disabled (the failure that gave up). */
    public static final String WEBHOOK_DELIVERIES = PREFIX + "webhook.deliveries";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<String, Counter> framesIn = new ConcurrentHashMap<>();
    private final Map<String, Counter> framesOut = new ConcurrentHashMap<>();
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Map<String, Counter> brokerRejected = new ConcurrentHashMap<>();
    private final Counter appended;
    private final DistributionSummary batchSize;
    private final Timer batchLatency;
    private final Counter deliveries;
    private final Map<String, Counter> slowCloses = new ConcurrentHashMap<>();
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();
    private final Counter revokedCloses;
    private final Counter ephemeralDropped;
    private final Counter resumedFully;
    private final Counter resumedPartly;
    private final Counter retentionSwept;
    private final Map<String, Counter> webhookDeliveries = new ConcurrentHashMap<>();
    private volatile LongSupplier journalForces = () -> 0;
    private volatile Timer journalSyncTime;
    private final Timer ackLatency;
    private final Timer brokerLag;
    private final Counter repaired;
    private volatile LongSupplier brokerDrops = () -> 0;
    private final AtomicInteger ready = new AtomicInteger();
    private final AtomicInteger draining = new AtomicInteger();
    private final Map<String, AtomicInteger> dependencies = new ConcurrentHashMap<>();

    /** @param errorCodes every error code a client can be sent, so that each has its counter from the start */
    public ChatMetrics(Collection<String> errorCodes) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        Gauge.builder(CONNECTIONS_OPEN, connections, AtomicInteger::get).description("WebSocket connections open").register(registry);
        for (String c : errorCodes) errorCounter(c);
        // At 0 from the start, so that an alert on its rate needs no series to appear first.
        for (String reason : new String[]{"unauthenticated", "unreadable"}) brokerRejectedCounter(reason);
        appended = Counter.builder(MESSAGES_APPENDED).description("messages stored").register(registry);
        batchSize = DistributionSummary.builder(APPEND_BATCH_SIZE).description("messages per group commit").register(registry);
        batchLatency = Timer.builder(APPEND_BATCH_LATENCY).description("time of one group commit").publishPercentiles(0.5, 0.99).register(registry);
        deliveries = Counter.builder(DELIVERIES).description("messages handed to local connections").register(registry);
        revokedCloses = Counter.builder(REVOKED_CLOSES).description("connections closed with 4003 because their token was revoked").register(registry);
        ephemeralDropped = Counter.builder(EPHEMERAL_DROPPED).description("typing and presence events dropped for slow connections").register(registry);
        resumedFully = Counter.builder(RESUMES).tag("recovered", "true").description("joins with since").register(registry);
        resumedPartly = Counter.builder(RESUMES).tag("recovered", "false").description("joins with since").register(registry);
        retentionSwept = Counter.builder(RETENTION_SWEPT).description("messages and room events removed by retention").register(registry);
        ackLatency = Timer.builder(ACK_LATENCY).serviceLevelObjectives(LATENCY_BUCKETS)
                .description("from a WebSocket send taken to its ack queued").register(registry);
        brokerLag = Timer.builder(BROKER_LAG).serviceLevelObjectives(LATENCY_BUCKETS)
                .description("from a message's commit on another node to its arrival here through the broker").register(registry);
        repaired = Counter.builder(REPAIRED).description("messages read back from the store because the broker lost them or was late").register(registry);
        // Registered on every node, at 0 on one without Redis, so that a dashboard's query finds it anywhere.
        FunctionCounter.builder(BROKER_DROPPED, this, m -> (double) m.brokerDrops.getAsLong())
                .description("events not sent to the other nodes (Redis down or behind); they read those messages from the store").register(registry);
        Gauge.builder(READY, ready, AtomicInteger::get).description("1 when /health/ready answers 200, as of the last scrape").register(registry);
        Gauge.builder(DRAINING, draining, AtomicInteger::get).description("1 while the node drains").register(registry);
        for (String d : new String[]{"database", "broker", "presence"}) {
            AtomicInteger up = new AtomicInteger();
            dependencies.put(d, up);
            Gauge.builder(DEPENDENCY_UP, up, AtomicInteger::get).tag("dependency", d)
                    .description("1 while the backend answers, as of the last scrape").register(registry);
        }
        for (String outcome : new String[]{"delivered", "failed", "disabled"}) {
            webhookDeliveries.put(outcome, Counter.builder(WEBHOOK_DELIVERIES).tag("outcome", outcome).description("webhook deliveries tried").register(registry));
        }
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public String scrape() {
        return registry.scrape();
    }

    public void connectionOpened() {
        connections.incrementAndGet();
    }

    public void connectionClosed() {
        connections.decrementAndGet();
    }

    public int openConnections() {
        return connections.get();
    }

    public void frameIn(String type) {
        framesIn.computeIfAbsent(type, t -> Counter.builder(FRAMES_IN).tag("type", t).description("frames received, by type").register(registry)).increment();
    }

    public Counter frameOutCounter(String type) {
        return framesOut.computeIfAbsent(type, t -> Counter.builder(FRAMES_OUT).tag("type", t).description("frames queued to clients, by type").register(registry));
    }

    /** An error sent to a client, by its wire code. */
    public void error(String code) {
        errorCounter(code).increment();
    }

    private Counter errorCounter(String code) {
        return errors.computeIfAbsent(code, c -> Counter.builder(ERRORS).tag("code", c).description("errors sent to clients, by code").register(registry));
    }

    /** A record from Redis dropped, by reason (the broker's words: {@code unauthenticated}, {@code unreadable}). */
    public void brokerEventRejected(String reason) {
        brokerRejectedCounter(reason).increment();
    }

    private Counter brokerRejectedCounter(String reason) {
        return brokerRejected.computeIfAbsent(reason, r -> Counter.builder(BROKER_REJECTED).tag("reason", r)
                .description("records from Redis dropped: not authentic under the cluster key, or unreadable").register(registry));
    }

    /**
     * A connection closed with 4002, by why: its queue was full ({@code outbox_full}), its socket took
     * nothing for the unwritable timeout ({@code unwritable}), or it was among the biggest when the
     * node's outboxes passed their budget ({@code budget}).
     */
    public void slowConsumerClosed(String reason) {
        slowConsumerCounter(reason).increment();
    }

    /** The counter of 4002 closes for one reason; registering each reason at start shows it at 0 until the first. */
    public Counter slowConsumerCounter(String reason) {
        return slowCloses.computeIfAbsent(reason, r -> Counter.builder(SLOW_CONSUMER_CLOSES).tag("reason", r)
                .description("connections closed with 4002 as too slow, by reason").register(registry));
    }

    /** A WebSocket upgrade refused for a connection cap ({@code node}, {@code address} or {@code user}) or for the node's rate of upgrades ({@code rate}); a TCP connection closed at accept ({@code address_sockets}). */
    public void connectionRefused(String reason) {
        refusalCounter(reason).increment();
    }

    public Counter refusalCounter(String reason) {
        return refusals.computeIfAbsent(reason, r -> Counter.builder(CONNECTIONS_REFUSED).tag("reason", r)
                .description("WebSocket upgrades refused for a connection cap or the rate of upgrades, and TCP connections closed at accept for their address's cap (address_sockets), by reason").register(registry));
    }

    /** The outboxes' bytes queued and their budget, read when scraped. */
    public void outboxes(LongSupplier queuedBytes, long budgetBytes, LongSupplier socketPendingBytes) {
        // Strong references: a gauge keeps only a weak one to its object by default, and these suppliers have no other holder.
        Gauge.builder(OUTBOX_BYTES, queuedBytes, s -> s.getAsLong()).strongReference(true)
                .description("bytes queued in the outboxes of all connections").register(registry);
        Gauge.builder(OUTBOX_BUDGET, () -> budgetBytes).description("most bytes the outboxes may hold together (CHAT_OUTBOX_BUDGET)").register(registry);
        Gauge.builder(SOCKET_PENDING_BYTES, socketPendingBytes, s -> s.getAsLong()).strongReference(true)
                .description("bytes written to connections that their sockets have not taken yet").register(registry);
    }

    public void revokedClosed() {
        revokedCloses.increment();
    }

    public void ephemeralDropped() {
        ephemeralDropped.increment();
    }

    /** Messages handed to local connections (one per recipient). */
    public void delivered(int recipients) {
        deliveries.increment(recipients);
    }

    public void resumed(boolean recovered) {
        (recovered ? resumedFully : resumedPartly).increment();
    }

    /**
     * The embedded database's journal writes synced to the disk ({@code CHAT_JOURNAL_SYNC=commit}), read
     * from {@code forces}: an operator sees the sync happen, not only configured; 0 with {@code none}.
     */
    public void journalSyncs(LongSupplier forces) {
        // Micrometer holds a function counter's object weakly: a lambda held by nothing else would be
        // collected, and the counter would stay at its last reading. This object lives as long as the node.
        journalForces = forces;
        FunctionCounter.builder(JOURNAL_SYNCS, this, m -> (double) m.journalForces.getAsLong())
                .description("journal writes synced to the disk (one per group commit with CHAT_JOURNAL_SYNC=commit)").register(registry);
        journalSyncTime = Timer.builder(JOURNAL_SYNC_TIME).serviceLevelObjectives(SYNC_BUCKETS)
                .description("how long each sync of the journal to the disk took").register(registry);
    }

    /** A sync of the journal took {@code nanos}; called on the writer thread. */
    public void journalSynced(long nanos) {
        Timer t = journalSyncTime;
        if (t != null) t.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A webhook delivery's outcome: {@code delivered}, {@code failed} or {@code disabled}. */
    public void webhookDelivery(String outcome) {
        Counter c = webhookDeliveries.get(outcome);
        if (c != null) c.increment();
    }

    /** Messages and room events a pass of the retention sweep removed. */
    public void retentionSwept(long rows) {
        retentionSwept.increment(rows);
    }

    /** A WebSocket send answered with its ack, {@code nanos} after it was taken. */
    public void acked(long nanos) {
        ackLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A message of another node arrived through the broker, {@code millis} after its commit began there. */
    public void brokerLag(long millis) {
        brokerLag.record(Math.max(0, millis), TimeUnit.MILLISECONDS);
    }

    /** Messages a fill read back from the store. */
    public void repaired(int messages) {
        repaired.increment(messages);
    }

    /** The events the broker could not send to the other nodes since start, read when scraped. */
    public void brokerDrops(LongSupplier dropped) {
        brokerDrops = dropped; // held here, strongly: see journalSyncs
    }

    /** What the readiness check found, just before a scrape: the gauges {@code ready}, {@code draining} and {@code dependency_up}. */
    public void health(boolean ready, boolean draining, boolean database, boolean broker, boolean presence) {
        this.ready.set(ready ? 1 : 0);
        this.draining.set(draining ? 1 : 0);
        dependencies.get("database").set(database ? 1 : 0);
        dependencies.get("broker").set(broker ? 1 : 0);
        dependencies.get("presence").set(presence ? 1 : 0);
    }

    public void batchCommitted(int size, long nanos) {
        appended.increment(size);
        batchSize.record(size);
        batchLatency.record(nanos, TimeUnit.NANOSECONDS);
    }
}
