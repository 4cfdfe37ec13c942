package dev.parley.work;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** Work queued for a client that went away meanwhile is not run (PROTOCOL.md section 12, in flight). */
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
}
