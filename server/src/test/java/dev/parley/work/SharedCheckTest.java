package dev.parley.work;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The readiness check's way off the event loops: its own thread, one run at a time, each answer on its asker's context. */
class SharedCheckTest {
    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    private final ExecutorService pool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(1));
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void stop() throws Exception {
        release.countDown();
        pool.shutdownNow();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static Throwable failureOf(Future<?> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().handle((v, err) -> err).get(10, TimeUnit.SECONDS);
    }

    @Test
    void the_answer_comes_back_on_the_context_that_asked() throws Exception {
        SharedCheck<String> check = new SharedCheck<>(pool, Duration.ofSeconds(10), () -> "up");
        Context loop = vertx.getOrCreateContext(); // an event loop of another Vert.x than the pool's caller would have
        CompletableFuture<String> answered = new CompletableFuture<>();
        loop.runOnContext(x -> check.get().onComplete(ar -> answered.complete(ar.result() + " on the asking loop: " + (Vertx.currentContext() == loop))));

        assertThat(answered.get(10, TimeUnit.SECONDS)).isEqualTo("up on the asking loop: true");
    }

    @Test
    void askers_while_a_run_is_under_way_share_it_and_the_next_ask_runs_again() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(1);
        SharedCheck<Integer> check = new SharedCheck<>(pool, Duration.ofSeconds(10), () -> {
            int n = runs.incrementAndGet();
            started.countDown();
            release.await(10, TimeUnit.SECONDS);
            return n;
        });

        Future<Integer> first = check.get();
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        java.util.List<Future<Integer>> burst = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) burst.add(check.get()); // more than the pool's queue holds: none is refused
        release.countDown();

        assertThat(await(first)).isEqualTo(1);
        for (Future<Integer> f : burst) assertThat(await(f)).isEqualTo(1);
        assertThat(await(check.get())).isEqualTo(2);
    }

    @Test
    void a_run_that_hangs_times_out_and_a_full_queue_behind_it_refuses_at_once() throws Exception {
        SharedCheck<Boolean> check = new SharedCheck<>(pool, Duration.ofMillis(200), () -> release.await(10, TimeUnit.SECONDS));

        assertThat(failureOf(check.get())).isInstanceOf(TimeoutException.class); // runs, hangs
        assertThat(failureOf(check.get())).isInstanceOf(TimeoutException.class); // queued behind it
        Future<Boolean> refused = check.get(); // the queue (of one) is full
        assertThat(refused.failed()).isTrue();
        assertThat(refused.cause()).isInstanceOf(RejectedExecutionException.class);
    }
}
