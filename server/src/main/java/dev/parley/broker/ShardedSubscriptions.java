package dev.parley.broker;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.RedisClusterPubSubAdapter;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * Subscriptions on a Redis Cluster with sharded Pub/Sub (Redis 7): each room's channel is
 * {@code SSUBSCRIBE}d at the primary that owns the channel's hash slot, so a message travels
 * through that shard alone, and rooms spread over the shards as keys do.
 *
 * <p>Why the placing is done here and not left to Lettuce: Lettuce sends a sharded subscribe to
 * the slot's node and subscribes again when that same connection comes back, but in one
 * {@code SSUBSCRIBE} for every channel the connection had (which Redis refuses with CROSSSLOT when
 * they lie in several slots), and not at all at the replica that took a dead primary's slots
 * (lettuce issues 2940 and 3213). So this class keeps, for each room, the node its subscribe went
 * to, and every {@link #CHECK_MILLIS} compares it with the topology Lettuce keeps (refreshed
 * periodically and on hints, see {@link RedisClients#clusterClient}): a room whose slot has a new
 * owner is subscribed there, and every room of a node whose connection came back is subscribed
 * again, one command per room. A repeated subscribe is harmless, and so is a message received
 * twice (the delivery drops the second), or lost meanwhile (the delivery reads it from the store).
 *
 * <p>Everything but the Lettuce callbacks runs on the broker's publishing thread, which the
 * callbacks hand their news to.
 */
final class ShardedSubscriptions implements Subscriptions {
    private static final Logger log = LoggerFactory.getLogger(ShardedSubscriptions.class);
    static final long CHECK_MILLIS = 250;
    /** How often, at most, this asks Lettuce to read the topology again while a room has no live primary. */
    static final long REFRESH_MILLIS = 1_000;
    private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final RedisClusterClient client;
    private final StatefulRedisClusterPubSubConnection<byte[], byte[]> connection;
    private final ScheduledExecutorService thread;
    private final Runnable stateChanged;
    private final ScheduledFuture<?> checks;
    /** Room to the id of the node its subscribe was sent to; null while it is not sent. The thread's, like the next three. */
    private final Map<String, String> rooms = new HashMap<>();
    private final Map<String, StatefulRedisPubSubConnection<byte[], byte[]>> nodes = new HashMap<>();
    private final Set<String> connecting = new HashSet<>();
    private final Set<Object> watched = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Node ids whose connection is down (written by Lettuce threads). */
    private final Set<String> down = ConcurrentHashMap.newKeySet();
    private long warnedAt = System.nanoTime() - WARN_EVERY_NANOS;
    private long refreshedAt = System.nanoTime();
    private volatile boolean up = true;
    private volatile boolean closed;

    /**
     * Connects to the cluster; fails if it cannot.
     *
     * @param thread       the broker's publishing thread: every method but {@link #up} and {@link #close} is called on it
     * @param stateChanged told (on that thread) when {@link #up} changed
     */
    ShardedSubscriptions(ClientResources resources, String url, String name, ScheduledExecutorService thread, Runnable stateChanged) {
        this.thread = requireNonNull(thread, "thread");
        this.stateChanged = requireNonNull(stateChanged, "stateChanged");
        // No command timeout: a subscribe waits in the reconnect buffer while its node is away.
        this.client = RedisClients.clusterClient(resources, url, name, null, ClientOptions.DisconnectedBehavior.DEFAULT);
        try {
            this.connection = client.connectPubSub(ByteArrayCodec.INSTANCE);
        } catch (RuntimeException e) {
            client.shutdown();
            throw e;
        }
        this.checks = thread.scheduleWithFixedDelay(this::check, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void start(Consumer<byte[]> messages) {
        requireNonNull(messages, "messages");
        // Messages of every node's connection come here, whether Lettuce's node message propagation is on or not.
        connection.addListener(new RedisClusterPubSubAdapter<>() {
            @Override
            public void smessage(RedisClusterNode node, byte[] channel, byte[] message) {
                messages.accept(message);
            }
        });
    }

    @Override
    public void subscribe(String room) {
        if (rooms.containsKey(room)) return; // the broker counts: a room is subscribed once
        rooms.put(room, null);
        String owner = owner(client.getPartitions(), room);
        if (owner != null) place(room, owner);
        updateHealth();
    }

    @Override
    public void unsubscribe(String room) {
        String at = rooms.remove(room);
        if (at == null) return;
        StatefulRedisPubSubConnection<byte[], byte[]> c = nodes.get(at);
        if (c == null) return;
        try {
            c.async().sunsubscribe(RedisBroker.channel(room)).whenComplete((v, err) -> {
                if (err != null && !closed) log.debug("Redis sharded unsubscribe of room {} failed: {}", room, err.toString());
            });
        } catch (RuntimeException e) {
            // a closed connection throws: nothing is subscribed on it any more
        }
    }

    /** The primary owning the room's channel's slot, or null while the slot has none. */
    private static String owner(Partitions partitions, String room) {
        RedisClusterNode node = partitions.getMasterBySlot(SlotHash.getSlot(RedisBroker.channel(room)));
        return node == null ? null : node.getNodeId();
    }

    /** Sends the room's subscribe to {@code owner}, once this node has a connection to it. */
    private void place(String room, String owner) {
        StatefulRedisPubSubConnection<byte[], byte[]> c = nodes.get(owner);
        if (c == null) {
            rooms.put(room, null); // placed when the connection is there
            connect(owner);
            return;
        }
        String before = rooms.put(room, owner);
        byte[] channel = RedisBroker.channel(room);
        if (before != null && !before.equals(owner)) {
            // A primary that lost the slot and still runs (a resharding, a manual failover) would
            // otherwise keep sending what it no longer gets; Redis usually unsubscribes it itself.
            StatefulRedisPubSubConnection<byte[], byte[]> old = nodes.get(before);
            if (old != null && old.isOpen()) {
                try {
                    old.async().sunsubscribe(channel);
                } catch (RuntimeException e) {
                    // gone already
                }
            }
        }
        try {
            c.async().ssubscribe(channel).whenComplete((v, err) -> {
                if (err != null) onThread(() -> failed(room, owner, c, err));
            });
        } catch (RuntimeException e) {
            failed(room, owner, c, e); // a closed connection throws instead of failing the future
        }
    }

    private void failed(String room, String owner, StatefulRedisPubSubConnection<byte[], byte[]> c, Throwable err) {
        if (closed) return;
        if (!c.isOpen()) nodes.remove(owner, c); // asked for again at the next try
        if (owner.equals(rooms.get(room))) rooms.put(room, null); // tried again at the next check
        long now = System.nanoTime();
        if (now - warnedAt > WARN_EVERY_NANOS) {
            warnedAt = now;
            log.warn("Redis sharded subscribe of room {} at node {} failed (tried again every {} ms; later failures are not logged for 30 s): {}",
                    room, owner, CHECK_MILLIS, err.toString());
        }
        updateHealth();
    }

    /** Asks Lettuce for the node's connection (it makes one if there is none), and watches its state. */
    private void connect(String owner) {
        if (!connecting.add(owner)) return;
        connection.getConnectionAsync(owner).whenComplete((c, err) -> onThread(() -> {
            connecting.remove(owner);
            if (err != null) {
                log.debug("no connection to cluster node {} yet: {}", owner, err.toString());
                return; // the next check asks again
            }
            nodes.put(owner, c);
            if (watched.add(c)) c.addListener(nodeState(owner));
            check();
        }));
    }

    private RedisConnectionStateListener nodeState(String owner) {
        return new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> c, SocketAddress address) {
                down.remove(owner);
                onThread(() -> reconnected(owner));
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                down.add(owner);
                onThread(ShardedSubscriptions.this::updateHealth);
            }
        };
    }

    /** The node's connection is back: its rooms are subscribed again, one command each. */
    private void reconnected(String owner) {
        for (Map.Entry<String, String> e : rooms.entrySet()) {
            if (owner.equals(e.getValue())) e.setValue(null);
        }
        check();
    }

    /** Every {@link #CHECK_MILLIS}: each room subscribed at its slot's owner as the topology says now. */
    private void check() {
        if (closed) return;
        try {
            Partitions partitions = client.getPartitions();
            List<Map.Entry<String, String>> moves = new ArrayList<>();
            for (Map.Entry<String, String> e : rooms.entrySet()) {
                String owner = owner(partitions, e.getKey());
                if (owner != null && !owner.equals(e.getValue())) moves.add(Map.entry(e.getKey(), owner));
            }
            for (Map.Entry<String, String> m : moves) place(m.getKey(), m.getValue());
            updateHealth();
            // A room without a live primary: its slot's owner is dead (left out of the topology once the
            // cluster agrees, see RedisClients.clusterClient) or it has none yet. Lettuce's own triggers
            // would wait for the periodic refresh here (nothing of this client goes to that slot), so
            // the topology is read again now, to find the replica that takes over as soon as it has.
            long now = System.nanoTime();
            if (!up && now - refreshedAt > TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS)) {
                refreshedAt = now;
                client.refreshPartitionsAsync();
            }
        } catch (RuntimeException e) {
            log.warn("checking the sharded subscriptions failed", e);
        }
    }

    /**
     * Down while a room may miss messages: subscribed at a node whose connection is down, or not
     * subscribed anywhere (its slot has no live primary, or its subscribe failed). A new room waiting
     * only for this node's first connection to its primary is not counted: nothing was missed there yet.
     */
    private void updateHealth() {
        boolean now = !closed;
        Partitions partitions = null;
        for (Map.Entry<String, String> e : rooms.entrySet()) {
            String at = e.getValue();
            if (at != null && !down.contains(at)) continue;
            if (at == null) {
                if (partitions == null) partitions = client.getPartitions();
                String owner = owner(partitions, e.getKey());
                if (owner != null && connecting.contains(owner)) continue;
            }
            now = false;
            break;
        }
        if (now == up) return;
        up = now;
        stateChanged.run();
    }

    private void onThread(Runnable task) {
        if (closed) return;
        try {
            thread.execute(task);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    @Override
    public boolean up() {
        return up && !closed;
    }

    @Override
    public CompletableFuture<Void> close() {
        closed = true;
        checks.cancel(false);
        return connection.closeAsync()
                .handle((x, err) -> null)
                .thenCompose(x -> client.shutdownAsync(0, 2, TimeUnit.SECONDS))
                .handle((x, err) -> null);
    }
}
