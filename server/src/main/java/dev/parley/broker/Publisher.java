package dev.parley.broker;

import java.time.Duration;

/**
 * The publishing half of {@link RedisBroker}, called by its publishing thread only (except
 * {@link #closeNow}). Two kinds: {@link RedisPublisher} for one Redis server (a socket on which Redis
 * sends no replies: the fast path) and {@link LettucePublisher} for a Redis Cluster ({@code SPUBLISH}
 * to each channel's shard) or a master found through Sentinel, where Lettuce finds the node and
 * follows it through a failover.
 */
interface Publisher {
    /**
     * Whether a publish now may reach Redis at all; the broker drops events without trying while
     * false. Not the same as {@link #up}: on a cluster one shard down must not stop publishing to
     * the others.
     */
    boolean takes();

    /** False while events may not reach Redis (the node is then not ready, and the delivery polls the store). */
    boolean up();

    /** Queues a publish of {@code message} on {@code channel} for the next {@link #flush}. */
    void add(byte[] channel, byte[] message);

    /**
     * Sends what {@link #add} queued.
     *
     * @return how many of the queued events are known not to have reached Redis now (failures
     * known only later are counted as the publisher was told when it was made)
     */
    int flush();

    /** Sends what is queued, waits up to {@code wait} for Redis to have taken it, then closes. Once the publishing thread has stopped. */
    void close(Duration wait);

    /** Closes at once, on any thread: what is being written fails. */
    void closeNow();
}
