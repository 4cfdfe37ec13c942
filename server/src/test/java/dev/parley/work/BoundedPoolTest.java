package dev.parley.work;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The password pool: a few threads, a bounded queue, and a refusal at once when it is full. */
class BoundedPoolTest {
    private final Vertx vertx = Vertx.vertx();
    private final BoundedPool pool = new BoundedPool("test-pool", 1, 2);

    @AfterEach
    void close() throws Exception {
        pool.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void past_its_threads_and_its_queue_work_is_refused_at_once_with_how_long_to_wait() throws Exception {
        CountDownLatch running = new CountDownLatch(1), release = new CountDownLatch(1);
        Future<String> first = pool.run(vertx, () -> {
            running.countDown();
            release.await();
            return "first";
        });
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        Future<String> second = pool.run(vertx, () -> "second");
        Future<String> third = pool.run(vertx, () -> "third");

        Future<String> fourth = pool.run(vertx, () -> "fourth");

        assertThat(fourth.failed()).as("refused without waiting").isTrue();
        assertThat(fourth.cause()).isInstanceOfSatisfying(BoundedPool.Full.class,
                full -> assertThat(full.retryAfterSeconds).isBetween(1L, 60L));
        release.countDown();
        assertThat(first.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo("first");
        assertThat(second.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo("second");
        assertThat(third.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo("third");
        assertThat(pool.run(vertx, () -> "again").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
                .as("room again once the queue went down").isEqualTo("again");
    }

    @Test
    void a_failure_of_the_work_fails_the_future_as_it_was_thrown() throws Exception {
        Future<String> f = pool.run(vertx, () -> {
            throw new IllegalStateException("boom");
        });
        assertThat(f.toCompletionStage().toCompletableFuture().handle((v, err) -> err).get(10, TimeUnit.SECONDS))
                .isInstanceOf(IllegalStateException.class).hasMessage("boom");
    }
}
