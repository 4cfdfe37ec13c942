package dev.parley.rooms;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.rooms.RoomKit.User;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.stream.LongStream;

import static dev.parley.rooms.RoomKit.T;
import static dev.parley.rooms.RoomKit.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 9.10: membership is in the timeline. A member who was away while they were removed and
 * added again resumes with {@code since} and gets every seq after it once, in order, with no gap: the
 * messages and the events of their removal and return alike. A client that ignores {@code event}
 * sees nothing but messages with consecutive seqs.
 */
class MembershipResumeTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    static RoomKit kit;
    static User alice;

    @BeforeAll
    static void cast() {
        kit = new RoomKit(server);
        alice = kit.user("alice");
    }

    /** The message frames of the room, as a client of the old protocol sees them: every one a plain message. */
    private static List<JsonNode> asOldClient(WsClient c, String room) {
        List<JsonNode> all = RoomKit.ofRoom(c, room).stream()
                .filter(f -> !List.of("joined", "presence", "typing", "left", "ack", "error").contains(f.path("type").asText())).toList();
        for (JsonNode m : all) {
            assertThat(m.path("type").asText()).as(m.toString()).isEqualTo("message");
            for (String field : List.of("room", "seq", "id", "from", "text", "ts", "clientId")) {
                assertThat(m.hasNonNull(field)).as("%s in %s", field, m).isTrue();
            }
            assertThat(m.path("text").asText()).isNotBlank();
        }
        return all;
    }

    @Test
    void a_member_removed_and_added_again_while_offline_resumes_with_every_seq_once_in_order_events_included() {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("resume"), "private");
        kit.add(alice, room, bob, "member");
        long n;
        try (WsClient a = kit.connect(alice)) {
            RoomKit.join(a, room);
            try (WsClient b = kit.connect(bob)) {
                RoomKit.join(b, room);
                for (int i = 1; i <= 3; i++) RoomKit.send(a, room, "before " + i);
                List<JsonNode> got = b.awaitMessages(room, 3, T);
                n = got.get(got.size() - 1).path("seq").asLong();
                assertThat(n).isEqualTo(kit.lastSeq(alice, room));
            }

            // while bob is away: removed, messages, added again, messages
            assertThat(kit.deleteMember(alice, room, bob.name()).status()).isEqualTo(204);
            RoomKit.send(a, room, "while bob is out 1");
            RoomKit.send(a, room, "while bob is out 2");
            try (WsClient early = kit.connect(bob)) {
                // a join is checked against the room as it is now: bob is no member yet
                String ref = RoomKit.ref("resume");
                early.send("type", "join", "room", room, "since", n, "ref", ref);
                assertThat(early.await(RoomKit.answerTo(ref), T, "the early resume").path("code").asText()).isEqualTo("forbidden");
                RoomKit.alive(early);
                assertThat(early.frames("message")).as("a refused resume replays nothing").isEmpty();
            }
            assertThat(kit.putMember(alice, room, bob.name(), json("role", "member")).status()).isEqualTo(201);
            RoomKit.send(a, room, "welcome back 1");
            RoomKit.send(a, room, "welcome back 2");
        }
        long last = kit.lastSeq(alice, room);
        assertThat(last).isEqualTo(n + 6);

        try (WsClient b = kit.connect(bob); WsClient a = kit.connect(alice)) {
            JsonNode joined = RoomKit.join(b, room, n);
            assertThat(joined.path("lastSeq").asLong()).isEqualTo(last);
            assertThat(joined.path("recovered").asBoolean()).isTrue();
            List<JsonNode> replay = b.awaitMessages(room, 6, T);
            RoomKit.join(a, room);
            RoomKit.send(a, room, "live again");
            List<JsonNode> all = b.awaitMessages(room, 7, T);
            RoomKit.alive(b);

            assertThat(RoomKit.seqs(b.messages(room))).as("every seq after %d once, in order", n)
                    .containsExactlyElementsOf(LongStream.rangeClosed(n + 1, n + 7).boxed().toList());
            assertThat(b.frames().indexOf(joined)).as("joined first").isLessThan(b.frames().indexOf(replay.get(0)));
            assertThat(all.stream().map(m -> m.path("event").path("type").asText("")).toList())
                    .containsExactly("member_removed", "", "", "member_added", "", "", "");
            assertThat(all.get(0).path("event").path("user").asText()).isEqualTo(bob.name());
            assertThat(all.get(3).path("event").path("user").asText()).isEqualTo(bob.name());
            assertThat(all.get(3).path("event").path("role").asText()).isEqualTo("member");
            assertThat(all.subList(0, 6).stream().map(m -> m.path("id").asText()).toList()).as("the replay is the stored timeline")
                    .containsExactlyElementsOf(kit.messagesAfter(alice, room, n).subList(0, 6).stream().map(m -> m.path("id").asText()).toList());

            // a client written before room events: messages only, consecutive seqs
            List<JsonNode> old = asOldClient(b, room);
            assertThat(RoomKit.seqs(old)).containsExactlyElementsOf(LongStream.rangeClosed(n + 1, n + 7).boxed().toList());
        }
    }

    @Test
    void a_member_banned_unbanned_and_invited_again_while_offline_resumes_gap_free() {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("ban-resume"), "private");
        kit.add(alice, room, bob, "member");
        long n;
        try (WsClient b = kit.connect(bob)) {
            RoomKit.join(b, room);
            RoomKit.send(b, room, "bob was here");
            n = b.awaitMessages(room, 1, T).get(0).path("seq").asLong();
        }
        try (WsClient a = kit.connect(alice)) {
            RoomKit.join(a, room);
            assertThat(kit.putBan(alice, room, bob.name(), json("reason", "cool off")).status()).isEqualTo(204);
            RoomKit.send(a, room, "during the ban");
            assertThat(kit.deleteBan(alice, room, bob.name()).status()).isEqualTo(204);
            assertThat(kit.putMember(alice, room, bob.name(), json("role", "member")).status()).isEqualTo(201);
            RoomKit.send(a, room, "after the ban");
        }
        try (WsClient b = kit.connect(bob)) {
            JsonNode joined = RoomKit.join(b, room, n);
            List<JsonNode> got = b.awaitMessages(room, 5, T);
            RoomKit.alive(b);

            assertThat(joined.path("recovered").asBoolean()).isTrue();
            assertThat(RoomKit.seqs(b.messages(room))).containsExactlyElementsOf(LongStream.rangeClosed(n + 1, n + 5).boxed().toList());
            assertThat(got.stream().map(m -> m.path("event").path("type").asText("")).toList())
                    .containsExactly("banned", "", "unbanned", "member_added", "");
            assertThat(got.get(0).path("event").path("reason").asText()).isEqualTo("cool off");
            assertThat(RoomKit.seqs(asOldClient(b, room))).containsExactlyElementsOf(LongStream.rangeClosed(n + 1, n + 5).boxed().toList());
        }
    }

    @Test
    void events_are_in_history_pages_and_history_frames_in_the_one_order_of_the_room() {
        User bob = kit.user("bob"), carol = kit.user("carol");
        String room = kit.made(alice, RoomKit.room("pages"), "private");
        kit.add(alice, room, bob, "member");
        try (WsClient a = kit.connect(alice)) {
            RoomKit.join(a, room);
            RoomKit.send(a, room, "one");
            kit.add(alice, room, carol, "member");
            RoomKit.send(a, room, "two");
            assertThat(kit.putMember(alice, room, carol.name(), json("role", "moderator")).status()).isEqualTo(200);
        }
        List<JsonNode> http = kit.messagesAfter(bob, room, 0);
        assertThat(http.stream().map(m -> m.path("event").path("type").asText("")).toList()).as(http.toString())
                .containsExactly("room_created", "member_added", "", "member_added", "", "role_changed");
        assertThat(RoomKit.seqs(http)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        try (WsClient b = kit.connect(bob)) {
            String ref = RoomKit.ref("history");
            b.send("type", "history", "room", room, "before", 7, "limit", 100, "ref", ref);
            JsonNode page = b.await(RoomKit.is("history", ref), T, "history");
            assertThat(RoomKit.seqs(List.copyOf(toList(page.get("messages"))))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
            assertThat(page.get("messages").get(5).path("event").path("role").asText()).isEqualTo("moderator");
        }
    }

    @Test
    void adding_someone_with_a_role_is_one_member_added_event_with_that_role() {
        User carol = kit.user("carol");
        String room = kit.made(alice, RoomKit.room("added-as"), "private");
        long before = kit.lastSeq(alice, room);

        kit.add(alice, room, carol, "moderator");

        List<JsonNode> added = kit.messagesAfter(alice, room, before);
        assertThat(added.stream().map(m -> m.path("event").toString()).toList()).as("PROTOCOL.md: member_added, user was added with role")
                .hasSize(1);
        assertThat(added.get(0).path("event").path("type").asText()).isEqualTo("member_added");
        assertThat(added.get(0).path("event").path("role").asText()).isEqualTo("moderator");
        assertThat(kit.members(alice, room)).containsEntry(carol.name(), "moderator");
    }

    private static List<JsonNode> toList(JsonNode array) {
        java.util.ArrayList<JsonNode> out = new java.util.ArrayList<>();
        array.forEach(out::add);
        return out;
    }
}
