package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md, mentions and read state (issue 21, items 5 and 6): whom a message mentions, the
 * {@code read} frame, and the counts in {@code joined} and {@code GET /api/rooms}, as a user with two
 * devices sees them; on the embedded H2 here, and on PostgreSQL in {@link ReadStateOnPostgresTest}.
 */
class ReadStateTest {
    @RegisterExtension
    static ParleyServer h2 = ParleyServer.create();

    ParleyServer server() {
        return h2;
    }

    private record User(String name, String token) {}

    private User user(String base) {
        String name = ParleyServer.unique(base);
        return new User(name, server().http().register(name));
    }

    private JsonNode listed(User u, String room) {
        Http.Response r = server().http().get("/api/rooms?prefix=" + room, u.token());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        for (JsonNode n : r.json()) if (n.get("name").asText().equals(room)) return n;
        throw new AssertionError(room + " is not listed for " + u.name() + ": " + r.body());
    }

    private static JsonNode read(WsClient c, String room, long seq) {
        String ref = Ws.ref("read");
        c.send("type", "read", "room", room, "seq", seq, "ref", ref);
        return c.await(f -> ref.equals(f.path("ref").asText()), Ws.T, "answer to read " + ref);
    }

    @Test
    void a_message_lists_whom_its_text_mentions_live_and_in_history() {
        User alice = user("alice");
        String room = Ws.room("mentions");
        try (WsClient a = server().connect(alice.token())) {
            Ws.join(a, room);
            Ws.send(a, room, "hi @Bob_1 and @carol.x, mail me at me@example.com, thanks @bob_1.", "m1");
            Ws.send(a, room, "nobody here", "m2");
            List<JsonNode> live = a.awaitMessages(room, 2, Ws.T);
            assertThat(texts(live.get(0).get("mentions"))).containsExactly("Bob_1", "carol.x");
            assertThat(live.get(1).has("mentions")).isFalse();

            List<JsonNode> history = Ws.history(server(), alice.token(), room);
            assertThat(texts(history.get(0).get("mentions"))).containsExactly("Bob_1", "carol.x");
            assertThat(history.get(1).has("mentions")).isFalse();
        }
    }

    @Test
    void unread_and_mentions_count_others_messages_after_the_marker_and_a_read_reaches_the_users_other_device() {
        User alice = user("alice"), bob = user("bob");
        String room = Ws.room("badges");
        try (WsClient a = server().connect(alice.token());
             WsClient phone = server().connect(bob.token());
             WsClient laptop = server().connect(bob.token())) {
            Ws.join(a, room);
            Ws.send(a, room, "before bob came", "b0");
            JsonNode first = Ws.join(phone, room);
            // Joining a room for the first time starts the marker at its last seq.
            assertThat(first.get("readSeq").asLong()).isEqualTo(first.get("lastSeq").asLong());
            assertThat(first.get("unread").asInt()).isZero();
            Ws.join(laptop, room);

            Ws.send(a, room, "one", "b1");
            Ws.send(a, room, "two for @" + bob.name(), "b2");
            long last = Ws.send(a, room, "three", "b3").get("seq").asLong();
            Ws.send(phone, room, "bob's own message does not count", "p1");

            JsonNode row = listed(bob, room);
            assertThat(row.get("unread").asInt()).isEqualTo(3);
            assertThat(row.get("mentions").asInt()).isEqualTo(1);
            assertThat(row.get("readSeq").asLong()).isEqualTo(first.get("lastSeq").asLong());

            JsonNode answer = read(phone, room, last);
            assertThat(answer.get("type").asText()).isEqualTo("read");
            assertThat(answer.get("seq").asLong()).isEqualTo(last);
            // bob's own message after `last` is no unread of his
            assertThat(answer.get("unread").asInt()).isZero();
            assertThat(answer.get("mentions").asInt()).isZero();

            JsonNode told = laptop.await(f -> "read".equals(f.path("type").asText()) && room.equals(f.path("room").asText()), Ws.T, "read on the laptop");
            assertThat(told.has("ref")).isFalse();
            assertThat(told.get("seq").asLong()).isEqualTo(last);
            assertThat(told.get("unread").asInt()).isZero();
            // alice is told nothing of what bob read
            Ws.alive(a);
            assertThat(a.frames("read")).isEmpty();

            JsonNode after = listed(bob, room);
            assertThat(after.get("readSeq").asLong()).isEqualTo(last);
            assertThat(after.get("unread").asInt()).isZero();
            assertThat(after.get("mentions").asInt()).isZero();
        }
        // A third device (or a reload) is told the same when it joins.
        try (WsClient tablet = server().connect(bob.token())) {
            JsonNode joined = Ws.join(tablet, room);
            assertThat(joined.get("unread").asInt()).isZero();
            assertThat(joined.get("mentions").asInt()).isZero();
        }
    }

    @Test
    void a_marker_is_never_lowered_and_a_seq_past_the_last_is_taken_as_the_last() {
        User alice = user("alice"), bob = user("bob");
        String room = Ws.room("monotonic");
        try (WsClient a = server().connect(alice.token()); WsClient b = server().connect(bob.token())) {
            Ws.join(b, room);
            Ws.join(a, room);
            long s1 = Ws.send(a, room, "one", "m1").get("seq").asLong();
            long s2 = Ws.send(a, room, "two", "m2").get("seq").asLong();
            Ws.send(a, room, "three @" + bob.name(), "m3");

            JsonNode up = read(b, room, s2);
            assertThat(up.get("seq").asLong()).isEqualTo(s2);
            assertThat(up.get("unread").asInt()).isEqualTo(1);
            assertThat(up.get("mentions").asInt()).isEqualTo(1);

            JsonNode down = read(b, room, s1);
            assertThat(down.get("type").asText()).isEqualTo("read");
            assertThat(down.get("seq").asLong()).isEqualTo(s2);
            assertThat(down.get("unread").asInt()).isEqualTo(1);

            JsonNode beyond = read(b, room, 1_000_000);
            assertThat(beyond.get("seq").asLong()).isEqualTo(beyond.get("lastSeq").asLong());
            assertThat(beyond.get("unread").asInt()).isZero();
            assertThat(listed(bob, room).get("readSeq").asLong()).isEqualTo(beyond.get("lastSeq").asLong());
        }
    }

    @Test
    void room_events_are_not_unread_and_a_new_member_starts_with_what_the_room_held() {
        User owner = user("owner"), bob = user("bob"), carol = user("carol");
        String room = Ws.room("events");
        Http http = server().http();
        assertThat(http.request("POST", "/api/rooms", owner.token(), "{\"name\":\"" + room + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        try (WsClient o = server().connect(owner.token())) {
            Ws.join(o, room);
            Ws.send(o, room, "old news", "o1");
            assertThat(http.request("PUT", "/api/rooms/" + room + "/members/" + bob.name(), owner.token(), "{}").status()).isEqualTo(201);
            JsonNode added = listed(bob, room);
            assertThat(added.get("readSeq").asLong()).isEqualTo(added.get("lastSeq").asLong());
            assertThat(added.get("unread").asInt()).isZero();

            Ws.send(o, room, "welcome @" + bob.name(), "o2");
            assertThat(http.request("PUT", "/api/rooms/" + room + "/members/" + carol.name(), owner.token(), "{}").status()).isEqualTo(201);
            JsonNode later = listed(bob, room);
            assertThat(later.get("unread").asInt()).isEqualTo(1); // the message, not carol's member_added
            assertThat(later.get("mentions").asInt()).isEqualTo(1);
        }
    }

    @Test
    void read_is_refused_for_a_room_not_joined_a_bad_seq_and_past_its_rate_and_the_connection_lives_on() {
        User alice = user("alice"), mallory = user("mallory");
        String secret = Ws.room("secret"), open = Ws.room("open");
        assertThat(server().http().request("POST", "/api/rooms", alice.token(), "{\"name\":\"" + secret + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        try (WsClient m = server().connect(mallory.token())) {
            // A private room answers as any room not joined: nothing is learnt of it.
            JsonNode privateRoom = read(m, secret, 1);
            JsonNode nobodys = read(m, Ws.room("nothing"), 1);
            assertThat(privateRoom.get("code").asText()).isEqualTo("not_joined");
            assertThat(nobodys.get("code").asText()).isEqualTo("not_joined");
            assertThat(privateRoom.get("message").asText().replace(secret, "X"))
                    .isEqualTo(nobodys.get("message").asText().replaceAll("nothing-[^ ]+", "X"));

            Ws.join(m, open);
            m.send("{\"type\":\"read\",\"room\":\"" + open + "\",\"seq\":-1,\"ref\":\"neg\"}");
            assertThat(m.await("error", "neg").get("code").asText()).isEqualTo("bad_request");
            m.send("{\"type\":\"read\",\"room\":\"" + open + "\",\"ref\":\"none\"}");
            assertThat(m.await("error", "none").get("code").asText()).isEqualTo("bad_request");
            m.send("{\"type\":\"read\",\"room\":\"" + open + "\",\"seq\":\"1\",\"ref\":\"str\"}");
            assertThat(m.await("error", "str").get("code").asText()).isEqualTo("bad_request");

            // The burst (20), then rate_limited: each read is a write.
            List<String> refs = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String ref = "r" + i;
                refs.add(ref);
                m.send("type", "read", "room", open, "seq", 0, "ref", ref);
            }
            int limited = 0;
            for (String ref : refs) {
                JsonNode answer = m.await(f -> ref.equals(f.path("ref").asText()), Ws.T, "answer " + ref);
                if ("error".equals(answer.get("type").asText())) {
                    assertThat(answer.get("code").asText()).isEqualTo("rate_limited");
                    limited++;
                }
            }
            assertThat(limited).isPositive();
            Ws.alive(m);
        }
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
