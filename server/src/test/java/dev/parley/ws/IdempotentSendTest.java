package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 3: a send retried with the same clientId, from the same user to the same room, gets the
 * original ack and never a second message: on the same connection, on a new one, after a restart.
 */
class IdempotentSendTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    private static void assertSameAck(JsonNode retry, JsonNode original) {
        assertThat(retry.get("seq")).isEqualTo(original.get("seq"));
        assertThat(retry.get("id")).isEqualTo(original.get("id"));
        assertThat(retry.get("ts")).isEqualTo(original.get("ts"));
        assertThat(retry.get("clientId")).isEqualTo(original.get("clientId"));
        assertThat(retry.get("room")).isEqualTo(original.get("room"));
    }

    @Test
    void a_retry_with_the_same_clientId_returns_the_original_ack_and_no_second_message() {
        String token = server.newUser("retrier");
        String room = Ws.room("retry");
        try (WsClient c = server.connect(token); WsClient watcher = server.connect(server.newUser("watcher"))) {
            Ws.join(c, room);
            Ws.join(watcher, room);

            JsonNode first = Ws.send(c, room, "hello", "same-id");
            JsonNode retry = Ws.send(c, room, "hello", "same-id");
            JsonNode retryOtherText = Ws.send(c, room, "a different text", "same-id");
            Ws.send(c, room, "next", "next-id");

            assertSameAck(retry, first);
            assertSameAck(retryOtherText, first);
            watcher.awaitMessages(room, 2, Ws.T);
            c.awaitMessages(room, 2, Ws.T);
            Ws.alive(watcher);
            Ws.alive(c);
            assertThat(watcher.messages(room)).extracting(m -> m.get("text").asText()).containsExactly("hello", "next");
            assertThat(c.messages(room)).extracting(m -> m.get("text").asText()).containsExactly("hello", "next");
            assertThat(Ws.history(server, token, room)).extracting(m -> m.get("clientId").asText()).containsExactly("same-id", "next-id");
        }
    }

    @Test
    void two_sends_with_the_same_clientId_at_once_store_one_message_and_get_the_same_ack() {
        String token = server.newUser("double");
        String room = Ws.room("double");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);

            c.send("type", "send", "room", room, "text", "x", "clientId", "twin", "ref", "a");
            c.send("type", "send", "room", room, "text", "x", "clientId", "twin", "ref", "b");
            JsonNode a = c.await(Ws.is("ack", "a"), Ws.T, "ack a");
            JsonNode b = c.await(Ws.is("ack", "b"), Ws.T, "ack b");

            assertSameAck(b, a);
            Ws.alive(c);
            assertThat(c.messages(room)).hasSize(1);
            assertThat(Ws.history(server, token, room)).hasSize(1);
        }
    }

    @Test
    void a_retry_on_a_new_connection_returns_the_original_ack() {
        String token = server.newUser("reconnecting");
        String room = Ws.room("reconnect");
        JsonNode first;
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);
            first = Ws.send(c, room, "before the drop", "lost-ack");
            c.abort();
        }
        try (WsClient c = server.connect(token); WsClient watcher = server.connect(server.newUser("watcher"))) {
            Ws.join(watcher, room);
            JsonNode joined = Ws.join(c, room, first.get("seq").asLong());

            JsonNode retry = Ws.send(c, room, "before the drop", "lost-ack");

            assertSameAck(retry, first);
            assertThat(joined.get("lastSeq").asLong()).isEqualTo(1);
            Ws.alive(c);
            Ws.alive(watcher);
            assertThat(c.messages(room)).isEmpty();
            assertThat(watcher.messages(room)).isEmpty();
            assertThat(Ws.history(server, token, room)).hasSize(1);
        }
    }

    @Test
    void the_same_clientId_from_another_user_or_in_another_room_is_another_message() {
        String alice = server.newUser("alice"), bob = server.newUser("bob");
        String room = Ws.room("shared-id"), other = Ws.room("other-room");
        try (WsClient a = server.connect(alice); WsClient b = server.connect(bob)) {
            Ws.join(a, room);
            Ws.join(a, other);
            Ws.join(b, room);

            JsonNode fromAlice = Ws.send(a, room, "alice", "common");
            JsonNode fromBob = Ws.send(b, room, "bob", "common");
            JsonNode elsewhere = Ws.send(a, other, "alice elsewhere", "common");

            assertThat(fromBob.get("seq").asLong()).isEqualTo(fromAlice.get("seq").asLong() + 1);
            assertThat(fromBob.get("id")).isNotEqualTo(fromAlice.get("id"));
            assertThat(elsewhere.get("id")).isNotEqualTo(fromAlice.get("id"));
            assertThat(Ws.history(server, alice, room)).hasSize(2);
            assertThat(Ws.history(server, alice, other)).hasSize(1);
        }
    }

    @Test
    void a_retry_after_a_server_restart_returns_the_original_ack_and_the_message_survives() {
        String user = ParleyServer.unique("survivor");
        String token = server.http().register(user);
        String room = Ws.room("restart");
        JsonNode first;
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);
            first = Ws.send(c, room, "acked before the restart", "durable-id");
            Ws.send(c, room, "second", "second-id");

            server.restart();

            assertThat(c.awaitClose(Ws.T)).as("a draining node closes with 1001").isEqualTo(1001);
        }
        try (WsClient c = server.connect(token)) {
            JsonNode joined = Ws.join(c, room, 0);
            c.awaitMessages(room, 2, Ws.T);

            JsonNode retry = Ws.send(c, room, "acked before the restart", "durable-id");

            assertSameAck(retry, first);
            assertThat(joined.get("lastSeq").asLong()).isEqualTo(2);
            Ws.alive(c);
            assertThat(c.messages(room)).extracting(m -> m.get("clientId").asText()).containsExactly("durable-id", "second-id");
            List<JsonNode> history = Ws.history(server, token, room);
            assertThat(history).hasSize(2);
            assertThat(history.get(0).get("id")).isEqualTo(first.get("id"));
        }
    }
}
