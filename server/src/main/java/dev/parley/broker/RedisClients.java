package dev.parley.broker;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How a node talks to Redis: one set of Lettuce thread pools per node ({@link #resources()}), shared by
 * the broker's and the presence's clients, each of which owns its connections.
 */
public final class RedisClients {
    /** Lettuce's default backs off up to 30 s; a node should be back within a second of Redis. */
    private static final Delay RECONNECT = Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private RedisClients() {}

    /** The node's Lettuce thread pools; the caller shuts them down after every client using them. */
    public static ClientResources resources() {
        return ClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).reconnectDelay(RECONNECT).build();
    }

    /**
     * A client for one kind of connection (the broker's subscriptions, its publishing, presence).
     *
     * @param commandTimeout how long a command may wait for its answer; null for none (a subscription
     *                       must not time out while it waits in the reconnect buffer)
     * @param whileDown      what the connection does with commands while it is disconnected
     */
    public static RedisClient client(ClientResources resources, String url, String name, Duration commandTimeout,
                              ClientOptions.DisconnectedBehavior whileDown) {
        RedisURI uri = RedisURI.create(url);
        uri.setClientName(name);
        RedisClient client = RedisClient.create(resources, uri);
        client.setOptions(options(commandTimeout, whileDown));
        return client;
    }

    private static ClientOptions options(Duration commandTimeout, ClientOptions.DisconnectedBehavior whileDown) {
        return ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(whileDown)
                .requestQueueSize(65_536) // the default is unbounded: a hung Redis would eat the heap
                .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).keepAlive(true).build())
                .timeoutOptions(commandTimeout == null ? TimeoutOptions.builder().timeoutCommands(false).build() : TimeoutOptions.enabled(commandTimeout))
                .build();
    }

    /** The URL without credentials, for logs. */
    public static String masked(String url) {
        return url.replaceAll("//[^@/]*@", "//****@");
    }
}
