package dev.parley.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One node delivers for a webhook (webhook.WebhookDispatcher): the lease in {@link WebhookStore},
 * taken by the first node to claim, kept while renewed, taken over once it expires, and a node that
 * lost it changes nothing more. Times are given, not waited for. On H2 ({@link WebhookLeaseTest}) and
 * PostgreSQL ({@link WebhookLeaseOnPostgresTest}), where the nodes of a cluster share it.
 */
abstract class WebhookLeaseContract {
    /** Who may add one is chat's to decide (chat.Webhooks); here anyone may. */
    private static final BiConsumer<String, String> ANYONE = (kind, role) -> {};

    private Database db;
    private WebhookStore hooks;
    private MessageStore messages;

    protected abstract Database newDatabase();

    @BeforeEach
    void open() {
        db = newDatabase();
        hooks = new WebhookStore(db);
        messages = new MessageStore(db, 64, m -> {}, (n, nanos) -> {});
        messages.start();
    }

    @AfterEach
    void close() {
        messages.close();
        db.close();
    }

    @Test
    void the_first_node_to_claim_delivers_until_its_lease_expires_and_then_the_other_takes_over() throws Exception {
        messages.ensureRoom("r");
        assertThat(hooks.add("wh_1", "r", "http://x/", "message", "whsec_k", "alice", 0, 10, ANYONE).webhook()).isNotNull();
        messages.append("r", "alice", "c1", "hello").get();

        hooks.claim("a", 1_000, 31_000, 21_000);
        hooks.claim("b", 1_001, 31_001, 21_001); // a holds it: b gets nothing
        assertThat(hooks.due("a", 1_002)).extracting(WebhookStore.Webhook::id).containsExactly("wh_1");
        assertThat(hooks.due("b", 1_002)).isEmpty();
        assertThat(hooks.leased("b", "wh_1", 1_002)).isEmpty();

        hooks.claim("a", 25_000, 55_000, 45_000); // renewed by a
        hooks.claim("b", 40_000, 70_000, 60_000);
        assertThat(hooks.due("b", 40_000)).isEmpty();

        // a stops renewing (a crash): once its lease is past, b's next claim takes it.
        hooks.claim("b", 56_000, 86_000, 76_000);
        assertThat(hooks.due("b", 56_001)).extracting(WebhookStore.Webhook::id).containsExactly("wh_1");
        assertThat(hooks.due("a", 56_001)).isEmpty();
        // a, back from its pause, can no longer write an outcome: it learns it lost the lease.
        assertThat(hooks.advanced("a", "wh_1", 1, 56_002L)).isFalse();
        assertThat(hooks.failed("a", "wh_1", 1, "HTTP 500", 56_002, 57_000, false)).isFalse();
        assertThat(hooks.advanced("b", "wh_1", 1, 56_003L)).isTrue();
        assertThat(hooks.due("b", 56_004)).isEmpty(); // caught up

        // b stops and gives its leases up: a takes them at once.
        hooks.release("b");
        hooks.claim("a", 56_005, 86_005, 76_005);
        assertThat(hooks.leased("a", "wh_1", 56_006)).isPresent();
    }

    @Test
    void a_disabled_webhook_is_claimed_by_nobody_until_it_is_enabled() throws Exception {
        messages.ensureRoom("r");
        hooks.add("wh_2", "r", "http://x/", "message", "whsec_k", "alice", 0, 10, ANYONE);
        messages.append("r", "alice", "c1", "hello").get();
        hooks.claim("a", 1_000, 31_000, 21_000);
        assertThat(hooks.failed("a", "wh_2", 3, "HTTP 500", 1_001, 0, true)).isTrue();
        hooks.release("a");
        hooks.claim("a", 2_000, 32_000, 22_000);
        assertThat(hooks.due("a", 2_001)).isEmpty();
        assertThat(hooks.find("r", "wh_2").orElseThrow().status()).isEqualTo(WebhookStore.DISABLED);
        assertThat(hooks.enable("r", "wh_2")).isTrue();
        hooks.claim("a", 3_000, 33_000, 23_000);
        assertThat(hooks.due("a", 3_001)).extracting(WebhookStore.Webhook::id).containsExactly("wh_2");
    }

    @Test
    void a_room_holds_at_most_its_number_of_webhooks() {
        messages.ensureRoom("r");
        assertThat(hooks.add("wh_a", "r", "http://x/", "message", "s", "alice", 0, 2, ANYONE).refusal()).isNull();
        assertThat(hooks.add("wh_b", "r", "http://x/", "message", "s", "alice", 0, 2, ANYONE).refusal()).isNull();
        assertThat(hooks.add("wh_c", "r", "http://x/", "message", "s", "alice", 0, 2, ANYONE).refusal()).isEqualTo(WebhookStore.Refusal.TOO_MANY);
        assertThat(hooks.add("wh_d", "nowhere", "http://x/", "message", "s", "alice", 0, 2, ANYONE).refusal()).isEqualTo(WebhookStore.Refusal.NO_ROOM);
    }
}
