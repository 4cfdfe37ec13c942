package dev.parley.work;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A way out of the event loop for one kind of costly work (password hashing) that must not take
 * the shared worker pool of {@link Blocking} with it: a few threads of its own and a bounded queue.
 * When the queue is full the work is refused at once ({@link Full}, with how long to wait), so a
 * flood costs those threads and nothing more: joins and history reads on the shared pool go on.
 */
public final class BoundedPool {
    /** The pool's queue is full: try again in {@link #retryAfterSeconds}. */
    public static final class Full extends RuntimeException {
        public final long retryAfterSeconds;

        Full(long retryAfterSeconds) {
            super("busy", null, false, false);
            this.retryAfterSeconds = retryAfterSeconds;
        }
    }

    private final ThreadPoolExecutor executor;
    private final int threads;
    private final int queue;
    /** An average of how long one task takes, in nanoseconds (an exponential moving average). */
    private final AtomicLong averageNanos = new AtomicLong(100_000_000);

    public BoundedPool(String name, int threads, int queue) {
        if (threads < 1 || queue < 1) throw new IllegalArgumentException("threads and queue must be at least 1");
        this.threads = threads;
        this.queue = queue;
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queue),
                Thread.ofPlatform().name(name + "-", 0).daemon(true).factory(), new ThreadPoolExecutor.AbortPolicy());
    }

    /**
     * Runs {@code work} on one of the pool's threads; the future completes on the caller's context,
     * or fails at once with {@link Full}.
     */
    public <T> Future<T> run(Vertx vertx, Callable<T> work) {
        Context ctx = vertx.getOrCreateContext();
        Promise<T> done = Promise.promise();
        try {
            executor.execute(() -> {
                long start = System.nanoTime();
                try {
                    T result = work.call();
                    ctx.runOnContext(x -> done.complete(result));
                } catch (Throwable t) {
                    ctx.runOnContext(x -> done.fail(t));
                } finally {
                    long took = System.nanoTime() - start;
                    averageNanos.getAndUpdate(a -> a + (took - a) / 8);
                }
            });
        } catch (RejectedExecutionException e) {
            return Future.failedFuture(new Full(retryAfterSeconds()));
        }
        return done.future();
    }

    /** How long a full queue takes to go down, by the average task, in whole seconds from 1 to 60. */
    long retryAfterSeconds() {
        long nanos = averageNanos.get() * queue / threads;
        return Math.clamp((nanos + 999_999_999) / 1_000_000_000, 1, 60);
    }

    /** Runs what is queued and stops the threads. */
    public void close() {
        executor.shutdown();
    }
}
