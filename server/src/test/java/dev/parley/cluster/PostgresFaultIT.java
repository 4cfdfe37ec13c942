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
            Http.Response ready = cluster.node(2).http().get("/health/ready", null);
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
}
