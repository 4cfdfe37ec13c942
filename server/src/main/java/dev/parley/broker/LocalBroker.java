package dev.parley.broker;

import dev.parley.event.RoomEvent;
import io.vertx.core.Future;

import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The broker of a single node: every event goes straight to this node's handler, on the caller's
 * thread. Choose it when one process serves everyone (the default); a cluster needs {@code RedisBroker}.
 */
public final class LocalBroker implements Broker {
    private volatile Consumer<RoomEvent> handler = event -> {};

    @Override
    public void start(Consumer<RoomEvent> handler) {
        this.handler = requireNonNull(handler, "handler");
    }

    @Override
    public void publish(RoomEvent event) {
        handler.accept(event);
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
