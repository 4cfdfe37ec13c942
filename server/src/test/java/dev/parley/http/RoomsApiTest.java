package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.auth.TokenService;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 1: the room list, presence, and the bearer token every /api route but auth needs. */
class RoomsApiTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"/api/rooms", "/api/rooms/lobby/messages", "/api/rooms/lobby/messages?limit=5",
            "/api/rooms/lobby/presence", "/api/rooms/Not%20A%20Room/messages", "/api/no-such-route"})
    void every_api_route_but_register_and_login_answers_401_without_a_valid_bearer_token(String path) {
        String user = ParleyServer.unique("owner");
        List<Http.Response> answers = new ArrayList<>();
        answers.add(server.http().get(path, null));
        answers.add(server.http().get(path, "not-a-jwt"));
        answers.add(server.http().get(path, TokenService.hs256("another-secret-0123456789-0123456789-xyz", Duration.ofHours(1))
                .issue(user).token()));
        answers.add(server.http().get(path, TokenService.hs256(ParleyServer.SECRET, Duration.ofHours(1))
                .issue(user, Instant.now().minusSeconds(5)).token()));
        String valid = server.http().register(user);
        answers.add(Http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).header("Authorization", "Basic " + valid).build()));
        answers.add(Http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path + (path.contains("?") ? "&" : "?") + "token=" + valid)).build()));

        for (Http.Response r : answers) {
            assertThat(r.status()).as(r.body()).isEqualTo(401);
            assertThat(r.json().get("error").asText()).isEqualTo("unauthorized");
        }
    }

    @Test
    void rooms_lists_every_room_with_its_last_seq_and_the_count_of_users_online() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String busy = Rooms.unique("busy"), quiet = Rooms.unique("quiet");
        try (WsClient a = server.connect(ta); WsClient a2 = server.connect(ta); WsClient b = server.connect(tb)) {
            Rooms.join(a, busy);
            Rooms.join(a2, busy); // the same user twice counts once
            Rooms.join(b, busy);
            Rooms.join(b, quiet);
            Rooms.post(a, busy, 3);
            b.send("type", "leave", "room", quiet, "ref", "l");
            b.await("left", "l");

            Http.Response r = server.http().get("/api/rooms", ta);

            assertThat(r.status()).isEqualTo(200);
            assertThat(room(r.json(), busy).get("lastSeq").asLong()).isEqualTo(3);
            assertThat(room(r.json(), busy).get("online").asInt()).isEqualTo(2);
            assertThat(room(r.json(), quiet).get("lastSeq").asLong()).isZero();
            assertThat(room(r.json(), quiet).get("online").asInt()).isZero();
        }
    }

    @Test
    void an_unchanged_room_list_is_a_304_to_its_etag_and_a_change_gives_a_new_one() {
        String token = server.newUser("poller");
        String room = Rooms.unique("etag");
        Http.Response first = server.http().get("/api/rooms?prefix=" + room, token);
        String tag = first.header("ETag").orElseThrow();
        assertThat(first.header("Cache-Control")).hasValue("private, no-cache");

        Http.Response again = Http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/api/rooms?prefix=" + room))
                .header("Authorization", "Bearer " + token).header("If-None-Match", tag).build());
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        assertThat(again.header("ETag")).hasValue(tag);

        try (WsClient c = server.connect(token)) {
            Rooms.join(c, room); // a new room, and someone online in it: another list
            Http.Response changed = Http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/api/rooms?prefix=" + room))
                    .header("Authorization", "Bearer " + token).header("If-None-Match", tag).build());
            assertThat(changed.status()).isEqualTo(200);
            assertThat(changed.header("ETag")).isPresent().get().isNotEqualTo(tag);
            assertThat(room(changed.json(), room).get("online").asInt()).isEqualTo(1);
        }
    }

    private static JsonNode room(JsonNode rooms, String name) {
        assertThat(rooms.isArray()).isTrue();
        return StreamSupport.stream(rooms.spliterator(), false).filter(n -> name.equals(n.path("name").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no room " + name + " in " + rooms));
    }

    @Test
    void presence_lists_the_users_online_in_a_room_and_forgets_those_who_left() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String room = Rooms.unique("here");
        try (WsClient a = server.connect(ta)) {
            Rooms.join(a, room);
            try (WsClient b = server.connect(tb)) {
                Rooms.join(b, room);

                JsonNode both = server.http().get("/api/rooms/" + room + "/presence", ta).json();
                assertThat(both.get("room").asText()).isEqualTo(room);
                assertThat(both.get("users")).extracting(JsonNode::asText).containsExactlyInAnyOrder(alice, bob);
            }
            awaitPresence(ta, room, List.of(alice));
        }
    }

    @Test
    void presence_is_paged_by_username_and_a_bad_limit_or_cursor_is_a_400() {
        String room = Rooms.unique("crowd");
        List<String> names = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        List<WsClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                String name = ParleyServer.unique("p" + i);
                names.add(name);
                tokens.add(server.http().register(name));
                WsClient c = server.connect(tokens.get(i));
                clients.add(c);
                Rooms.join(c, room);
            }
            java.util.Collections.sort(names);
            String token = tokens.get(0), path = "/api/rooms/" + room + "/presence";
            awaitPresence(token, room, names); // no limit: everyone, as before paging (up to 1,000)
            assertThat(server.http().get(path, token).json().get("next").isNull()).isTrue();

            List<String> walked = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                JsonNode page = server.http().get(path + "?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), token).json();
                assertThat(page.get("users").size()).isBetween(1, 2);
                page.get("users").forEach(u -> walked.add(u.asText()));
                cursor = page.get("next").isNull() ? null : page.get("next").asText();
                pages++;
            } while (cursor != null);
            assertThat(walked).isEqualTo(names);
            assertThat(pages).isEqualTo(3);

            for (String query : new String[]{"?limit=0", "?limit=1001", "?limit=x", "?cursor="}) {
                Http.Response bad = server.http().get(path + query, token);
                assertThat(bad.status()).as(query).isEqualTo(400);
                assertThat(bad.json().get("error").asText()).isEqualTo("bad_request");
            }
        } finally {
            clients.forEach(WsClient::close);
        }
    }

    @Test
    void presence_of_an_unknown_room_is_a_404_and_of_an_invalid_name_a_400() {
        String token = server.newUser("viewer");

        Http.Response unknown = server.http().get("/api/rooms/" + Rooms.unique("never") + "/presence", token);
        Http.Response invalid = server.http().get("/api/rooms/NOT_LOWER/presence", token);

        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("error").asText()).isEqualTo("not_found");
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().get("error").asText()).isEqualTo("bad_request");
    }

    /** Waits for the presence route to show exactly these users. */
    private static void awaitPresence(String token, String room, List<String> users) {
        Await.until("presence of " + room + " to be " + users, Duration.ofSeconds(15), () -> {
            List<String> now = new ArrayList<>();
            server.http().get("/api/rooms/" + room + "/presence", token).json().get("users").forEach(u -> now.add(u.asText()));
            return now.equals(users);
        });
    }
}
