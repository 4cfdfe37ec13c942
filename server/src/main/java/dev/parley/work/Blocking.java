package dev.parley.work;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;

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

    /**
     * The same for work asked for by a client that may go away while the work waits for a worker (a
     * history read of a connection that closed): if it is no longer {@code wanted} when a worker
     * takes it, it is not run, and the Future fails with {@link Abandoned}. A flood of reads from a
     * client that then disconnects costs the queue, not the database.
     */
    public static <T> Future<T> run(Vertx vertx, BooleanSupplier wanted, Callable<T> work) {
        return vertx.executeBlocking(() -> {
            if (!wanted.getAsBoolean()) throw new Abandoned();
            return work.call();
        }, false);
    }

    /** Work not run: whoever asked for it was gone when its turn came. */
    public static final class Abandoned extends RuntimeException {
        public Abandoned() {
            super("not run: its client went away", null, false, false);
        }
    }
}
