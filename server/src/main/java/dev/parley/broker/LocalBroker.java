package dev.parley.broker;

import dev.parley.event.RoomEvent;
import io.vertx.core.Future;

import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The broker of a single node: there is no other node to tell, so publishing sends nothing and no
 * event ever arrives. Choose it when one process serves everyone (the default); a cluster needs
 * {@code RedisBroker}.
 */
public final class LocalBroker implements Broker {
    @Override
    public void start(Consumer<RoomEvent> handler) {
        requireNonNull(handler, "handler");
    }

    @Override
    public void publish(RoomEvent event) {
        requireNonNull(event, "event");
    }

    @Override
    public void subscribe(String room) {}

    @Override
    public void unsubscribe(String room) {}

    @Override
    public boolean healthy() {
        return true;
    }

    @Override
    public boolean distributed() {
        return false;
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
