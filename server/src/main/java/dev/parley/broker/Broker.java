package dev.parley.broker;

import dev.parley.event.RoomEvent;
import io.vertx.core.Future;

import java.util.function.Consumer;

/**
 * Moves events between the nodes of a cluster. {@link #publish} sends the event to the other nodes
 * at most once: an event may be lost on the way (Redis down, a network blip). It does not hand it to
 * this node: the node delivers its own events itself ({@code delivery.Delivery}), so local delivery
 * never depends on the broker. Nothing depends on the broker for correctness: the delivery repairs
 * lost or late messages from the store, and typing and presence are ephemeral by nature.
 */
public interface Broker {
    /** Sets where other nodes' events of subscribed rooms go. Called once, before any publish. */
    void start(Consumer<RoomEvent> handler);

    void publish(RoomEvent event);

    /** Start receiving other nodes' events for the room; called when the room gets its first local member. */
    void subscribe(String room);

    /** Called when the room's last local member leaves. */
    void unsubscribe(String room);

    /** False while events from other nodes may be missed; the delivery then polls the store instead. */
    boolean healthy();

    /** True if there can be other nodes at all. */
    boolean distributed();

    Future<Void> close();
}
