package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md sections 3 and 4: each client frame and the server's answer to it, ref included. */
class ClientFramesTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @Test
    void join_answers_joined_with_the_room_its_last_seq_who_is_online_and_recovered() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String room = Ws.room("join");
        try (WsClient a = server.connect(ta); WsClient b = server.connect(tb)) {
            JsonNode first = Ws.join(a, room);
            assertThat(first.get("room").asText()).isEqualTo(room);
            assertThat(first.get("lastSeq").asLong()).isZero();
            assertThat(first.get("online").asInt()).isEqualTo(1);
            assertThat(first.get("members")).extracting(JsonNode::asText).containsExactly(alice);
            assertThat(first.get("recovered").asBoolean()).isTrue();
            Ws.send(a, room, "one", "c1");
            Ws.send(a, room, "two", "c2");

            b.send("type", "join", "room", room, "ref", "my-ref");
            JsonNode second = b.await(Ws.is("joined", "my-ref"), Ws.T, "joined");

            assertThat(second.get("lastSeq").asLong()).isEqualTo(2);
            assertThat(second.get("online").asInt()).isEqualTo(2);
            assertThat(second.get("members")).extracting(JsonNode::asText).containsExactlyInAnyOrder(alice, bob);
            assertThat(second.get("recovered").asBoolean()).isTrue();
            Ws.alive(b);
            assertThat(b.messages(room)).as("a join without since replays nothing").isEmpty();
        }
    }

    @Test
    void send_is_acked_with_the_stored_seq_id_and_ts_and_every_member_the_sender_included_gets_the_message() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String room = Ws.room("send");
        try (WsClient a = server.connect(ta); WsClient b = server.connect(tb)) {
            Ws.join(a, room);
            Ws.join(b, room);

            a.send("type", "send", "room", room, "text", "hello", "clientId", "cid-1", "ref", "s1");
            JsonNode ack = a.await(Ws.is("ack", "s1"), Ws.T, "ack");

            assertThat(ack.get("room").asText()).isEqualTo(room);
            assertThat(ack.get("clientId").asText()).isEqualTo("cid-1");
            assertThat(ack.get("seq").asLong()).isEqualTo(1);
            assertThat(ack.get("id").asText()).isNotBlank();
            assertThat(ack.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
            for (WsClient c : List.of(a, b)) {
                JsonNode m = c.awaitMessages(room, 1, Ws.T).get(0);
                assertThat(m.get("seq").asLong()).isEqualTo(1);
                assertThat(m.get("id").asText()).isEqualTo(ack.get("id").asText());
                assertThat(m.get("ts").asText()).isEqualTo(ack.get("ts").asText());
                assertThat(m.get("from").asText()).isEqualTo(alice);
                assertThat(m.get("text").asText()).isEqualTo("hello");
                assertThat(m.get("clientId").asText()).isEqualTo("cid-1");
                assertThat(m.has("ref")).as("a delivery is not a reply").isFalse();
            }
            Ws.alive(a);
            Ws.alive(b);
            assertThat(a.messages(room)).hasSize(1);
            assertThat(b.messages(room)).hasSize(1);
        }
    }

    @Test
    void a_text_of_exactly_the_limit_is_accepted_and_stored_trimmed() {
        String token = server.newUser("long");
        String room = Ws.room("long");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);
            String text = "x".repeat(4000);

            Ws.send(c, room, "  \n" + text + "\t ", "long-1");

            assertThat(c.awaitMessages(room, 1, Ws.T).get(0).get("text").asText()).isEqualTo(text);
            Ws.send(c, room, "line one\n\tline two", "multi");
            assertThat(c.awaitMessages(room, 2, Ws.T).get(1).get("text").asText()).isEqualTo("line one\n\tline two");
        }
    }

    @Test
    void a_user_typing_from_two_connections_reaches_the_others_at_most_once_a_second() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String room = Ws.room("typing-pace");
        try (WsClient a1 = server.connect(ta); WsClient a2 = server.connect(ta); WsClient b = server.connect(tb)) {
            Ws.join(a1, room);
            Ws.join(a2, room);
            Ws.join(b, room);

            long start = System.nanoTime();
            for (int i = 0; i < 5; i++) { // each connection within its own rate of 5 a second
                a1.send("type", "typing", "room", room);
                a2.send("type", "typing", "room", room);
            }
            Ws.alive(a1);
            Ws.alive(a2); // every typing has been handled
            b.await(Ws.is("typing"), Ws.T, "the first typing");
            Ws.alive(b);
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            // Ten were sent; one a second passes (two if the burst straddled a second).
            assertThat(b.frames("typing")).hasSizeBetween(1, (int) seconds + 2).hasSizeLessThan(10);
        }
    }

    @Test
    void typing_reaches_the_other_members_but_not_the_typist_and_is_never_stored() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String room = Ws.room("typing");
        try (WsClient a = server.connect(ta); WsClient b = server.connect(tb)) {
            Ws.join(a, room);
            Ws.join(b, room);

            a.send("type", "typing", "room", room);
            JsonNode typing = b.await(Ws.is("typing"), Ws.T, "typing");
            Ws.alive(a);

            assertThat(typing.get("room").asText()).isEqualTo(room);
            assertThat(typing.get("user").asText()).isEqualTo(alice);
            assertThat(a.frames("typing")).isEmpty();
            assertThat(a.frames("error")).isEmpty();
            JsonNode history = server.http().get("/api/rooms/" + room + "/messages", ta).json();
            assertThat(history.get("messages")).isEmpty();
            assertThat(Ws.join(b, room).get("lastSeq").asLong()).isZero();
        }
    }

    @Test
    void leave_answers_left_tells_the_others_the_user_is_offline_and_stops_the_room_stream() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String room = Ws.room("leave");
        try (WsClient a = server.connect(ta); WsClient b = server.connect(tb)) {
            Ws.join(a, room);
            Ws.join(b, room);
            a.await(Ws.presence(room, bob, "online"), Ws.T, "bob online");

            b.send("type", "leave", "room", room, "ref", "bye");
            JsonNode left = b.await(Ws.is("left", "bye"), Ws.T, "left");
            a.await(Ws.presence(room, bob, "offline"), Ws.T, "bob offline");
            Ws.send(a, room, "after bob left", "after");
            a.awaitMessages(room, 1, Ws.T);
            Ws.alive(b);

            assertThat(left.get("room").asText()).isEqualTo(room);
            assertThat(b.messages(room)).isEmpty();
            b.send("type", "send", "room", room, "text", "x", "clientId", "y", "ref", "after-leave");
            assertThat(b.await(Ws.is("error", "after-leave"), Ws.T, "error").get("code").asText()).isEqualTo("not_joined");
            b.send("type", "leave", "room", room, "ref", "again");
            assertThat(b.await(Ws.is("error", "again"), Ws.T, "error").get("code").asText()).isEqualTo("not_joined");
        }
    }

    @Test
    void history_pages_older_messages_with_before_and_limit_and_says_if_there_are_more() {
        String token = server.newUser("historian");
        String room = Ws.room("history");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);
            for (int i = 1; i <= 12; i++) c.send("type", "send", "room", room, "text", "m" + i, "clientId", "h" + i);
            c.awaitMessages(room, 12, Ws.T);

            c.send("type", "history", "room", room, "ref", "h-all");
            JsonNode all = c.await(Ws.is("history", "h-all"), Ws.T, "history");
            c.send("type", "history", "room", room, "limit", 5, "ref", "h-newest");
            JsonNode newest = c.await(Ws.is("history", "h-newest"), Ws.T, "history");
            c.send("type", "history", "room", room, "before", 8, "limit", 5, "ref", "h-before");
            JsonNode before = c.await(Ws.is("history", "h-before"), Ws.T, "history");
            c.send("type", "history", "room", room, "before", 6, "limit", 5, "ref", "h-exact");
            JsonNode exact = c.await(Ws.is("history", "h-exact"), Ws.T, "history");

            assertThat(all.get("room").asText()).isEqualTo(room);
            assertThat(seqs(all)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
            assertThat(all.get("hasMore").asBoolean()).isFalse();
            assertThat(seqs(newest)).containsExactly(8L, 9L, 10L, 11L, 12L);
            assertThat(newest.get("hasMore").asBoolean()).isTrue();
            assertThat(seqs(before)).containsExactly(3L, 4L, 5L, 6L, 7L);
            assertThat(before.get("hasMore").asBoolean()).isTrue();
            assertThat(seqs(exact)).containsExactly(1L, 2L, 3L, 4L, 5L);
            assertThat(exact.get("hasMore").asBoolean()).isFalse();
            JsonNode m = all.get("messages").get(0);
            assertThat(m.get("type").asText()).isEqualTo("message");
            assertThat(m.get("text").asText()).isEqualTo("m1");
            assertThat(m.get("clientId").asText()).isEqualTo("h1");
            assertThat(m.get("id").asText()).isNotBlank();
            assertThat(m.get("from").asText()).isNotBlank();
            assertThat(m.get("ts").asText()).endsWith("Z");
        }
    }

    @Test
    void history_of_a_room_that_does_not_exist_is_not_found_and_a_bad_limit_or_before_is_a_bad_request() {
        try (WsClient c = server.connect(server.newUser("pager"))) {
            String room = Ws.room("pages");
            Ws.join(c, room);
            c.send("type", "history", "room", Ws.room("never"), "ref", "nf");
            c.send("type", "history", "room", room, "limit", 0, "ref", "l0");
            c.send("type", "history", "room", room, "limit", 101, "ref", "l101");
            c.send("type", "history", "room", room, "before", 0, "ref", "b0");

            assertThat(c.await(Ws.is("error", "nf"), Ws.T, "error").get("code").asText()).isEqualTo("not_found");
            assertThat(c.await(Ws.is("error", "l0"), Ws.T, "error").get("code").asText()).isEqualTo("bad_request");
            assertThat(c.await(Ws.is("error", "l101"), Ws.T, "error").get("code").asText()).isEqualTo("bad_request");
            assertThat(c.await(Ws.is("error", "b0"), Ws.T, "error").get("code").asText()).isEqualTo("bad_request");
            Ws.alive(c);
        }
    }

    @Test
    void ping_answers_pong_with_the_ref_and_without_one_when_none_was_given() {
        try (WsClient c = server.connect(server.newUser("pinger"))) {
            c.send("type", "ping", "ref", "p-1");
            JsonNode pong = c.await(Ws.is("pong", "p-1"), Ws.T, "pong");
            c.send("type", "ping");
            c.await(f -> Ws.is("pong").test(f) && !f.has("ref"), Ws.T, "pong without ref");

            assertThat(pong.get("ref").asText()).isEqualTo("p-1");
        }
    }

    @Test
    void an_error_about_a_frame_carries_its_ref() {
        try (WsClient c = server.connect(server.newUser("reffed"))) {
            c.send("type", "send", "room", Ws.room("nowhere"), "text", "x", "clientId", "c", "ref", "err-ref");
            JsonNode err = c.await(Ws.is("error", "err-ref"), Ws.T, "error");

            assertThat(err.get("code").asText()).isEqualTo("not_joined");
            assertThat(err.get("message").asText()).isNotBlank();
        }
    }

    private static List<Long> seqs(JsonNode history) {
        List<Long> out = new ArrayList<>();
        history.get("messages").forEach(m -> out.add(m.get("seq").asLong()));
        return out;
    }
}
