package dev.parley.chat;

import dev.parley.store.StoreException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.concurrent.Callable;

/**
 * The one way out of the event loop for blocking work (JDBC, password hashing): Vert.x's worker
 * pool, unordered so that slow calls do not queue behind each other. The future completes on the
 * caller's context. A failing database becomes {@code unavailable}.
 */
public final class Blocking {
    private Blocking() {}

    public static <T> Future<T> run(Vertx vertx, Callable<T> work) {
        return vertx.<T>executeBlocking(work, false).recover(Blocking::translate);
    }

    static <T> Future<T> translate(Throwable t) {
        if (t instanceof StoreException) return Future.failedFuture(ChatException.unavailable("storage is unavailable, try again"));
        return Future.failedFuture(t);
    }
}
