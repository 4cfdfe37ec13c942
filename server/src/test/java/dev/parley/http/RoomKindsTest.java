package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.3 and 9.10: private and direct rooms, members, bans and mutes, and their events in
 * the timeline; on the embedded H2 here, and on PostgreSQL in {@link RoomKindsOnPostgresTest}.
 */
class RoomKindsTest {
    @RegisterExtension
    static ParleyServer h2 = ParleyServer.create();

    /** The server the tests run against. */
    ParleyServer server() {
        return h2;
    }

    private static final Duration WAIT = Duration.ofSeconds(10);

    private Http.Response call(String method, String path, String token, String json) {
        return server().http().request(method, path, token, json);
    }

    private static List<String> names(JsonNode rooms) {
        List<String> out = new ArrayList<>();
        rooms.forEach(r -> out.add(r.get("name").asText()));
        return out;
    }

    @Test
    void a_private_room_is_invisible_to_non_members_until_they_are_added_and_again_once_removed() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server().http().register(alice), tb = server().http().register(bob);
        String room = Rooms.unique("secret");

        Http.Response made = call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"private\",\"topic\":\"plans\"}");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        assertThat(made.json().get("role").asText()).isEqualTo("owner");
        assertThat(made.json().get("kind").asText()).isEqualTo("private");

        // bob learns nothing: the same answer as for a name nobody took
        String none = Rooms.unique("nothing");
        for (String path : new String[]{"/messages", "/presence", "/members", ""}) {
            Http.Response hidden = server().http().get("/api/rooms/" + room + path, tb);
            Http.Response absent = server().http().get("/api/rooms/" + none + path, tb);
            assertThat(hidden.status()).as(path).isEqualTo(404);
            assertThat(hidden.body()).as(path).isEqualTo(absent.body().replace(none, room));
        }
        assertThat(names(server().http().get("/api/rooms?prefix=" + room, tb).json())).isEmpty();
        assertThat(call("POST", "/api/rooms", tb, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(409);

        try (WsClient b = server().connect(tb); WsClient a = server().connect(ta)) {
            b.send("type", "join", "room", room, "ref", "j0");
            assertThat(b.await("error", "j0").get("code").asText()).isEqualTo("forbidden");

            Http.Response added = call("PUT", "/api/rooms/" + room + "/members/" + bob, ta, "{}");
            assertThat(added.status()).as(added.body()).isEqualTo(201);
            assertThat(server().http().get("/api/rooms?prefix=" + room, tb).json().get(0).get("role").asText()).isEqualTo("member");

            Rooms.join(a, room);
            b.send("type", "join", "room", room, "since", 0, "ref", "j1");
            b.await("joined", "j1");
            List<JsonNode> replay = b.awaitMessages(room, 2, WAIT);
            assertThat(replay.get(0).get("event").get("type").asText()).isEqualTo("room_created");
            assertThat(replay.get(1).get("event").get("type").asText()).isEqualTo("member_added");
            assertThat(replay.get(1).get("event").get("user").asText()).isEqualTo(bob);

            Rooms.post(a, room, 1);
            b.awaitMessages(room, 3, WAIT);

            assertThat(call("DELETE", "/api/rooms/" + room + "/members/" + bob, ta, null).status()).isEqualTo(204);
            JsonNode left = b.await(f -> "left".equals(f.path("type").asText()) && room.equals(f.path("room").asText()), WAIT, "left");
            assertThat(left.get("reason").asText()).isEqualTo("removed");
            List<JsonNode> all = b.messages(room);
            assertThat(all.get(all.size() - 1).get("event").get("type").asText()).isEqualTo("member_removed");

            // nothing more of the room reaches bob, and his sends are refused
            Rooms.post(a, room, 1);
            b.send("type", "send", "room", room, "text", "still here?", "clientId", "b-1", "ref", "s1");
            assertThat(b.await("error", "s1").get("code").asText()).isEqualTo("not_joined");
            assertThat(b.messages(room)).hasSize(all.size());
            assertThat(server().http().get("/api/rooms/" + room + "/messages", tb).status()).isEqualTo(404);
        }
    }

    @Test
    void a_direct_room_is_the_same_for_the_pair_whoever_asks_and_is_listed_with_the_other_user() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server().http().register(alice), tb = server().http().register(bob);

        Http.Response first = call("POST", "/api/dms", ta, "{\"user\":\"" + bob.toUpperCase() + "\"}");
        Http.Response again = call("POST", "/api/dms", tb, "{\"user\":\"" + alice + "\"}");

        assertThat(first.status()).as(first.body()).isEqualTo(201);
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        String name = first.json().get("name").asText();
        assertThat(again.json().get("name").asText()).isEqualTo(name);
        assertThat(first.json().get("with").asText()).isEqualTo(bob);
        assertThat(again.json().get("with").asText()).isEqualTo(alice);
        assertThat(names(server().http().get("/api/rooms?kind=direct", ta).json())).contains(name);
        assertThat(call("POST", "/api/dms", ta, "{\"user\":\"" + alice + "\"}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/dms", ta, "{\"user\":\"nobody_" + System.nanoTime() + "\"}").status()).isEqualTo(404);
        String carol = server().newUser("carol");
        assertThat(server().http().get("/api/rooms/" + name + "/messages", carol).status()).isEqualTo(404);
    }

    @Test
    void a_ban_takes_the_user_out_of_a_public_room_at_once_and_keeps_them_out_until_lifted() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server().http().register(alice), tb = server().http().register(bob);
        String room = Rooms.unique("town");
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);

        try (WsClient b = server().connect(tb)) {
            Rooms.join(b, room);
            Http.Response ban = call("PUT", "/api/rooms/" + room + "/bans/" + bob, ta, "{\"reason\":\"spam\"}");
            assertThat(ban.status()).as(ban.body()).isEqualTo(204);
            JsonNode left = b.await("left");
            assertThat(left.get("reason").asText()).isEqualTo("banned");
            JsonNode event = b.messages(room).get(b.messages(room).size() - 1).get("event");
            assertThat(event.get("type").asText()).isEqualTo("banned");
            assertThat(event.get("reason").asText()).isEqualTo("spam");

            b.send("type", "join", "room", room, "ref", "j2");
            JsonNode refused = b.await("error", "j2");
            assertThat(refused.get("code").asText()).isEqualTo("forbidden");
            assertThat(refused.get("message").asText()).contains("banned");
            assertThat(server().http().get("/api/rooms/" + room + "/bans", ta).json().get("bans").get(0).get("user").asText()).isEqualTo(bob);

            assertThat(call("DELETE", "/api/rooms/" + room + "/bans/" + bob, ta, null).status()).isEqualTo(204);
            Rooms.join(b, room);
        }
        assertThat(call("PUT", "/api/rooms/" + room + "/bans/" + alice, tb, "{}").status()).as("a non-member bans the owner").isEqualTo(403);
        assertThat(call("PUT", "/api/rooms/" + room + "/members/" + alice, ta, "{\"role\":\"member\"}").status()).as("the owner demotes herself").isEqualTo(400);
        assertThat(call("PUT", "/api/rooms/" + room + "/members/" + bob, ta, "{\"role\":\"king\"}").status()).isEqualTo(400);
    }

    @Test
    void a_muted_member_reads_but_cannot_send_until_unmuted_and_a_pipelined_send_does_not_slip_through() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server().http().register(alice), tb = server().http().register(bob);
        String room = Rooms.unique("quiet");
        call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}");
        call("PUT", "/api/rooms/" + room + "/members/" + bob, ta, "{}");
        String until = Instant.now().plusSeconds(3600).toString();
        Http.Response muted = call("PUT", "/api/rooms/" + room + "/members/" + bob, ta, "{\"mutedUntil\":\"" + until + "\"}");
        assertThat(muted.status()).as(muted.body()).isEqualTo(200);
        assertThat(muted.json().get("mutedUntil").isNull()).isFalse();

        try (WsClient b = server().connect(tb)) {
            b.send("type", "join", "room", room, "ref", "j");
            b.send("type", "send", "room", room, "text", "let me", "clientId", "m-1", "ref", "s1");
            assertThat(b.await("error", "s1").get("code").asText()).isEqualTo("forbidden");

            assertThat(call("PUT", "/api/rooms/" + room + "/members/" + bob, ta, "{\"mutedUntil\":null}").status()).isEqualTo(200);
            b.await(f -> f.path("event").path("type").asText().equals("unmuted"), WAIT, "the unmute");
            b.send("type", "send", "room", room, "text", "thanks", "clientId", "m-2", "ref", "s2");
            b.await("ack", "s2");
        }
        List<JsonNode> history = new ArrayList<>();
        server().http().get("/api/rooms/" + room + "/messages", ta).json().get("messages").forEach(history::add);
        assertThat(history).extracting(m -> m.get("text").asText()).doesNotContain("let me").contains("thanks");
        for (int i = 0; i < history.size(); i++) assertThat(history.get(i).get("seq").asLong()).isEqualTo(i + 1);
    }

    @Test
    void the_room_list_is_paged_by_name_with_a_link_to_the_next_page() {
        String t = server().newUser("lister");
        String prefix = Rooms.unique("paged");
        for (int i = 0; i < 5; i++) assertThat(call("POST", "/api/rooms", t, "{\"name\":\"" + prefix + "-" + i + "\",\"visibility\":\"" + (i % 2 == 0 ? "public" : "private") + "\"}").status()).isEqualTo(201);

        List<String> seen = new ArrayList<>();
        String next = "/api/rooms?limit=2&prefix=" + prefix;
        int pages = 0;
        while (next != null) {
            Http.Response page = server().http().get(next, t);
            assertThat(page.status()).isEqualTo(200);
            seen.addAll(names(page.json()));
            next = page.header("link").map(l -> l.substring(l.indexOf('<') + 1, l.indexOf('>'))).orElse(null);
            pages++;
        }
        assertThat(pages).isEqualTo(3);
        assertThat(seen).containsExactly(prefix + "-0", prefix + "-1", prefix + "-2", prefix + "-3", prefix + "-4");
        String other = server().newUser("other");
        assertThat(names(server().http().get("/api/rooms?prefix=" + prefix, other).json())).containsExactly(prefix + "-0", prefix + "-2", prefix + "-4");
    }

    @Test
    void a_deleted_room_takes_its_members_out_is_gone_for_everyone_and_its_name_can_be_taken_again_with_the_seqs_going_on() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server().http().register(alice), tb = server().http().register(bob);
        String room = Rooms.unique("doomed");
        call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}");
        call("PUT", "/api/rooms/" + room + "/members/" + bob, ta, "{}");
        try (WsClient b = server().connect(tb)) {
            Rooms.join(b, room);
            assertThat(call("DELETE", "/api/rooms/" + room, tb, null).status()).as("a member may not").isEqualTo(403);
            assertThat(call("DELETE", "/api/rooms/" + room, ta, null).status()).isEqualTo(204);
            assertThat(b.await("left").get("reason").asText()).isEqualTo("room_deleted");
            assertThat(b.messages(room).get(b.messages(room).size() - 1).get("event").get("type").asText()).isEqualTo("room_deleted");
        }
        assertThat(server().http().get("/api/rooms/" + room + "/messages", ta).status()).isEqualTo(404);
        assertThat(names(server().http().get("/api/rooms?prefix=" + room, ta).json())).isEmpty();

        Http.Response again = call("POST", "/api/rooms", tb, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}");
        assertThat(again.status()).as(again.body()).isEqualTo(201);
        assertThat(again.json().get("lastSeq").asLong()).as("room_created, member_added, room_deleted, then this room_created").isEqualTo(4);
        JsonNode history = server().http().get("/api/rooms/" + room + "/messages?after=0", ta).json().get("messages");
        assertThat(history).hasSize(1);
        assertThat(history.get(0).get("event").get("by").asText()).isEqualTo(bob);
    }
}
