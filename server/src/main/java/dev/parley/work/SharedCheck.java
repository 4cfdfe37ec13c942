package dev.parley.work;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A check run off the event loops on a pool of its own, once at a time, its answer shared by all
 * who ask while it runs: the readiness check's database probe. It must not wait behind the shared
 * workers' queue, which a reconnect storm fills with thousands of joins' reads; and the public
 * {@code /health/ready}, which takes no token, must not let a burst of requests queue a probe each.
 * Each asker's future completes on its own context, whichever Vert.x instance it belongs to (the
 * admin listener has one of its own), or fails with a {@link java.util.concurrent.TimeoutException}
 * after the timeout, or at once when the pool refuses the work (its queue full behind a hung probe).
 */
public final class SharedCheck<T> {
    /** Runs queued behind a hung one, at most: past it, a check is refused at once. */
    private static final int QUEUE = 8;

    private final ExecutorService pool;
    private final Duration timeout;
    private final Callable<T> work;
    private final AtomicReference<CompletableFuture<T>> current = new AtomicReference<>();

    /** A check on a thread of its own, named {@code threadName}; {@link #close} stops it. */
    public SharedCheck(String threadName, Duration timeout, Callable<T> work) {
        this(new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE),
                Thread.ofPlatform().name(threadName).daemon(true).factory()), timeout, work);
    }

    SharedCheck(ExecutorService pool, Duration timeout, Callable<T> work) {
        this.pool = pool;
        this.timeout = timeout;
        this.work = work;
    }

    /** Stops the thread: a check under way is interrupted, and later ones are refused. */
    public void close() {
        pool.shutdownNow();
    }

    /** The answer of the run under way, or of a new one if none is. */
    public Future<T> get() {
        CompletableFuture<T> run = current.get();
        if (run == null || run.isDone()) {
            CompletableFuture<T> mine = new CompletableFuture<>();
            if (current.compareAndSet(run, mine)) {
                start(mine); // may be refused, and done at once: this asker is answered so, the next one tries again
                run = mine;
            } else {
                run = current.get(); // another asker started one just now
            }
        }
        Context caller = Vertx.currentContext();
        return caller == null ? Future.fromCompletionStage(run) : Future.fromCompletionStage(run, caller);
    }

    private void start(CompletableFuture<T> done) {
        try {
            pool.execute(() -> {
                if (done.isDone()) return; // timed out while queued behind a hung run: its askers have their answer
                try {
                    done.complete(work.call());
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(e);
            return;
        }
        done.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
