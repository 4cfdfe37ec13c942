package dev.parley.broker;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * Subscriptions on one Redis server, or on the master Sentinel names: one connection, a
 * {@code SUBSCRIBE} per room. Lettuce reconnects it by itself (through Sentinel: to whichever server
 * is the master then) and subscribes every channel it had again; a subscribe asked for while Redis
 * is down waits in Lettuce's reconnect buffer.
 */
final class ChannelSubscriptions implements Subscriptions {
    private static final Logger log = LoggerFactory.getLogger(ChannelSubscriptions.class);

    private final RedisClient client;
    private final StatefulRedisPubSubConnection<byte[], byte[]> connection;
    private volatile boolean up = true;
    private volatile boolean closed;

    /**
     * Connects; fails if it cannot (and shuts the client down).
     *
     * @param client       a client of its own, without a command timeout (a subscription must not time out in the reconnect buffer)
     * @param stateChanged told (on a Lettuce thread) when the connection goes down or comes back
     */
    ChannelSubscriptions(RedisClient client, Runnable stateChanged) {
        this.client = requireNonNull(client, "client");
        requireNonNull(stateChanged, "stateChanged");
        try {
            this.connection = client.connectPubSub(ByteArrayCodec.INSTANCE);
        } catch (RuntimeException e) {
            client.shutdown();
            throw e;
        }
        connection.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> c, SocketAddress address) {
                up = true;
                stateChanged.run();
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                up = false;
                stateChanged.run();
            }
        });
    }

    @Override
    public void start(Consumer<byte[]> messages) {
        requireNonNull(messages, "messages");
        connection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(byte[] channel, byte[] message) {
                messages.accept(message);
            }
        });
    }

    @Override
    public void subscribe(String room) {
        send(room, true);
    }

    @Override
    public void unsubscribe(String room) {
        send(room, false);
    }

    private void send(String room, boolean subscribe) {
        try {
            // The subscription connection flushes each command itself.
            byte[] channel = RedisBroker.channel(room);
            var f = subscribe ? connection.async().subscribe(channel) : connection.async().unsubscribe(channel);
            f.whenComplete((v, err) -> {
                if (err != null && !closed) log.warn("Redis {} of room {} failed: {}", subscribe ? "subscribe" : "unsubscribe", room, err.toString());
            });
        } catch (RuntimeException e) {
            // A closed connection throws instead of failing the future.
            if (!closed) log.warn("Redis {} of room {} failed: {}", subscribe ? "subscribe" : "unsubscribe", room, e.toString());
        }
    }

    @Override
    public boolean up() {
        return up && !closed;
    }

    @Override
    public CompletableFuture<Void> close() {
        closed = true;
        return connection.closeAsync()
                .handle((x, err) -> null)
                .thenCompose(x -> client.shutdownAsync(0, 2, TimeUnit.SECONDS))
                .handle((x, err) -> null);
    }
}
