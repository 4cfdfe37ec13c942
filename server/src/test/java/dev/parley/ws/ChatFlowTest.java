package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ChatFlowTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @Test
    void two_users_in_a_room_see_each_others_messages_presence_and_typing() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String room = "flow-" + System.nanoTime() % 100000;
        try (WsClient a = server.connect(ta); WsClient b = server.connect(tb)) {
            a.send("type", "join", "room", room, "ref", "j1");
            JsonNode ja = a.await("joined", "j1");
            assertThat(ja.get("lastSeq").asLong()).isZero();
            assertThat(ja.get("members").toString()).contains(alice);
            assertThat(ja.get("recovered").asBoolean()).isTrue();

            b.send("type", "join", "room", room, "ref", "j2");
            JsonNode jb = b.await("joined", "j2");
            assertThat(jb.get("online").asInt()).isEqualTo(2);
            JsonNode online = a.await(f -> "presence".equals(f.path("type").asText()) && bob.equals(f.path("user").asText()), Duration.ofSeconds(5), "bob online");
            assertThat(online.get("status").asText()).isEqualTo("online");

            a.send("type", "send", "room", room, "text", "  hello bob  ", "clientId", "c1", "ref", "s1");
            JsonNode ack = a.await("ack", "s1");
            assertThat(ack.get("seq").asLong()).isEqualTo(1);
            assertThat(ack.get("clientId").asText()).isEqualTo("c1");
            JsonNode mb = b.awaitMessages(room, 1, Duration.ofSeconds(5)).get(0);
            assertThat(mb.get("text").asText()).isEqualTo("hello bob");
            assertThat(mb.get("from").asText()).isEqualTo(alice);
            assertThat(mb.get("id").asText()).isEqualTo(ack.get("id").asText());
            assertThat(mb.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
            assertThat(a.awaitMessages(room, 1, Duration.ofSeconds(5))).hasSize(1);

            b.send("type", "typing", "room", room);
            JsonNode typing = a.await("typing");
            assertThat(typing.get("user").asText()).isEqualTo(bob);

            b.send("type", "leave", "room", room, "ref", "l1");
            b.await("left", "l1");
            JsonNode offline = a.await(f -> "offline".equals(f.path("status").asText()), Duration.ofSeconds(5), "bob offline");
            assertThat(offline.get("user").asText()).isEqualTo(bob);

            a.send("type", "ping", "ref", "p");
            a.await("pong", "p");
        }
    }
}
