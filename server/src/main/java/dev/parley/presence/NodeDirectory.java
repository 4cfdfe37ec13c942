package dev.parley.presence;

import dev.parley.broker.RedisClients;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Which nodes run, as each says of itself every few seconds (the administrators' list of nodes): in
 * Redis, one hash {@code parley:nodes} whose field is a node's id and whose value is
 * {@code <expiry millis>|<state>}, the state being whatever the node reports (its health, its
 * connections). A node that stops writing drops out once its entry expires, and the next reader
 * removes the field. Expiry is on the writer's clock: nodes' clocks a second apart matter nothing
 * against an entry that lives for several reports.
 *
 * <p>Without Redis (a single node) there is no one else to know of: {@link #local} lists nobody,
 * and the caller lists itself from what it knows first hand.
 */
public final class NodeDirectory {
    static final String KEY = "parley:nodes";

    /** What a node said of itself, until when. */
    public record Entry(String node, String state, long expiresAt) {}

    private final String node;
    private final RedisClients.Commands connection;
    private final RedisClusterAsyncCommands<String, String> redis;

    private NodeDirectory(String node, RedisClients.Commands connection) {
        this.node = requireNonNull(node, "node");
        this.connection = connection;
        this.redis = connection == null ? null : connection.async(); // one key: any Redis, Sentinel or a cluster
    }

    /** A single node's: nobody else to list. */
    public static NodeDirectory local(String node) {
        return new NodeDirectory(node, null);
    }

    /** @param connection a connection of its own (its command timeout bounds a report or a read), which {@link #close} closes */
    public static NodeDirectory redis(String node, RedisClients.Commands connection) {
        return new NodeDirectory(node, requireNonNull(connection, "connection"));
    }

    /** Whether other nodes read what this one reports (else there is nobody to report to). */
    public boolean shared() {
        return redis != null;
    }

    /** Writes this node's state, good until {@code expiresAt}. */
    public CompletionStage<Void> report(String state, long expiresAt) {
        if (redis == null) return CompletableFuture.completedFuture(null);
        try {
            return redis.hset(KEY, node, expiresAt + "|" + state).thenApply(x -> (Void) null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e); // a closed connection throws instead of failing the future
        }
    }

    /** The other nodes whose entry has not expired at {@code now}, by id; the expired ones are removed. */
    public CompletionStage<List<Entry>> others(long now) {
        if (redis == null) return CompletableFuture.completedFuture(List.of());
        try {
            return redis.hgetall(KEY).thenApply(all -> live(all, now));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private List<Entry> live(Map<String, String> all, long now) {
        List<Entry> out = new ArrayList<>();
        List<String> expired = new ArrayList<>();
        for (Map.Entry<String, String> e : all.entrySet()) {
            if (e.getKey().equals(node)) continue;
            Entry entry = parse(e.getKey(), e.getValue());
            if (entry == null || entry.expiresAt() < now) expired.add(e.getKey());
            else out.add(entry);
        }
        if (!expired.isEmpty()) redis.hdel(KEY, expired.toArray(String[]::new)); // a node that comes back writes itself again
        out.sort((a, b) -> a.node().compareTo(b.node()));
        return out;
    }

    static Entry parse(String node, String value) {
        int bar = value == null ? -1 : value.indexOf('|');
        if (bar <= 0) return null;
        try {
            return new Entry(node, value.substring(bar + 1), Long.parseLong(value.substring(0, bar)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Takes this node's entry out (it stops), then closes the connection. */
    public void close() {
        if (redis == null) return;
        try {
            redis.hdel(KEY, node).toCompletableFuture().get(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Redis is down or slow: the entry expires on its own
        }
        connection.close();
    }
}
