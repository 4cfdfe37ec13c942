package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PostgresFaultIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(2).ownPostgres();

    private static JsonNode reply(WsClient c, String ref) {
        return c.await(f -> ref.equals(f.path("ref").asText()) && ("ack".equals(f.path("type").asText()) || "error".equals(f.path("type").asText())),
                Duration.ofSeconds(30), "ack or error for " + ref);
    }

    @Test
    void while_postgres_is_down_sends_get_unavailable_and_never_an_ack_and_succeed_again_when_it_is_back() {
        Http http = cluster.node(1).http();
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = http.register(alice), tb = http.register(bob);
        String room = "pgfault-" + System.nanoTime() % 100_000;
        try (WsClient a = cluster.node(1).connect(ta); WsClient b = cluster.node(2).connect(tb)) {
            a.send("type", "join", "room", room, "ref", "j");
            a.await("joined", "j");
            b.send("type", "join", "room", room, "ref", "j");
            b.await("joined", "j");
            a.send("type", "send", "room", room, "text", "before", "clientId", "c1", "ref", "s1");
            assertThat(reply(a, "s1").get("type").asText()).isEqualTo("ack");

            cluster.postgres().stop();
            for (int i = 2; i <= 4; i++) {
                WsClient sender = i % 2 == 0 ? a : b;
                sender.send("type", "send", "room", room, "text", "during " + i, "clientId", "c" + i, "ref", "s" + i);
                JsonNode r = reply(sender, "s" + i);
                assertThat(r.get("type").asText()).as(r.toString()).isEqualTo("error");
                assertThat(r.get("code").asText()).isEqualTo("unavailable");
            }
            Http.Response ready = cluster.node(2).admin().get("/health/ready", null); // the checks are on the admin listener
            assertThat(ready.status()).isEqualTo(503);
            assertThat(ready.json().get("checks").get("database").asText()).isEqualTo("DOWN");
            assertThat(a.isOpen() && b.isOpen()).as("connections stay open").isTrue();

            cluster.postgres().startAgain();
            for (ParleyServer node : cluster.nodes()) {
                Await.until("ready again", Duration.ofSeconds(30), () -> node.http().get("/health/ready", null).status() == 200);
            }
            // The same clientId again: it was never stored, so this stores it now.
            b.send("type", "send", "room", room, "text", "during 3", "clientId", "c3", "ref", "r3");
            a.send("type", "send", "room", room, "text", "after", "clientId", "c5", "ref", "s5");
            JsonNode r3 = reply(b, "r3"), s5 = reply(a, "s5");
            assertThat(List.of(r3.get("type").asText(), s5.get("type").asText())).containsExactly("ack", "ack");

            for (WsClient c : List.of(a, b)) {
                List<JsonNode> got = c.awaitMessages(room, 3, Duration.ofSeconds(15));
                assertThat(got.stream().map(f -> f.get("clientId").asText()).sorted().toList()).containsExactly("c1", "c3", "c5");
                assertThat(got.stream().map(f -> f.get("seq").asLong()).toList()).containsExactly(1L, 2L, 3L);
            }
            JsonNode history = cluster.node(2).http().get("/api/rooms/" + room + "/messages", tb).json();
            assertThat(history.get("messages")).hasSize(3);
            assertThat(a.frames("ack").size() + b.frames("ack").size()).as("no false ack").isEqualTo(3);
        }
    }

    private static boolean upgradeRefused(ParleyServer node, String token) {
        try (WsClient c = node.connect(token)) {
            return false;
        } catch (WsClient.Refused r) {
            return r.status == 401;
        }
    }

    @Test
    void while_postgres_is_down_a_logout_is_refused_with_503_and_the_revocations_known_still_hold() {
        Http http = cluster.node(1).http();
        String user = ParleyServer.unique("carol");
        String revoked = http.register(user), kept = http.login(user), later = http.login(user);
        assertThat(http.request("POST", "/api/auth/logout", revoked, null).status()).isEqualTo(204);
        Await.until("node 2 to refuse the revoked token", Duration.ofSeconds(5), () -> upgradeRefused(cluster.node(2), revoked));

        cluster.postgres().stop();
        try {
            // The store is the source of truth: a revocation it cannot keep is not made.
            Http.Response down = http.request("POST", "/api/auth/logout", later, null);
            assertThat(down.status()).as(down.body()).isEqualTo(503);
            assertThat(down.json().get("error").asText()).isEqualTo("unavailable");
            // What each node knows is in its memory: no token check needs the database.
            assertThat(upgradeRefused(cluster.node(2), revoked)).isTrue();
            try (WsClient c = cluster.node(2).connect(kept)) {
                c.send("type", "ping", "ref", "p");
                c.await("pong", "p");
            }
        } finally {
            cluster.postgres().startAgain();
        }
        for (ParleyServer node : cluster.nodes()) {
            Await.until("ready again", Duration.ofSeconds(30), () -> node.http().get("/health/ready", null).status() == 200);
        }
        assertThat(http.request("POST", "/api/auth/logout", later, null).status()).isEqualTo(204);
        Await.until("node 2 to refuse the token revoked after the outage", Duration.ofSeconds(5), () -> upgradeRefused(cluster.node(2), later));
        assertThat(upgradeRefused(cluster.node(2), kept)).isFalse();
    }
}
