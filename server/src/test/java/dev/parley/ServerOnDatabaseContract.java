package dev.parley;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a user sees of storage, the same whichever database the server runs on: accounts, sending,
 * history, resume, idempotent retries, and all of it after a restart. Each subclass runs one server.
 */
abstract class ServerOnDatabaseContract {
    private static final AtomicInteger ROOMS = new AtomicInteger();
    private static final Duration WAIT = Duration.ofSeconds(15);

    protected abstract ParleyServer server();

    private static String newRoom() {
        return "room-" + ROOMS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    @Test
    void a_user_registers_once_in_any_case_and_logs_in_with_any_case() {
        String name = ParleyServer.unique("Alice");
        Http http = server().http();
        http.register(name);
        String password = "password-" + name;
        assertThat(http.post("/api/auth/register", body(name.toUpperCase(), password)).status()).isEqualTo(409);
        assertThat(http.post("/api/auth/register", body(name.toLowerCase(), "another-password")).status()).isEqualTo(409);

        Http.Response login = http.post("/api/auth/login", body(name.toLowerCase(), password));
        assertThat(login.status()).isEqualTo(200);
        assertThat(login.json().get("username").asText()).isEqualTo(name);
        assertThat(http.post("/api/auth/login", body(name, "wrong-password")).status()).isEqualTo(401);
        assertThat(http.post("/api/auth/login", body(ParleyServer.unique("nobody"), password)).status()).isEqualTo(401);
    }

    @Test
    void members_of_a_room_receive_each_message_once_in_seq_order_and_the_sender_gets_acks() {
        String room = newRoom();
        try (WsClient a = server().connect(server().newUser("alice")); WsClient b = server().connect(server().newUser("bob"))) {
            join(a, room, null);
            join(b, room, null);
            for (int i = 1; i <= 20; i++) {
                WsClient from = i % 2 == 0 ? a : b;
                from.send("type", "send", "room", room, "text", "message " + i, "clientId", "c" + i, "ref", "s" + i);
                assertThat(from.await("ack", "s" + i).get("seq").asLong()).isEqualTo(i);
            }
            for (WsClient c : List.of(a, b)) {
                List<JsonNode> got = c.awaitMessages(room, 20, WAIT);
                assertThat(got).extracting(m -> m.get("seq").asLong()).containsExactlyElementsOf(oneTo(20));
                assertThat(got).extracting(m -> m.get("text").asText()).containsExactlyElementsOf(
                        LongStream.rangeClosed(1, 20).mapToObj(i -> "message " + i).toList());
            }
        }
    }

    @Test
    void history_pages_over_http_and_websocket_are_ascending_with_exact_has_more() {
        String room = newRoom();
        String token = server().newUser("alice");
        try (WsClient a = server().connect(token)) {
            join(a, room, null);
            sendAll(a, room, 7, "h");

            Http http = server().http();
            JsonNode newest = http.get("/api/rooms/" + room + "/messages?limit=3", token).json();
            assertThat(seqs(newest.get("messages"))).containsExactly(5L, 6L, 7L);
            assertThat(newest.get("hasMore").asBoolean()).isTrue();
            JsonNode before = http.get("/api/rooms/" + room + "/messages?before=4&limit=3", token).json();
            assertThat(seqs(before.get("messages"))).containsExactly(1L, 2L, 3L);
            assertThat(before.get("hasMore").asBoolean()).isFalse();
            JsonNode after = http.get("/api/rooms/" + room + "/messages?after=4&limit=3", token).json();
            assertThat(seqs(after.get("messages"))).containsExactly(5L, 6L, 7L);
            assertThat(after.get("hasMore").asBoolean()).isFalse();
            JsonNode first = after.get("messages").get(0);
            assertThat(first.get("text").asText()).isEqualTo("h 5");
            assertThat(first.get("clientId").asText()).isEqualTo("h5");
            assertThat(first.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
            assertThat(http.get("/api/rooms/" + newRoom() + "/messages", token).status()).isEqualTo(404);

            a.send("type", "history", "room", room, "before", 6, "limit", 4, "ref", "h1");
            JsonNode page = a.await("history", "h1");
            assertThat(seqs(page.get("messages"))).containsExactly(2L, 3L, 4L, 5L);
            assertThat(page.get("hasMore").asBoolean()).isTrue();

            JsonNode rooms = http.get("/api/rooms", token).json();
            JsonNode mine = null;
            for (JsonNode r : rooms) if (r.get("name").asText().equals(room)) mine = r;
            assertThat(mine).isNotNull();
            assertThat(mine.get("lastSeq").asLong()).isEqualTo(7);
            assertThat(mine.get("online").asInt()).isEqualTo(1);
        }
    }

    @Test
    void a_client_resuming_with_since_gets_exactly_what_it_missed_then_live_messages() {
        String room = newRoom();
        String bobToken = server().newUser("bob");
        try (WsClient a = server().connect(server().newUser("alice"))) {
            join(a, room, null);
            long seen;
            try (WsClient b = server().connect(bobToken)) {
                join(b, room, null);
                sendAll(a, room, 5, "before");
                seen = b.awaitMessages(room, 5, WAIT).get(4).get("seq").asLong();
            }
            sendAll(a, room, 8, "missed");

            try (WsClient b = server().connect(bobToken)) {
                JsonNode joined = join(b, room, seen);
                assertThat(joined.get("recovered").asBoolean()).isTrue();
                assertThat(joined.get("lastSeq").asLong()).isEqualTo(13);
                a.send("type", "send", "room", room, "text", "live", "clientId", "live", "ref", "live");
                a.await("ack", "live");
                List<JsonNode> got = b.awaitMessages(room, 9, WAIT);
                assertThat(got).extracting(m -> m.get("seq").asLong()).containsExactlyElementsOf(LongStream.rangeClosed(6, 14).boxed().toList());
                assertThat(got.get(0).get("text").asText()).isEqualTo("missed 1");
                assertThat(got.get(8).get("text").asText()).isEqualTo("live");
            }
        }
    }

    @Test
    void a_retried_send_gets_the_original_ack_and_creates_no_second_message() {
        String room = newRoom();
        String aliceToken = server().newUser("alice");
        try (WsClient a = server().connect(aliceToken); WsClient b = server().connect(server().newUser("bob"))) {
            join(a, room, null);
            join(b, room, null);
            a.send("type", "send", "room", room, "text", "once", "clientId", "retry-me", "ref", "s1");
            JsonNode first = a.await("ack", "s1");
            try (WsClient again = server().connect(aliceToken)) {
                join(again, room, null);
                again.send("type", "send", "room", room, "text", "once, retried", "clientId", "retry-me", "ref", "s2");
                JsonNode second = again.await("ack", "s2");
                assertThat(second.get("seq").asLong()).isEqualTo(first.get("seq").asLong());
                assertThat(second.get("id").asText()).isEqualTo(first.get("id").asText());
                assertThat(second.get("ts").asText()).isEqualTo(first.get("ts").asText());
            }
            a.send("type", "send", "room", room, "text", "next", "clientId", "next", "ref", "s3");
            assertThat(a.await("ack", "s3").get("seq").asLong()).isEqualTo(2);
            List<JsonNode> got = b.awaitMessages(room, 2, WAIT);
            assertThat(got).extracting(m -> m.get("text").asText()).containsExactly("once", "next");
        }
    }

    @Test
    void messages_accounts_and_sequences_survive_a_restart() {
        String room = newRoom();
        String alice = ParleyServer.unique("alice");
        String token = server().http().register(alice);
        List<JsonNode> acks;
        try (WsClient a = server().connect(token)) {
            join(a, room, null);
            acks = sendAll(a, room, 5, "kept");
        }
        server().restart();

        String again = server().http().login(alice);
        JsonNode page = server().http().get("/api/rooms/" + room + "/messages", again).json();
        assertThat(seqs(page.get("messages"))).containsExactlyElementsOf(oneTo(5));
        for (int i = 0; i < 5; i++) {
            assertThat(page.get("messages").get(i).get("id").asText()).isEqualTo(acks.get(i).get("id").asText());
        }
        try (WsClient a = server().connect(again)) {
            assertThat(join(a, room, null).get("lastSeq").asLong()).isEqualTo(5);
            a.send("type", "send", "room", room, "text", "kept 1", "clientId", "kept1", "ref", "retry");
            assertThat(a.await("ack", "retry").get("id").asText()).isEqualTo(acks.get(0).get("id").asText());
            a.send("type", "send", "room", room, "text", "after", "clientId", "after", "ref", "after");
            assertThat(a.await("ack", "after").get("seq").asLong()).isEqualTo(6);
        }
    }

    // --- helpers ---

    private static JsonNode join(WsClient c, String room, Long since) {
        String ref = "join-" + room + "-" + System.nanoTime();
        if (since == null) c.send("type", "join", "room", room, "ref", ref);
        else c.send("type", "join", "room", room, "since", since, "ref", ref);
        return c.await("joined", ref);
    }

    /** Sends n messages ("prefix i", clientId prefix+i), each after the previous ack; returns the acks. */
    private static List<JsonNode> sendAll(WsClient c, String room, int n, String prefix) {
        return LongStream.rangeClosed(1, n).mapToObj(i -> {
            String ref = prefix + "-ref-" + i;
            c.send("type", "send", "room", room, "text", prefix + " " + i, "clientId", prefix + i, "ref", ref);
            JsonNode ack = c.await("ack", ref);
            assertThat(ack.has("seq")).as("ack of %s", ref).isTrue();
            return ack;
        }).toList();
    }

    private static List<Long> seqs(JsonNode messages) {
        return java.util.stream.StreamSupport.stream(messages.spliterator(), false).map(m -> m.get("seq").asLong()).toList();
    }

    private static List<Long> oneTo(int n) {
        return LongStream.rangeClosed(1, n).boxed().toList();
    }

    private static String body(String username, String password) {
        return Http.JSON.createObjectNode().put("username", username).put("password", password).toString();
    }
}
