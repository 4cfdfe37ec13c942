package dev.parley.chat;

import dev.parley.testing.RoomChanges;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.store.Database;
import dev.parley.store.RoomStore;
import dev.parley.store.WebhookStore;
import dev.parley.webhook.UrlGuard;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A webhook's registration while its host's name server does not answer: the owner gets a 400 after
 * the lookup's wait, and while every lookup thread is held, a 503 with Retry-After at once, instead
 * of a worker held for as long as the system's resolver takes (found by review).
 */
class WebhookLookupTest {
    private Vertx vertx;
    private Database db;
    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch started = new CountDownLatch(1);

    @BeforeEach
    void open() {
        vertx = Vertx.vertx();
        db = new Database("jdbc:h2:mem:webhook-lookup;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1", "", "", 2);
        RoomChanges.make(new RoomStore(db), "ops", "alice", "private");
    }

    @AfterEach
    void close() {
        release.countDown();
        db.close();
        vertx.close();
    }

    private Webhooks webhooks(Duration wait) {
        UrlGuard guard = new UrlGuard(false, "test", host -> {
            started.countDown();
            release.await(); // a name server that does not answer
            return new InetAddress[]{InetAddress.getByName("93.184.215.14")};
        }, wait, 1);
        return new Webhooks(new Limits(ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, "unused"))), new RoomStore(db), new WebhookStore(db),
                guard, user -> false, work -> vertx.executeBlocking(work, false));
    }

    private static ChatException refusal(io.vertx.core.Future<?> f) {
        try {
            f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return (ChatException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("not refused");
    }

    @Test
    void a_host_that_does_not_resolve_in_time_is_a_bad_request() {
        ChatException e = refusal(webhooks(Duration.ofMillis(200)).create("alice", "ops", "https://slow.example/hook", null));
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
        assertThat(e.getMessage()).isEqualTo("url: the host slow.example did not resolve within 200 ms");
    }

    @Test
    void while_every_lookup_is_held_a_registration_is_told_to_come_back() throws Exception {
        Webhooks hooks = webhooks(Duration.ofSeconds(30));
        io.vertx.core.Future<Webhooks.Created> first = hooks.create("alice", "ops", "https://held.example/hook", null);
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        ChatException e = refusal(hooks.create("alice", "ops", "https://other.example/hook", null));
        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(e.retryAfterSeconds()).isEqualTo(1);
        release.countDown();
        assertThat(first.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).webhook().url()).isEqualTo("https://held.example/hook");
    }
}
