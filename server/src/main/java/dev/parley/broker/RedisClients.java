package dev.parley.broker;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * How a node talks to Redis: one set of Lettuce thread pools per node ({@link #resources()}), shared by
 * the broker's and the presence's clients, each of which owns its connections; and which Redis
 * {@code CHAT_REDIS_URL} names ({@link Target}): one server, a server found through Sentinel, or a
 * Redis Cluster.
 */
public final class RedisClients {
    /** Lettuce's default backs off up to 30 s; a node should be back within a second of Redis. */
    private static final Delay RECONNECT = Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /**
     * How often a cluster client reads the cluster's topology even when nothing hints at a change.
     * The adaptive triggers (a MOVED reply, a node that does not reconnect) notice a failover first;
     * this is the backstop.
     */
    static final Duration TOPOLOGY_REFRESH = Duration.ofSeconds(5);
    /** The least time between two refreshes that the adaptive triggers ask for (Lettuce's default, 30 s, would leave a failover unseen that long). */
    static final Duration ADAPTIVE_REFRESH_PAUSE = Duration.ofMillis(500);

    private RedisClients() {}

    /** Which kind of Redis a URL names. */
    public enum Kind {
        /** {@code redis://} or {@code rediss://}: one server. */
        STANDALONE,
        /** {@code redis-sentinel://} or {@code rediss-sentinel://}: the master of a group, found through its Sentinels. */
        SENTINEL,
        /** {@code redis-cluster://} or {@code rediss-cluster://}: a Redis Cluster, given by one or more of its nodes. */
        CLUSTER
    }

    /**
     * {@code CHAT_REDIS_URL}, read: its kind and the URIs Lettuce is given (one, or the cluster's seed
     * nodes). Lettuce reads {@code redis://} and {@code redis-sentinel://} itself; a cluster URL is
     * ours: {@code redis-cluster://[[user]:password@]host[:port][,host[:port]...][?options]}, each
     * host becoming a {@code redis://} (or {@code rediss://}) URI with the same user, password and
     * options.
     */
    public record Target(Kind kind, List<RedisURI> uris) {
        public Target {
            requireNonNull(kind, "kind");
            uris = List.copyOf(uris);
            if (uris.isEmpty()) throw new IllegalArgumentException("no Redis host");
        }

        /** @throws IllegalArgumentException for a URL that is none of the forms above (the message never repeats a password) */
        public static Target parse(String url) {
            requireNonNull(url, "url");
            String scheme = url.contains("://") ? url.substring(0, url.indexOf("://")).toLowerCase(Locale.ROOT) : "";
            try {
                return switch (scheme) {
                    case "redis", "rediss" -> new Target(Kind.STANDALONE, List.of(RedisURI.create(url)));
                    case "redis-sentinel", "rediss-sentinel" -> {
                        int hash = url.indexOf('#');
                        if (hash < 0 || hash == url.length() - 1) {
                            throw new IllegalArgumentException("a Sentinel URL names its master after '#': " + scheme + "://host:26379#mymaster");
                        }
                        yield new Target(Kind.SENTINEL, List.of(RedisURI.create(url)));
                    }
                    case "redis-cluster", "rediss-cluster" -> new Target(Kind.CLUSTER, seeds(scheme.startsWith("rediss") ? "rediss" : "redis",
                            url.substring(scheme.length() + 3)));
                    default -> throw new IllegalArgumentException("expected redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster://");
                };
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the Redis URL " + masked(url) + " cannot be used: " + masked(String.valueOf(e.getMessage())), e);
            }
        }

        private static List<RedisURI> seeds(String scheme, String rest) {
            int q = rest.indexOf('?');
            String query = q < 0 ? "" : rest.substring(q);
            String authority = q < 0 ? rest : rest.substring(0, q);
            if (authority.endsWith("/")) authority = authority.substring(0, authority.length() - 1);
            int at = authority.lastIndexOf('@');
            String userInfo = at < 0 ? "" : authority.substring(0, at + 1);
            String hosts = authority.substring(at + 1);
            if (hosts.contains("/")) throw new IllegalArgumentException("a cluster has one database: no /db in a cluster URL");
            List<RedisURI> out = new ArrayList<>();
            for (String host : hosts.split(",")) {
                if (host.isBlank()) throw new IllegalArgumentException("an empty host in the list");
                out.add(RedisURI.create(scheme + "://" + userInfo + host.strip() + query));
            }
            return out;
        }

        public boolean cluster() {
            return kind == Kind.CLUSTER;
        }
    }

    /** The node's Lettuce thread pools; the caller shuts them down after every client using them. */
    public static ClientResources resources() {
        return ClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).reconnectDelay(RECONNECT).build();
    }

    /**
     * A client of one server or of a Sentinel group, for one kind of connection (the broker's
     * subscriptions, presence...).
     *
     * @param commandTimeout how long a command may wait for its answer; null for none (a subscription
     *                       must not time out while it waits in the reconnect buffer)
     * @param whileDown      what the connection does with commands while it is disconnected
     * @throws IllegalArgumentException for a cluster URL (see {@link #clusterClient})
     */
    public static RedisClient client(ClientResources resources, String url, String name, Duration commandTimeout,
                              ClientOptions.DisconnectedBehavior whileDown) {
        Target target = Target.parse(url);
        if (target.cluster()) throw new IllegalArgumentException("a cluster URL needs a cluster client: " + masked(url));
        RedisURI uri = target.uris().getFirst();
        uri.setClientName(name);
        RedisClient client = RedisClient.create(resources, uri);
        client.setOptions(options(commandTimeout, whileDown));
        return client;
    }

    /**
     * A client of a Redis Cluster that follows its topology: it reads it again every
     * {@link #TOPOLOGY_REFRESH}, and at once (at most every {@link #ADAPTIVE_REFRESH_PAUSE}) when a
     * node answers MOVED or ASK, a slot has no node, or a node's connection fails to come back twice:
     * so a replica that takes over a dead primary's slots is found within a second or so of the
     * takeover. The topology comes from the nodes themselves ({@code CLUSTER NODES}); the URL's
     * hosts are only where to start.
     */
    public static RedisClusterClient clusterClient(ClientResources resources, String url, String name, Duration commandTimeout,
                                                   ClientOptions.DisconnectedBehavior whileDown) {
        Target target = Target.parse(url); // parsed again for each client: the client name is set on its URIs
        if (!target.cluster()) throw new IllegalArgumentException("not a cluster URL: " + masked(url));
        for (RedisURI uri : target.uris()) uri.setClientName(name);
        RedisClusterClient client = RedisClusterClient.create(resources, target.uris());
        client.setOptions(ClusterClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(whileDown)
                .requestQueueSize(65_536)
                .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).keepAlive(true).build())
                .timeoutOptions(timeouts(commandTimeout))
                // A node the cluster agrees has failed is left out of the topology: its connection is
                // closed rather than retried, which would otherwise go on until it is forgotten.
                .nodeFilter(node -> !(node.is(RedisClusterNode.NodeFlag.FAIL) || node.is(RedisClusterNode.NodeFlag.NOADDR)
                        || node.is(RedisClusterNode.NodeFlag.HANDSHAKE)))
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                        .enablePeriodicRefresh(TOPOLOGY_REFRESH)
                        .enableAllAdaptiveRefreshTriggers()
                        .adaptiveRefreshTriggersTimeout(ADAPTIVE_REFRESH_PAUSE)
                        .refreshTriggersReconnectAttempts(2)
                        .build())
                .build());
        return client;
    }

    private static ClientOptions options(Duration commandTimeout, ClientOptions.DisconnectedBehavior whileDown) {
        return ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(whileDown)
                .requestQueueSize(65_536) // the default is unbounded: a hung Redis would eat the heap
                .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).keepAlive(true).build())
                .timeoutOptions(timeouts(commandTimeout))
                .build();
    }

    private static TimeoutOptions timeouts(Duration commandTimeout) {
        return commandTimeout == null ? TimeoutOptions.builder().timeoutCommands(false).build() : TimeoutOptions.enabled(commandTimeout);
    }

    /**
     * A connection of String keys and values, typed by what a single Redis and a Redis Cluster both
     * answer ({@link RedisClusterAsyncCommands}: on a cluster each command goes to the node of its
     * key's slot, so the keys of one command or script must share a slot, which a hash tag such as
     * {@code {room}} ensures). {@link #close} closes the connection and shuts its client down.
     */
    public record Commands(AbstractRedisClient client, StatefulConnection<String, String> connection,
                           RedisClusterAsyncCommands<String, String> async) implements AutoCloseable {
        /**
         * True on a Redis Cluster: the connection's state events are then those of one node's
         * connection only (Lettuce's default one), not of the nodes the commands go to.
         */
        public boolean cluster() {
            return client instanceof RedisClusterClient;
        }

        @Override
        public void close() {
            connection.close();
            client.shutdown();
        }

        /** Closes the connection, then shuts the client down, waiting up to 2 s; never fails. */
        public CompletableFuture<Void> closeAsync() {
            return connection.closeAsync()
                    .handle((x, err) -> null)
                    .thenCompose(x -> client.shutdownAsync(0, 2, TimeUnit.SECONDS))
                    .handle((x, err) -> null);
        }
    }

    /**
     * Connects a client of its own to whichever Redis the URL names.
     *
     * @param purpose what the connection is for, in the message of a failure ("to count login attempts")
     * @throws IllegalStateException if Redis cannot be reached (the message names the URL, masked)
     */
    public static Commands connect(ClientResources resources, String url, String name, Duration commandTimeout,
                                   ClientOptions.DisconnectedBehavior whileDown, String purpose) {
        Target target = Target.parse(url);
        AbstractRedisClient client = target.cluster()
                ? clusterClient(resources, url, name, commandTimeout, whileDown)
                : client(resources, url, name, commandTimeout, whileDown);
        try {
            if (client instanceof RedisClusterClient c) {
                StatefulRedisClusterConnection<String, String> connection = c.connect(StringCodec.UTF8);
                return new Commands(c, connection, connection.async());
            }
            StatefulRedisConnection<String, String> connection = ((RedisClient) client).connect(StringCodec.UTF8);
            return new Commands(client, connection, connection.async());
        } catch (RuntimeException e) {
            client.shutdown();
            throw new IllegalStateException("cannot connect to Redis " + purpose + " at " + masked(url) + ": " + masked(String.valueOf(e.getMessage())), e);
        }
    }

    /** The URL without credentials, for logs. */
    public static String masked(String url) {
        return url.replaceAll("//[^@/]*@", "//****@");
    }
}
