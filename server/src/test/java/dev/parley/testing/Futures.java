package dev.parley.testing;

import io.vertx.core.Future;

import java.util.concurrent.TimeUnit;

/** Waits for a Vert.x future from a test thread, with a deadline. */
public final class Futures {
    private Futures() {}

    public static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the future did not complete: " + e, e);
        }
    }
}
