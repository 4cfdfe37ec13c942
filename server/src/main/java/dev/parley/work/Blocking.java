package dev.parley.work;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.concurrent.Callable;

/**
 * The one way out of the event loop for blocking work (JDBC, password hashing, fetching an
 * identity provider's keys): Vert.x's worker pool, unordered so that slow calls do not queue behind
 * each other. The future completes on the caller's context. Failures come back as they are thrown:
 * the use cases ({@code chat.ChatService}) turn store failures into the error codes of the protocol,
 * in one place.
 */
public final class Blocking {
    private Blocking() {}

    public static <T> Future<T> run(Vertx vertx, Callable<T> work) {
        return vertx.executeBlocking(work, false);
    }
}
