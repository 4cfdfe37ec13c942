package dev.parley.rooms;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.rooms.RoomKit.User;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static dev.parley.rooms.RoomKit.T;
import static dev.parley.rooms.RoomKit.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.3 and 9.10: a muted member reads everything and sends nothing: a send is refused with
 * {@code forbidden} and nothing stored, even one pipelined right behind its join, and a typing is
 * dropped; once unmuted, the same send goes through.
 */
class MuteTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    static RoomKit kit;
    static User alice;

    @BeforeAll
    static void cast() {
        kit = new RoomKit(server);
        alice = kit.user("alice");
    }

    /** Sends with this clientId and returns the answer (ack or error). */
    private static JsonNode sendAs(WsClient c, String room, String clientId) {
        String ref = RoomKit.ref("send");
        c.send("type", "send", "room", room, "text", "text of " + clientId, "clientId", clientId, "ref", ref);
        return c.await(RoomKit.answerTo(ref), T, "an answer to " + clientId);
    }

    /** PROTOCOL.md 3.3: a muted member's typing is dropped: no error, and nobody sees it (checked at alice's socket). */
    private static void dropped(WsClient c, String ref) {
        assertThat(c.frames().stream().filter(RoomKit.answerTo(ref)).toList()).as("an answer to a muted typing").isEmpty();
    }

    private static boolean stored(User reader, String room, String clientId) {
        return kit.messagesAfter(reader, room, 0).stream().anyMatch(m -> clientId.equals(m.path("clientId").asText()));
    }

    private void mutedCannotSendThenUnmutedCan(String visibility, User muter) {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("mute-" + visibility), visibility);
        kit.add(alice, room, bob, "member");
        if (muter != alice) kit.add(alice, room, muter, "moderator");
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            RoomKit.send(b, room, "before the mute");

            String until = RoomKit.inFuture(3600);
            Http.Response r = kit.putMember(muter, room, bob.name(), json("mutedUntil", until));
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.json().path("mutedUntil").isNull()).isFalse();
            JsonNode muted = b.await(f -> RoomKit.isEvent(f, room, "muted"), T, "the muted event at bob");
            assertThat(muted.path("event").path("user").asText()).isEqualTo(bob.name());
            assertThat(muted.path("event").path("by").asText()).isEqualTo(muter.name());
            assertThat(muted.path("event").path("until").asText()).isNotBlank();
            long seq = kit.lastSeq(alice, room);

            // on the connection that was in the room
            JsonNode refusal = sendAs(b, room, "while-muted");
            assertThat(refusal.path("type").asText()).as(refusal.toString()).isEqualTo("error");
            assertThat(refusal.path("code").asText()).as(refusal.toString()).isEqualTo("forbidden");
            assertThat(refusal.path("message").asText()).isNotBlank();
            String tref = RoomKit.ref("typing");
            b.send("type", "typing", "room", room, "ref", tref);
            RoomKit.alive(b);
            dropped(b, tref);

            // on a new connection, join and send and typing sent at once
            try (WsClient b2 = kit.connect(bob)) {
                String jref = RoomKit.ref("join"), sref = RoomKit.ref("send"), t2 = RoomKit.ref("typing");
                b2.send("type", "join", "room", room, "ref", jref);
                b2.send("type", "send", "room", room, "text", "sneaky", "clientId", "pipelined", "ref", sref);
                b2.send("type", "typing", "room", room, "ref", t2);
                assertThat(b2.await(RoomKit.answerTo(jref), T, "joined").path("type").asText()).as("a muted member may join").isEqualTo("joined");
                JsonNode pipelined = b2.await(RoomKit.answerTo(sref), T, "the pipelined send");
                assertThat(pipelined.path("type").asText()).as(pipelined.toString()).isEqualTo("error");
                assertThat(pipelined.path("code").asText()).as(pipelined.toString()).isEqualTo("forbidden");
                RoomKit.alive(b2);
                dropped(b2, t2);
            }
            RoomKit.alive(b);
            RoomKit.alive(a);
            RoomKit.staysQuiet(a, f -> "typing".equals(f.path("type").asText()) && bob.name().equals(f.path("user").asText()),
                    "a muted member's typing reaches nobody");
            assertThat(kit.lastSeq(alice, room)).as("nothing stored").isEqualTo(seq);
            assertThat(stored(alice, room, "while-muted")).isFalse();
            assertThat(stored(alice, room, "pipelined")).isFalse();
            assertThat(a.messages(room).stream().filter(m -> m.path("seq").asLong() > seq)).as("nothing delivered").isEmpty();

            // a muted member reads everything
            assertThat(kit.get(bob, "/api/rooms/" + room + "/messages").status()).isEqualTo(200);
            assertThat(kit.members(bob, room).get(bob.name())).isEqualTo("member");

            // unmuted: the same clientId is stored now, as a new message
            Http.Response u = kit.putMember(muter, room, bob.name(), "{\"mutedUntil\":null}");
            assertThat(u.status()).as(u.body()).isEqualTo(200);
            assertThat(u.json().path("mutedUntil").isNull()).isTrue();
            b.await(f -> RoomKit.isEvent(f, room, "unmuted"), T, "the unmuted event at bob");
            JsonNode ack = sendAs(b, room, "while-muted");
            assertThat(ack.path("type").asText()).as(ack.toString()).isEqualTo("ack");
            assertThat(ack.path("seq").asLong()).isEqualTo(seq + 2); // after the unmuted event
            assertThat(stored(alice, room, "while-muted")).isTrue();
            b.send("type", "typing", "room", room);
            a.await(f -> "typing".equals(f.path("type").asText()) && bob.name().equals(f.path("user").asText()), T, "bob typing again");
        }
    }

    @Test
    void a_member_muted_by_the_owner_of_a_private_room_sends_nothing_until_unmuted() {
        mutedCannotSendThenUnmutedCan("private", alice);
    }

    @Test
    void a_member_muted_by_a_moderator_of_a_public_room_sends_nothing_until_unmuted() {
        mutedCannotSendThenUnmutedCan("public", kit.user("mod"));
    }

    @Test
    void a_mute_lasts_across_connections_and_is_listed_with_the_member() {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("mute-list"), "private");
        kit.add(alice, room, bob, "member");
        String until = RoomKit.inFuture(7200);
        assertThat(kit.putMember(alice, room, bob.name(), json("mutedUntil", until)).status()).isEqualTo(200);

        JsonNode members = kit.get(alice, "/api/rooms/" + room + "/members").json().get("members");
        JsonNode entry = null;
        for (JsonNode m : members) if (bob.name().equals(m.path("user").asText())) entry = m;
        assertThat(entry).isNotNull();
        assertThat(java.time.Instant.parse(entry.path("mutedUntil").asText())).isEqualTo(java.time.Instant.parse(until));
        for (int i = 0; i < 2; i++) {
            try (WsClient b = kit.connect(bob)) {
                RoomKit.join(b, room);
                assertThat(sendAs(b, room, "try-" + i).path("code").asText()).isEqualTo("forbidden");
            }
        }
        List<JsonNode> all = kit.messagesAfter(alice, room, 0);
        assertThat(all.stream().filter(m -> !m.has("event"))).as("no message stored").isEmpty();
    }
}
