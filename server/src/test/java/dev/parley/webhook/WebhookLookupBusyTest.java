package dev.parley.webhook;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.store.Database;
import dev.parley.store.MessageStore;
import dev.parley.store.WebhookStore;
import dev.parley.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A delivery whose host cannot be looked up because every lookup thread is busy (another webhook's
 * name server hangs) is not the receiver's failure: it waits for the next round, without a failure
 * counted, so a hanging name server of one room cannot have another room's webhooks disabled.
 */
class WebhookLookupBusyTest {
    @TempDir
    Path tmp;

    @Test
    void a_delivery_refused_as_busy_is_tried_again_and_not_counted_as_a_failure() throws Exception {
        CountDownLatch held = new CountDownLatch(1), release = new CountDownLatch(1);
        UrlGuard guard = new UrlGuard(false, "test", host -> {
            if (host.equals("hangs.example")) {
                held.countDown();
                release.await(); // a name server that does not answer, until the test lets it
            }
            return new InetAddress[]{InetAddress.getByName("127.0.0.1")}; // refused: the outcome is a failure
        }, Duration.ofSeconds(60), 1);
        List<String> outcomes = new CopyOnWriteArrayList<>();
        try (Database db = new Database(ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl(), "", "", 4);
             MessageStore messages = new MessageStore(db, 64, m -> {}, (n, nanos) -> {})) {
            messages.start();
            messages.ensureRoom("ops");
            WebhookStore hooks = new WebhookStore(db);
            hooks.add("wh_hangs", "ops", "https://hangs.example/hook", "message", "whsec_a", "alice", 0, 10, (kind, role) -> {});
            messages.append("ops", "alice", "c1", "hello").get();
            // One attempt: a failure counted would disable a webhook at once.
            try (WebhookDispatcher dispatcher = new WebhookDispatcher(hooks, messages, guard, "node-1",
                    new WebhookDispatcher.Settings(Duration.ofSeconds(5), Duration.ofMillis(50), 1), System::currentTimeMillis, outcomes::add)) {
                dispatcher.start();
                assertThat(held.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("the hanging lookup under way").isTrue();
                // Only now the other, so that the hanging one holds the only lookup thread first.
                hooks.add("wh_other", "ops", "https://other.example/hook", "message", "whsec_b", "alice", 0, 10, (kind, role) -> {});
                messages.append("ops", "alice", "c2", "hello again").get();
                Await.until("the other webhook refused a lookup as busy twice (two rounds)", Duration.ofSeconds(30),
                        () -> held.getCount() == 0 && guard.busyRefusals() >= 2);
                assertThat(outcomes).as("no outcome while the lookup hangs: busy is nobody's failure").isEmpty();
                assertThat(hooks.find("ops", "wh_other").orElseThrow().failures()).isZero();

                release.countDown();
                Await.until("both webhooks given up (their host is loopback)", Duration.ofSeconds(30), () -> outcomes.size() == 2);
                assertThat(outcomes).containsExactly("disabled", "disabled");
                assertThat(hooks.find("ops", "wh_other").orElseThrow().lastError()).contains("loopback");
            }
        }
    }
}
