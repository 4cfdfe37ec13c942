package dev.parley.rooms;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
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
import static dev.parley.rooms.RoomKit.refused;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 9.10 and the {@code left} frame: a ban, a removal, a departure elsewhere or the room's
 * deletion takes the user's open connections out of the room at once: the event, then {@code left}
 * with its reason, then nothing more of that room.
 */
class RemovalTest {
    static final String ADMIN_NAME = ParleyServer.unique("admin");

    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ADMINS, ADMIN_NAME);

    static RoomKit kit;
    static User alice, admin;

    @BeforeAll
    static void cast() {
        kit = new RoomKit(server);
        alice = kit.user("alice");
        admin = new User(ADMIN_NAME, server.http().register(ADMIN_NAME));
    }

    /**
     * Waits for the {@code left} with this reason and checks what came before and after it: the last
     * message of the room before it is the event (of {@code eventType}, about {@code user}), and no frame
     * of the room follows it. Returns the event.
     */
    private static JsonNode takenOut(WsClient c, int from, String room, String eventType, String user, String reason) {
        JsonNode left = RoomKit.awaitFrom(c, from, f -> "left".equals(f.path("type").asText()) && room.equals(f.path("room").asText()), "left " + room);
        assertThat(left.path("reason").asText()).as(left.toString()).isEqualTo(reason);
        assertThat(left.has("ref")).as("a left nobody asked for has no ref: %s", left).isFalse();
        List<JsonNode> ofRoom = RoomKit.ofRoom(c, room);
        int at = -1;
        for (int i = 0; i < ofRoom.size(); i++) if (ofRoom.get(i) == left) at = i;
        List<JsonNode> before = ofRoom.subList(0, at).stream().filter(f -> "message".equals(f.path("type").asText())).toList();
        assertThat(before).as("messages before the left").isNotEmpty();
        JsonNode event = before.get(before.size() - 1);
        assertThat(event.path("event").path("type").asText()).as("the last message before left: %s", event).isEqualTo(eventType);
        if (user != null) assertThat(event.path("event").path("user").asText()).isEqualTo(user);
        assertThat(ofRoom.subList(at + 1, ofRoom.size())).as("frames of %s after left", room).isEmpty();
        return event;
    }

    /** The room goes on without {@code c}: alice posts and types, alice sees it, {@code c} gets none of it. */
    private static void hearsNothingMore(WsClient c, WsClient a, String room, String who) {
        int before = RoomKit.ofRoom(c, room).size();
        JsonNode ack = RoomKit.send(a, room, "after " + who + " went");
        a.await(f -> "message".equals(f.path("type").asText()) && room.equals(f.path("room").asText())
                && ack.path("seq").equals(f.path("seq")), T, "alice's own message");
        a.send("type", "typing", "room", room);
        RoomKit.alive(a);
        RoomKit.alive(c);
        RoomKit.noMoreOf(c, room, before, who + " gets nothing more of " + room);
    }

    /**
     * The removed user's connections left the room, so they are no longer online in it (9.5: offline
     * when the last connection leaves): alice gets {@code offline} and the presence route forgets bob.
     */
    private static void goneFromPresence(WsClient a, String room, User bob) {
        a.await(f -> "presence".equals(f.path("type").asText()) && room.equals(f.path("room").asText())
                && bob.name().equals(f.path("user").asText()) && "offline".equals(f.path("status").asText()), T, "bob offline at alice");
        dev.parley.testing.Await.until("presence of " + room + " without bob", T, () -> {
            JsonNode users = kit.get(alice, "/api/rooms/" + room + "/presence").json().path("users");
            for (JsonNode u : users) if (bob.name().equals(u.asText())) return false;
            return true;
        });
    }

    @Test
    void a_banned_member_is_taken_out_of_a_private_room_at_once_on_every_connection_and_kept_out() {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("ban"), "private");
        kit.add(alice, room, bob, "member");
        try (WsClient a = kit.connect(alice); WsClient b1 = kit.connect(bob); WsClient b2 = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b1, room);
            RoomKit.join(b2, room);
            RoomKit.send(a, room, "hello bob");
            b1.awaitMessages(room, 1, T);

            Http.Response r = kit.putBan(alice, room, bob.name(), json("reason", "spam"));
            assertThat(r.status()).as(r.body()).isEqualTo(204);

            for (WsClient b : List.of(b1, b2)) {
                JsonNode event = takenOut(b, 0, room, "banned", bob.name(), "banned");
                assertThat(event.path("event").path("by").asText()).isEqualTo(alice.name());
                assertThat(event.path("event").path("reason").asText()).isEqualTo("spam");
                assertThat(event.path("from").asText()).isEqualTo(alice.name());
                assertThat(event.path("clientId").asText()).isEqualTo("event-" + event.path("id").asText());
            }
            a.await(f -> RoomKit.isEvent(f, room, "banned"), T, "alice sees the ban in the timeline");
            hearsNothingMore(b1, a, room, "bob");
            RoomKit.noMoreOf(b2, room, RoomKit.ofRoom(b2, room).size(), "bob's other connection gets nothing more of " + room);
            goneFromPresence(a, room, bob);
            assertThat(kit.get(bob, "/api/rooms?prefix=" + room).json()).as("bob's room list").isEmpty();

            // kept out: reads answer as for a room that does not exist, a join is forbidden
            refused(kit.get(bob, "/api/rooms/" + room + "/messages"), 404);
            refused(kit.get(bob, "/api/rooms/" + room), 404);
            JsonNode again = RoomKit.tryJoin(b1, room);
            assertThat(again.path("code").asText()).as(again.toString()).isEqualTo("forbidden");
            assertThat(RoomKit.trySend(b1, room, "let me back").path("code").asText()).isEqualTo("not_joined");
            try (WsClient fresh = kit.connect(bob)) {
                assertThat(RoomKit.tryJoin(fresh, room).path("code").asText()).isEqualTo("forbidden");
            }
        }
    }

    @Test
    void a_removed_member_is_taken_out_of_a_private_room_with_reason_removed_and_can_read_nothing_more() {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("kick"), "private");
        kit.add(alice, room, bob, "member");
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);

            Http.Response r = kit.deleteMember(alice, room, bob.name());
            assertThat(r.status()).as(r.body()).isEqualTo(204);

            JsonNode event = takenOut(b, 0, room, "member_removed", bob.name(), "removed");
            assertThat(event.path("event").path("by").asText()).isEqualTo(alice.name());
            hearsNothingMore(b, a, room, "bob");
            goneFromPresence(a, room, bob);
            refused(kit.get(bob, "/api/rooms/" + room + "/messages"), 404);
            refused(kit.get(bob, "/api/rooms/" + room + "/presence"), 404);
            assertThat(RoomKit.tryJoin(b, room).path("code").asText()).isEqualTo("forbidden");
            String ref = RoomKit.ref("history");
            b.send("type", "history", "room", room, "ref", ref);
            assertThat(b.await(RoomKit.answerTo(ref), T, "history refused").path("code").asText()).isEqualTo("not_found");
        }
    }

    @Test
    void removal_from_a_public_room_takes_the_connection_out_but_does_not_keep_the_user_out_and_a_ban_does() {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("pub-kick"), "public");
        kit.add(alice, room, bob, "member");
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);

            assertThat(kit.deleteMember(alice, room, bob.name()).status()).isEqualTo(204);
            takenOut(b, 0, room, "member_removed", bob.name(), "removed");
            hearsNothingMore(b, a, room, "bob");
            RoomKit.join(b, room); // a public room: anyone not banned may join
            RoomKit.send(b, room, "back again");

            int mark = b.frames().size();
            assertThat(kit.putBan(alice, room, bob.name(), "{}").status()).isEqualTo(204);
            takenOut(b, mark, room, "banned", bob.name(), "banned");
            hearsNothingMore(b, a, room, "bob");
            assertThat(RoomKit.tryJoin(b, room).path("code").asText()).isEqualTo("forbidden");
            assertThat(kit.deleteBan(alice, room, bob.name()).status()).isEqualTo(204);
            RoomKit.join(b, room); // the ban lifted, a public room is open to him again
        }
    }

    @Test
    void anyone_who_joined_a_public_room_can_be_removed_from_it_member_or_not() {
        User passerby = kit.user("passerby");
        String room = kit.made(alice, RoomKit.room("pub-passerby"), "public");
        try (WsClient a = kit.connect(alice); WsClient p = kit.connect(passerby)) {
            RoomKit.join(a, room);
            RoomKit.join(p, room);

            Http.Response r = kit.deleteMember(alice, room, passerby.name());
            assertThat(r.status()).as(r.body()).isEqualTo(204);

            takenOut(p, 0, room, "member_removed", passerby.name(), "removed");
            hearsNothingMore(p, a, room, "the passer-by");
            goneFromPresence(a, room, passerby);
        }
    }

    @Test
    void users_are_named_in_room_routes_in_any_letter_case() {
        User bob = kit.user("bob");
        String upper = bob.name().toUpperCase(java.util.Locale.ROOT);
        String room = kit.made(alice, RoomKit.room("case"), "private");

        Http.Response added = kit.putMember(alice, room, upper, json("role", "member"));
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        assertThat(kit.get(bob, "/api/rooms/" + room).status()).as("bob, added by another spelling of his name, reads the room").isEqualTo(200);
        assertThat(kit.putMember(alice, room, bob.name(), json("role", "member")).status()).as("already a member").isEqualTo(200);
        try (WsClient b = kit.connect(bob)) {
            RoomKit.join(b, room);
            assertThat(kit.putBan(alice, room, upper, "{}").status()).isEqualTo(204);
            takenOut(b, 0, room, "banned", null, "banned");
        }
        refused(kit.get(bob, "/api/rooms/" + room), 404);
        refused(kit.putMember(alice, room, bob.name(), json("role", "member")), 409);
        assertThat(kit.deleteBan(alice, room, upper).status()).isEqualTo(204);
    }

    @Test
    void leaving_over_http_takes_the_users_other_connections_out_with_reason_left() {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("leave"), "private");
        kit.add(alice, room, bob, "member");
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);

            Http.Response r = kit.deleteMember(bob, room, bob.name());
            assertThat(r.status()).as(r.body()).isEqualTo(204);

            takenOut(b, 0, room, "member_left", bob.name(), "left");
            hearsNothingMore(b, a, room, "bob");
            refused(kit.get(bob, "/api/rooms/" + room + "/messages"), 404);
            assertThat(kit.members(alice, room)).doesNotContainKey(bob.name());
        }
    }

    @Test
    void deleting_a_room_takes_every_connection_out_with_reason_room_deleted_and_its_history_is_gone() {
        User bob = kit.user("bob");
        String room = kit.made(alice, RoomKit.room("doomed"), "private");
        kit.add(alice, room, bob, "member");
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob); WsClient watcher = kit.connect(alice)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            RoomKit.send(a, room, "last words");
            b.awaitMessages(room, 1, T);

            Http.Response r = kit.http().request("DELETE", "/api/rooms/" + room, alice.token(), null);
            assertThat(r.status()).as(r.body()).isEqualTo(204);

            JsonNode deletedAtBob = takenOut(b, 0, room, "room_deleted", null, "room_deleted");
            JsonNode deletedAtAlice = takenOut(a, 0, room, "room_deleted", null, "room_deleted");
            assertThat(deletedAtBob.path("event").path("by").asText()).isEqualTo(alice.name());
            assertThat(deletedAtAlice.path("seq")).isEqualTo(deletedAtBob.path("seq"));

            // gone: for its members as for anyone
            refused(kit.get(bob, "/api/rooms/" + room + "/messages"), 404);
            refused(kit.get(alice, "/api/rooms/" + room + "/messages"), 404);
            refused(kit.get(alice, "/api/rooms/" + room + "/members"), 404);
            refused(kit.get(alice, "/api/rooms/" + room), 404);
            RoomKit.alive(b);
            RoomKit.alive(a);
            RoomKit.noMoreOf(b, room, RoomKit.ofRoom(b, room).size(), "nothing after left");
            assertThat(watcher.isOpen()).isTrue();
        }
    }

    @Test
    void a_room_made_again_under_a_deleted_rooms_name_goes_on_with_the_next_seq_and_holds_nothing_of_the_old_one() {
        User bob = kit.user("bob"), stranger = kit.user("stranger");
        String room = kit.made(alice, RoomKit.room("reborn"), "private");
        kit.add(alice, room, bob, "member");
        try (WsClient a = kit.connect(alice)) {
            RoomKit.join(a, room);
            RoomKit.send(a, room, "private words");
        }
        long last = kit.lastSeq(alice, room);
        assertThat(kit.http().request("DELETE", "/api/rooms/" + room, alice.token(), null).status()).isEqualTo(204);

        // the name is free again, and a room made with it goes on with the next seq
        Http.Response made = kit.createRoom(stranger, room, "public");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        List<JsonNode> fresh = kit.messagesAfter(stranger, room, 0);
        assertThat(kit.members(stranger, room)).doesNotContainKey(bob.name()).doesNotContainKey(alice.name());
        assertThat(fresh).isNotEmpty();
        assertThat(fresh.get(fresh.size() - 1).path("event").path("type").asText()).isEqualTo("room_created");
        assertThat(fresh.get(fresh.size() - 1).path("seq").asLong()).as("the new room's first seq").isEqualTo(last + 2); // after room_deleted
        // "its history ... gone": nothing of the private room before, its room_deleted event included
        assertThat(fresh).as("the history of the new room %s", fresh).hasSize(1);
    }

    @Test
    void an_admin_deletes_a_direct_room_its_users_may_not_and_both_are_taken_out() {
        User bob = kit.user("bob");
        Http.Response d = kit.dm(alice, bob.name());
        assertThat(d.status()).as(d.body()).isEqualTo(201);
        String room = d.json().path("name").asText();
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            RoomKit.send(b, room, "hi alice");
            refused(kit.http().request("DELETE", "/api/rooms/" + room, bob.token(), null), 403);
            refused(kit.http().request("DELETE", "/api/rooms/" + room, alice.token(), null), 403);

            Http.Response r = kit.http().request("DELETE", "/api/rooms/" + room, admin.token(), null);
            assertThat(r.status()).as(r.body()).isEqualTo(204);

            JsonNode event = takenOut(b, 0, room, "room_deleted", null, "room_deleted");
            takenOut(a, 0, room, "room_deleted", null, "room_deleted");
            assertThat(event.path("event").path("by").asText()).isEqualTo(admin.name());
            refused(kit.get(bob, "/api/rooms/" + room + "/messages"), 404);
        }
    }
}
