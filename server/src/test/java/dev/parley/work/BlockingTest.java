package dev.parley.work;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** Work queued for a client that went away meanwhile is not run (PROTOCOL.md section 12, in flight); the readiness check's own pool. */
class BlockingTest {
    @Test
    void work_no_longer_wanted_when_a_worker_takes_it_is_not_run() throws Exception {
        Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(1));
        try {
            CountDownLatch busy = new CountDownLatch(1);
            Future<Object> first = Blocking.run(vertx, () -> busy.await(10, TimeUnit.SECONDS)); // the only worker, held
            AtomicBoolean wanted = new AtomicBoolean(true);
            AtomicBoolean ran = new AtomicBoolean();
            Future<String> queued = Blocking.run(vertx, wanted::get, () -> {
                ran.set(true);
                return "read";
            });

            wanted.set(false); // the client goes away while its read waits for the worker
            busy.countDown();

            Throwable failure = queued.toCompletionStage().toCompletableFuture().handle((v, err) -> err).get(10, TimeUnit.SECONDS);
            assertThat(failure).isInstanceOf(Blocking.Abandoned.class);
            assertThat(ran).isFalse();
            assertThat(first.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo(true);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void work_still_wanted_runs() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            assertThat(Blocking.run(vertx, () -> true, () -> "read").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo("read");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * The readiness check's pool: its answer comes back on the context that asked, here an event
     * loop of a second Vert.x (the admin listener's), and a check that hangs fails after its timeout
     * instead of holding the answer.
     */
    @Test
    void work_on_a_pool_of_its_own_completes_on_the_callers_context_or_times_out() throws Exception {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        CountDownLatch hung = new CountDownLatch(1);
        try {
            CompletableFuture<String> answeredOn = new CompletableFuture<>();
            CompletableFuture<Throwable> timedOut = new CompletableFuture<>();
            Context loop = vertx.getOrCreateContext();
            loop.runOnContext(x -> {
                Blocking.run(pool, Duration.ofSeconds(10), () -> "up")
                        .onComplete(ar -> answeredOn.complete(ar.result() + " on " + (Vertx.currentContext() == loop)));
                Blocking.run(pool, Duration.ofMillis(200), () -> hung.await(10, TimeUnit.SECONDS))
                        .onComplete(ar -> timedOut.complete(ar.cause()));
            });

            assertThat(answeredOn.get(10, TimeUnit.SECONDS)).isEqualTo("up on true");
            assertThat(timedOut.get(10, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
            pool.shutdown();
            assertThat(Blocking.run(pool, Duration.ofSeconds(1), () -> "late").failed()).isTrue(); // refused at once
        } finally {
            hung.countDown();
            pool.shutdownNow();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
