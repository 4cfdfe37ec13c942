package dev.parley.broker;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static java.util.Objects.requireNonNull;

/**
 * The publishing half of the Redis broker on a Redis Cluster or through Sentinel, through Lettuce:
 * on a cluster each event is an {@code SPUBLISH}, which Lettuce sends to the primary of the channel's
 * slot, following the topology as it changes (a replica that took over, a resharding); through
 * Sentinel a {@code PUBLISH} to the master Sentinel names, found again after a failover.
 *
 * <p>Unlike {@link RedisPublisher}, every publish has a reply, which Lettuce reads and matches to
 * its future: the price of the routing and of following failovers, paid only on these deployments.
 * Publishing stays at most once: a command is rejected at once while its node's connection is
 * down, times out after {@link #TIMEOUT}, and either way the event is counted as dropped (the
 * delivery reads it from the store). {@link #up()} is false while the connection is down (Sentinel)
 * and for {@link #UNHEALTHY_FOR} after any failed publish (a cluster: one shard may fail while the
 * others take events, and each is tried).
 */
final class LettucePublisher implements Publisher {
    private static final Logger log = LoggerFactory.getLogger(LettucePublisher.class);
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    static final Duration UNHEALTHY_FOR = Duration.ofSeconds(1);

    private final AbstractRedisClient client;
    private final StatefulConnection<byte[], byte[]> connection;
    private final RedisClusterAsyncCommands<byte[], byte[]> commands;
    private final boolean sharded;
    private final Runnable lost;
    private final Runnable stateChanged;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean connected = true;
    private volatile long failedAt; // System.nanoTime() | 1 of the latest failed publish; 0 once healthy again
    private volatile boolean closed;

    /**
     * Connects; fails if it cannot.
     *
     * @param lost         told, on a Lettuce thread, of each event that did not reach Redis
     * @param stateChanged told (on any thread) when {@link #up()} may have changed
     */
    LettucePublisher(ClientResources resources, RedisClients.Target target, String url, String name, Runnable lost, Runnable stateChanged) {
        this.lost = requireNonNull(lost, "lost");
        this.stateChanged = requireNonNull(stateChanged, "stateChanged");
        this.sharded = target.cluster();
        // REJECT_COMMANDS: while a node is away its events are dropped at once rather than queued.
        this.client = sharded
                ? RedisClients.clusterClient(resources, url, name, TIMEOUT, ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                : RedisClients.client(resources, url, name, TIMEOUT, ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
        try {
            if (client instanceof RedisClusterClient c) {
                StatefulRedisClusterConnection<byte[], byte[]> cc = c.connect(ByteArrayCodec.INSTANCE);
                this.connection = cc;
                this.commands = cc.async();
            } else {
                StatefulRedisConnection<byte[], byte[]> sc = ((RedisClient) client).connect(ByteArrayCodec.INSTANCE);
                this.connection = sc;
                this.commands = sc.async();
                // One connection, to the master: its state is the publisher's (on a cluster it would be
                // one node's only, so there failures tell instead).
                sc.addListener(new RedisConnectionStateListener() {
                    @Override
                    public void onRedisConnected(RedisChannelHandler<?, ?> c, SocketAddress address) {
                        connected = true;
                        stateChanged.run();
                    }

                    @Override
                    public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                        connected = false;
                        stateChanged.run();
                    }
                });
            }
        } catch (RuntimeException e) {
            client.shutdown();
            throw e;
        }
    }

    @Override
    public boolean takes() {
        return !closed;
    }

    @Override
    public boolean up() {
        long at = failedAt;
        return connected && !closed && (at == 0 || System.nanoTime() - at > UNHEALTHY_FOR.toNanos());
    }

    @Override
    public void add(byte[] channel, byte[] message) {
        CompletionStage<Long> call;
        try {
            call = sharded ? commands.spublish(channel, message) : commands.publish(channel, message);
        } catch (RuntimeException e) {
            failed(e); // a closed connection throws instead of failing the future
            return;
        }
        inFlight.incrementAndGet();
        call.whenComplete((receivers, err) -> {
            inFlight.decrementAndGet();
            if (err != null) failed(err);
            else if (failedAt != 0 && up()) recovered();
        });
    }

    /** Lettuce writes each command as it is given: nothing is held back for a flush. */
    @Override
    public int flush() {
        return 0;
    }

    private void failed(Throwable err) {
        lost.run();
        if (closed) return;
        boolean was = up();
        failedAt = System.nanoTime() | 1;
        if (was) {
            log.info("Redis did not take a publish ({}): events of its rooms are read from the store meanwhile", err.toString());
            stateChanged.run();
        }
    }

    private void recovered() {
        failedAt = 0;
        stateChanged.run();
    }

    /** Waits up to {@code wait} for the publishes under way to be answered, then closes. */
    @Override
    public void close(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        closeNow();
    }

    @Override
    public void closeNow() {
        if (closed) return;
        closed = true;
        connection.closeAsync()
                .handle((x, err) -> null)
                .thenCompose(x -> client.shutdownAsync(0, 2, TimeUnit.SECONDS));
    }
}
