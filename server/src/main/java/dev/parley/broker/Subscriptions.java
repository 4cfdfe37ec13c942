package dev.parley.broker;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The subscribing half of {@link RedisBroker}: which rooms' channels this node listens to. Two kinds:
 * {@link ChannelSubscriptions} ({@code SUBSCRIBE} on one connection: one Redis server, or the master
 * Sentinel names) and {@link ShardedSubscriptions} ({@code SSUBSCRIBE} at the primary of each
 * channel's slot: a Redis Cluster). Both keep their rooms subscribed across reconnects by themselves.
 */
interface Subscriptions {
    /** Sets where the messages go (called on a Lettuce thread); once, before the first subscribe. */
    void start(Consumer<byte[]> messages);

    /** On the broker's publishing thread, in the order the rooms were subscribed and unsubscribed. */
    void subscribe(String room);

    /** On the broker's publishing thread. */
    void unsubscribe(String room);

    /** False while messages of a subscribed room may be missed. */
    boolean up();

    /** Closes the connections and shuts the client down; never fails. */
    CompletableFuture<Void> close();
}
