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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import static dev.parley.rooms.RoomKit.json;
import static dev.parley.rooms.RoomKit.refused;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.3: bad requests about rooms are answered with the status and code the route lists,
 * and change nothing (no event in the room's timeline).
 */
class RoomBadInputTest {
    static final String ADMIN_NAME = ParleyServer.unique("admin");

    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ADMINS, ADMIN_NAME)
            .with(Setting.API_RATE, "0"); // alice sends many bad requests in a second: ApiRateTest has the rate

    static RoomKit kit;
    static User alice, admin, bob;

    @BeforeAll
    static void cast() {
        kit = new RoomKit(server);
        alice = kit.user("alice");
        bob = kit.user("bob");
        admin = new User(ADMIN_NAME, server.http().register(ADMIN_NAME));
    }

    /** A fresh private room of alice's with bob as a member. */
    private static String room() {
        String room = kit.made(alice, RoomKit.room("bad"), "private");
        kit.add(alice, room, bob, "member");
        return room;
    }

    /** Asserts the refusal and that the room's timeline did not move. */
    private static void refusedAndUnchanged(String room, int status, java.util.function.Supplier<Http.Response> call) {
        long before = kit.lastSeq(alice, room);
        Http.Response r = call.get();
        refused(r, status);
        assertThat(kit.lastSeq(alice, room)).as("no event after %s", r.body()).isEqualTo(before);
    }

    // --- making rooms ---

    @Test
    void a_made_room_answers_201_with_the_room_and_starts_with_room_created() {
        String name = RoomKit.room("made");
        Http.Response r = kit.http().request("POST", "/api/rooms", alice.token(), json("name", name, "visibility", "private", "topic", "on call"));

        assertThat(r.status()).as(r.body()).isEqualTo(201);
        assertThat(r.json().path("name").asText()).isEqualTo(name);
        assertThat(r.json().path("kind").asText()).isEqualTo("private");
        assertThat(r.json().path("topic").asText()).isEqualTo("on call");
        assertThat(r.json().path("role").asText()).isEqualTo("owner");
        JsonNode first = kit.messagesAfter(alice, name, 0).get(0);
        assertThat(first.path("seq").asLong()).isEqualTo(1);
        assertThat(first.path("event").path("type").asText()).isEqualTo("room_created");
        assertThat(first.path("event").path("by").asText()).isEqualTo(alice.name());
        assertThat(first.path("event").path("visibility").asText()).isEqualTo("private");
        assertThat(first.path("event").path("topic").asText()).isEqualTo("on call");
    }

    @Test
    void a_taken_name_is_a_409_whatever_kind_took_it_and_whoever_asks() {
        String pub = kit.made(alice, RoomKit.room("taken-pub"), "public");
        String priv = kit.made(alice, RoomKit.room("taken-priv"), "private");
        String joined = RoomKit.room("taken-joined");
        try (WsClient c = kit.connect(bob)) {
            RoomKit.join(c, joined); // made by joining it, as before rooms had kinds
        }
        for (String name : new String[]{pub, priv, joined}) {
            for (String visibility : new String[]{"public", "private"}) {
                refused(kit.createRoom(alice, name, visibility), 409);
                refused(kit.createRoom(bob, name, visibility), 409);
                refused(kit.createRoom(admin, name, visibility), 409);
            }
        }
        assertThat(kit.get(alice, "/api/rooms/" + priv).json().path("kind").asText()).isEqualTo("private");
        assertThat(kit.lastSeq(alice, priv)).as("only room_created").isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"secret", "direct", "Public", "", "PRIVATE"})
    void an_invalid_visibility_is_a_400_and_makes_nothing(String visibility) {
        String name = RoomKit.room("vis");
        refused(kit.createRoom(alice, name, visibility), 400);
        refused(kit.get(alice, "/api/rooms/" + name), 404);
    }

    @Test
    void a_visibility_that_is_not_a_string_a_bad_name_or_a_bad_topic_is_a_400() {
        String name = RoomKit.room("shape");
        refused(kit.http().request("POST", "/api/rooms", alice.token(), json("name", name, "visibility", 1)), 400);
        refused(kit.http().request("POST", "/api/rooms", alice.token(), json("name", "Not A Room", "visibility", "public")), 400);
        refused(kit.http().request("POST", "/api/rooms", alice.token(), json("name", name, "visibility", "public", "topic", "x".repeat(251))), 400);
        refused(kit.http().request("POST", "/api/rooms", alice.token(), json("name", name, "visibility", "public", "topic", "a\u0007b")), 400);
        refused(kit.http().request("POST", "/api/rooms", alice.token(), "[]"), 400);
        refused(kit.get(alice, "/api/rooms/" + name), 404);
        Http.Response longest = kit.http().request("POST", "/api/rooms", alice.token(), json("name", name, "visibility", "public", "topic", "x".repeat(250)));
        assertThat(longest.status()).as("a topic of 250 characters is fine: %s", longest.body()).isEqualTo(201);
    }

    // --- direct rooms ---

    @Test
    void a_direct_room_with_yourself_is_a_400_and_with_an_unknown_user_a_404() {
        refused(kit.dm(alice, alice.name()), 400);
        refused(kit.dm(alice, alice.name().toUpperCase(java.util.Locale.ROOT)), 400); // usernames are one in any letter case
        refused(kit.dm(alice, ParleyServer.unique("nobody")), 404);
        refused(kit.dm(alice, "not a user!"), 400);
        refused(kit.http().request("POST", "/api/dms", alice.token(), "{}"), 400);
        refused(kit.http().request("POST", "/api/dms", alice.token(), json("user", 7)), 400);
    }

    @Test
    void a_direct_room_is_the_same_room_whoever_asks_first() {
        User carol = kit.user("carol");
        Http.Response first = kit.dm(alice, carol.name());
        Http.Response again = kit.dm(alice, carol.name());
        Http.Response other = kit.dm(carol, alice.name());

        assertThat(first.status()).as(first.body()).isEqualTo(201);
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        assertThat(other.status()).as(other.body()).isEqualTo(200);
        String name = first.json().path("name").asText();
        assertThat(name).matches("dm-[a-z0-9]{26}");
        assertThat(again.json().path("name").asText()).isEqualTo(name);
        assertThat(other.json().path("name").asText()).isEqualTo(name);
        assertThat(first.json().path("kind").asText()).isEqualTo("direct");
        assertThat(first.json().path("with").asText()).isEqualTo(carol.name());
        assertThat(other.json().path("with").asText()).isEqualTo(alice.name());
        // "the name is taken" (409) for a direct room's name, and "a room of that form cannot be made" (400): either
        Http.Response taken = kit.createRoom(alice, name, "public");
        assertThat(taken.status()).as(taken.body()).isIn(400, 409);
        refused(taken, taken.status());
    }

    @Test
    void a_direct_room_with_or_an_invitation_of_a_deleted_account_is_a_404() {
        User gone = kit.user("gone");
        Http.Response deleted = kit.http().request("DELETE", "/api/auth/account", gone.token(), json("password", "password-" + gone.name()));
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(204);
        String room = room();

        refused(kit.dm(alice, gone.name()), 404);
        refusedAndUnchanged(room, 404, () -> kit.putMember(alice, room, gone.name(), json("role", "member")));
    }

    // --- members ---

    @Test
    void inviting_an_unknown_user_is_a_404() {
        String room = room();
        refusedAndUnchanged(room, 404, () -> kit.putMember(alice, room, ParleyServer.unique("nobody"), json("role", "member")));
    }

    @Test
    void inviting_a_banned_user_is_a_409_until_the_ban_is_lifted() {
        String room = room();
        User carol = kit.user("carol");
        kit.ban(alice, room, carol);

        refusedAndUnchanged(room, 409, () -> kit.putMember(alice, room, carol.name(), json("role", "member")));
        refusedAndUnchanged(room, 409, () -> kit.putMember(alice, room, carol.name(), json("role", "moderator")));
        refusedAndUnchanged(room, 409, () -> kit.putMember(admin, room, carol.name(), json("role", "member")));
        assertThat(kit.deleteBan(alice, room, carol.name()).status()).isEqualTo(204);
        assertThat(kit.putMember(alice, room, carol.name(), json("role", "member")).status()).isEqualTo(201);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"role\":\"admin\"}", "{\"role\":\"Owner\"}", "{\"role\":\"\"}", "{\"role\":\"banned\"}", "{\"role\":7}"})
    void a_role_that_does_not_exist_is_a_400(String body) {
        String room = room();
        User carol = kit.user("carol");
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, bob.name(), body));
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, carol.name(), body));
        assertThat(kit.members(alice, room)).doesNotContainKey(carol.name()).containsEntry(bob.name(), "member");
    }

    @Test
    void a_malformed_body_is_a_400() {
        String room = room();
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, bob.name(), "[]"));
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, bob.name(), "not json"));
    }

    @Test
    void a_muted_until_in_the_past_or_not_a_timestamp_is_a_400() {
        String room = room();
        String past = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, bob.name(), json("mutedUntil", past)));
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, bob.name(), json("mutedUntil", "tomorrow")));
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, bob.name(), json("mutedUntil", 1_900_000_000)));
        assertThat(kit.get(alice, "/api/rooms/" + room + "/members").json().toString()).doesNotContain(past);
    }

    @Test
    void the_owner_cannot_demote_mute_or_remove_themselves_nor_leave() {
        String room = room();
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, alice.name(), json("role", "member")));
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, alice.name(), json("role", "moderator")));
        refusedAndUnchanged(room, 400, () -> kit.putMember(alice, room, alice.name(), json("mutedUntil", RoomKit.inFuture(3600))));
        refusedAndUnchanged(room, 400, () -> kit.deleteMember(alice, room, alice.name()));
        assertThat(kit.members(alice, room)).containsEntry(alice.name(), "owner");
    }

    @Test
    void banning_the_owner_or_yourself_is_a_400() {
        String room = room();
        refusedAndUnchanged(room, 400, () -> kit.putBan(admin, room, alice.name(), json("reason", "coup")));
        refusedAndUnchanged(room, 400, () -> kit.putBan(alice, room, alice.name(), json("reason", "oops")));
        assertThat(kit.members(alice, room)).containsEntry(alice.name(), "owner");
    }

    @Test
    void a_ban_with_a_bad_until_or_reason_is_a_400() {
        String room = room();
        String past = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
        refusedAndUnchanged(room, 400, () -> kit.putBan(alice, room, bob.name(), json("until", past)));
        refusedAndUnchanged(room, 400, () -> kit.putBan(alice, room, bob.name(), json("until", "soon")));
        refusedAndUnchanged(room, 400, () -> kit.putBan(alice, room, bob.name(), json("reason", "x".repeat(251))));
        refusedAndUnchanged(room, 400, () -> kit.putBan(alice, room, bob.name(), json("reason", 5)));
        assertThat(kit.members(alice, room)).containsEntry(bob.name(), "member");
    }

    @Test
    void unknown_users_missing_bans_and_non_members_are_404s() {
        String room = room();
        User carol = kit.user("carol");
        refusedAndUnchanged(room, 404, () -> kit.putBan(alice, room, ParleyServer.unique("nobody"), "{}"));
        refusedAndUnchanged(room, 404, () -> kit.deleteBan(alice, room, bob.name()));
        refusedAndUnchanged(room, 404, () -> kit.deleteMember(alice, room, carol.name()));
        refusedAndUnchanged(room, 404, () -> kit.deleteMember(alice, room, ParleyServer.unique("nobody")));
        String ghost = RoomKit.room("ghost");
        refused(kit.putMember(alice, ghost, bob.name(), json("role", "member")), 404);
        refused(kit.putBan(alice, ghost, bob.name(), "{}"), 404);
        refused(kit.http().request("DELETE", "/api/rooms/" + ghost, alice.token(), null), 404);
        refused(kit.get(alice, "/api/rooms/" + ghost + "/bans"), 404);
    }

    @Test
    void a_request_that_changes_nothing_answers_200_and_adds_no_event() {
        String room = room();
        long before = kit.lastSeq(alice, room);
        Http.Response r = kit.putMember(alice, room, bob.name(), json("role", "member"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Http.Response u = kit.putMember(alice, room, bob.name(), "{\"mutedUntil\":null}");
        assertThat(u.status()).as(u.body()).isEqualTo(200);
        assertThat(kit.lastSeq(alice, room)).isEqualTo(before);
    }

    @Test
    void bad_paging_of_rooms_and_members_is_a_400() {
        String room = room();
        refused(kit.get(alice, "/api/rooms?kind=secret"), 400);
        refused(kit.get(alice, "/api/rooms?limit=0"), 400);
        refused(kit.get(alice, "/api/rooms?limit=501"), 400);
        refused(kit.get(alice, "/api/rooms/" + room + "/members?limit=0"), 400);
        refused(kit.get(alice, "/api/rooms/" + room + "/members?limit=501"), 400);
        refused(kit.get(alice, "/api/rooms/" + room + "/members?limit=x"), 400);
    }

    @Test
    void bans_are_paged_like_members_and_a_bad_limit_or_cursor_is_refused() {
        String room = room();
        List<String> banned = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            User u = kit.user("banned" + i);
            kit.ban(alice, room, u);
            banned.add(u.name());
        }
        java.util.Collections.sort(banned, String.CASE_INSENSITIVE_ORDER);
        JsonNode first = kit.get(alice, "/api/rooms/" + room + "/bans?limit=5").json();
        assertThat(first.get("bans")).hasSize(5);
        assertThat(first.get("next").asText()).isEqualTo(banned.get(4));
        JsonNode second = kit.get(alice, "/api/rooms/" + room + "/bans?limit=5&cursor=" + first.get("next").asText()).json();
        assertThat(second.get("bans")).hasSize(1);
        assertThat(second.get("bans").get(0).get("user").asText()).isEqualTo(banned.get(5));
        assertThat(second.get("next").isNull()).isTrue();
        assertThat(kit.get(alice, "/api/rooms/" + room + "/bans").json().get("bans")).as("the default page").hasSize(6);
        refused(kit.get(alice, "/api/rooms/" + room + "/bans?limit=501"), 400);
        refused(kit.get(alice, "/api/rooms/" + room + "/bans?limit=0"), 400);
        refused(kit.get(alice, "/api/rooms/" + room + "/bans?cursor=" + "x".repeat(65)), 400);
    }
}
