package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md, "Server API and bots": an administrator makes a bot and its API keys; a bot posts
 * (idempotently, answered like an ack once stored) and reads within its key's scope, and its messages
 * are marked {@code "bot":true} live and in history; keys are listed without the key, rotated and
 * revoked; every refusal. On the embedded H2 here, on PostgreSQL in {@link BotsApiOnPostgresTest}.
 */
class BotsApiTest {
    static final String ADMIN = "bots_admin";
    @RegisterExtension
    static ParleyServer h2 = ParleyServer.create()
            .with(Setting.ADMINS, ADMIN)
            .with(Setting.RATE_LIMIT, "1")
            .with(Setting.RATE_BURST, "5");

    ParleyServer server() {
        return h2;
    }

    private static final Duration WAIT = Duration.ofSeconds(10);

    private Http.Response call(String method, String path, String token, String json) {
        return server().http().request(method, path, token, json);
    }

    private String admin() {
        Http.Response login = server().http().post("/api/auth/login", "{\"username\":\"" + ADMIN + "\",\"password\":\"password-" + ADMIN + "\"}");
        if (login.status() == 200) return login.json().get("token").asText();
        return server().http().register(ADMIN);
    }

    /** A new bot's first key, with the scope asked for ({@code scope}: JSON fields after the name, or ""). */
    private JsonNode bot(String admin, String name, String scope) {
        Http.Response made = call("POST", "/api/admin/bots", admin, "{\"name\":\"" + name + "\"" + scope + "}");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        return made.json();
    }

    private static String post(String text, String clientId) {
        return "{\"text\":\"" + text + "\",\"clientId\":\"" + clientId + "\"}";
    }

    @Test
    void a_bots_post_reaches_members_live_marked_bot_is_in_history_and_a_retry_answers_the_first_copy() {
        String admin = admin();
        String alice = ParleyServer.unique("alice"), ta = server().http().register(alice);
        String botName = ParleyServer.unique("deploybot");
        JsonNode made = bot(admin, botName, "");
        assertThat(made.get("bot").get("name").asText()).isEqualTo(botName);
        assertThat(made.get("bot").get("bot").asBoolean()).isTrue();
        String key = made.get("key").get("key").asText();
        assertThat(key).startsWith("pk_").hasSize(46);
        assertThat(made.get("key").get("prefix").asText()).isEqualTo(key.substring(0, 11));
        assertThat(made.get("key").get("rooms").asText()).isEqualTo("*");
        assertThat(made.get("key").get("actions").toString()).isEqualTo("[\"post\",\"read\"]");

        String room = Rooms.unique("deploys");
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        try (WsClient a = server().connect(ta)) {
            Rooms.join(a, room);
            Http.Response posted = call("POST", "/api/rooms/" + room + "/messages", key, post("v1.2 is out", "d-1"));
            assertThat(posted.status()).as(posted.body()).isEqualTo(201);
            JsonNode ack = posted.json();
            assertThat(ack.get("type").asText()).isEqualTo("ack");
            assertThat(ack.get("room").asText()).isEqualTo(room);
            assertThat(ack.get("clientId").asText()).isEqualTo("d-1");
            assertThat(ack.get("id").asText()).hasSize(26);
            assertThat(ack.has("ts")).isTrue();
            long seq = ack.get("seq").asLong();

            JsonNode live = a.awaitMessages(room, 1, WAIT).get(0);
            assertThat(live.get("from").asText()).isEqualTo(botName);
            assertThat(live.get("text").asText()).isEqualTo("v1.2 is out");
            assertThat(live.get("seq").asLong()).isEqualTo(seq);
            assertThat(live.get("bot").asBoolean()).isTrue();

            // a retry: the first copy's ack, 200, and nothing stored or delivered again
            Http.Response again = call("POST", "/api/rooms/" + room + "/messages", key, post("v1.2 is out", "d-1"));
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.json()).isEqualTo(ack);

            // a user's post with their token: the same path, no bot mark
            Http.Response mine = call("POST", "/api/rooms/" + room + "/messages", ta, post("thanks", "a-1"));
            assertThat(mine.status()).as(mine.body()).isEqualTo(201);
            JsonNode hers = a.awaitMessages(room, 2, WAIT).get(1);
            assertThat(hers.get("from").asText()).isEqualTo(alice);
            assertThat(hers.has("bot")).isFalse();
            assertThat(a.messages(room)).hasSize(2);
        }
        for (String reader : List.of(ta, key)) {
            JsonNode history = server().http().get("/api/rooms/" + room + "/messages", reader).json().get("messages");
            assertThat(history).hasSize(3); // the room's creation, the bot's, alice's
            assertThat(history.get(1).get("from").asText()).isEqualTo(botName);
            assertThat(history.get(1).get("bot").asBoolean()).isTrue();
            assertThat(history.get(2).has("bot")).isFalse();
        }
    }

    @Test
    void keys_are_listed_without_the_key_rotated_and_revoked_and_a_revoked_or_unknown_key_is_401() {
        String admin = admin();
        String botName = ParleyServer.unique("rotor");
        String first = bot(admin, botName, ",\"actions\":[\"read\"]").get("key").get("key").asText();
        assertThat(call("GET", "/api/rooms", first, null).status()).isEqualTo(200); // a first use
        Http.Response second = call("POST", "/api/admin/bots/" + botName + "/keys", admin, "{\"rooms\":[\"lobby\"],\"actions\":[\"post\"]}");
        assertThat(second.status()).as(second.body()).isEqualTo(201);
        String secondKey = second.json().get("key").asText();

        // the first use is noted off the request's way: wait for it rather than race it
        Await.until("the first key's use noted", WAIT, () -> call("GET", "/api/admin/bots/" + botName + "/keys", admin, null).json()
                .get("keys").get(0).get("lastUsedAt").isTextual());
        Http.Response listed = call("GET", "/api/admin/bots/" + botName + "/keys", admin, null);
        assertThat(listed.status()).isEqualTo(200);
        JsonNode keys = listed.json().get("keys");
        assertThat(keys).hasSize(2);
        assertThat(listed.body()).doesNotContain(first).doesNotContain(secondKey);
        assertThat(keys.get(0).get("prefix").asText()).isEqualTo(first.substring(0, 11));
        assertThat(keys.get(0).get("lastUsedAt").isTextual()).isTrue();
        assertThat(keys.get(1).get("rooms").toString()).isEqualTo("[\"lobby\"]");
        assertThat(keys.get(1).get("actions").toString()).isEqualTo("[\"post\"]");
        assertThat(keys.get(1).get("lastUsedAt").isNull()).isTrue();
        assertThat(call("GET", "/api/admin/bots", admin, null).json().get("bots").toString()).contains("\"name\":\"" + botName + "\"");
        // Every GET route answers HEAD too (PROTOCOL.md 3.1): the same status, no body.
        for (String path : List.of("/api/admin/bots", "/api/admin/bots/" + botName + "/keys")) {
            Http.Response head = call("HEAD", path, admin, null);
            assertThat(head.status()).as("HEAD " + path + ": " + head.body()).isEqualTo(200);
            assertThat(head.body()).as("HEAD " + path).isEmpty();
        }

        // rotation: a new key of the same scope at once, the old one refused at once
        String firstId = keys.get(0).get("id").asText();
        Http.Response rotated = call("POST", "/api/admin/bots/" + botName + "/keys/" + firstId + "/rotate", admin, null);
        assertThat(rotated.status()).as(rotated.body()).isEqualTo(201);
        String third = rotated.json().get("key").asText();
        assertThat(rotated.json().get("actions").toString()).isEqualTo("[\"read\"]");
        Http.Response old = call("GET", "/api/rooms", first, null);
        assertThat(old.status()).isEqualTo(401);
        assertThat(old.json().get("error").asText()).isEqualTo("unauthorized");
        assertThat(call("GET", "/api/rooms", third, null).status()).isEqualTo(200);
        assertThat(call("POST", "/api/admin/bots/" + botName + "/keys/" + firstId + "/rotate", admin, null).status()).isEqualTo(404);

        // revocation
        String secondId = second.json().get("id").asText();
        assertThat(call("DELETE", "/api/admin/bots/" + botName + "/keys/" + secondId, admin, null).status()).isEqualTo(204);
        assertThat(call("POST", "/api/rooms/lobby/messages", secondKey, post("hi", "x")).status()).isEqualTo(401);
        assertThat(call("DELETE", "/api/admin/bots/" + botName + "/keys/" + secondId, admin, null).status()).isEqualTo(404);
        assertThat(call("GET", "/api/admin/bots/" + botName + "/keys", admin, null).json().get("keys")).hasSize(1);

        // disabling the bot's account refuses its every key; enabling it gives them back
        assertThat(call("PUT", "/api/admin/users/" + botName + "/disabled", admin, null).status()).isEqualTo(204);
        assertThat(call("GET", "/api/rooms", third, null).status()).isEqualTo(401);
        assertThat(call("DELETE", "/api/admin/users/" + botName + "/disabled", admin, null).status()).isEqualTo(204);
        assertThat(call("GET", "/api/rooms", third, null).status()).isEqualTo(200);

        // the WebSocket takes no key
        assertThat(Http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server().baseUrl() + "/ws?token=" + third)).GET().build()).status())
                .isEqualTo(401);
        // unknown, malformed: 401, and never a JWT's refusal of a parse
        String unknown = "pk_" + "A".repeat(43);
        assertThat(call("GET", "/api/rooms", unknown, null).status()).isEqualTo(401);
        assertThat(call("GET", "/api/rooms", "pk_short", null).status()).isEqualTo(401);
        // nobody logs in as a bot
        assertThat(server().http().post("/api/auth/login", "{\"username\":\"" + botName + "\",\"password\":\"whatever it is\"}").status()).isEqualTo(401);
    }

    @Test
    void only_an_administrator_manages_bots_and_names_keep_the_rules_of_usernames() {
        String admin = admin();
        String alice = ParleyServer.unique("alice"), ta = server().http().register(alice);
        Http.Response byUser = call("POST", "/api/admin/bots", ta, "{\"name\":\"" + ParleyServer.unique("nobot") + "\"}");
        assertThat(byUser.status()).isEqualTo(403);
        assertThat(byUser.json().get("error").asText()).isEqualTo("forbidden");
        assertThat(call("GET", "/api/admin/bots", ta, null).status()).isEqualTo(403);
        assertThat(call("POST", "/api/admin/bots", null, "{\"name\":\"x\"}").status()).isEqualTo(401);

        assertThat(call("POST", "/api/admin/bots", admin, "{\"name\":\"" + alice + "\"}").status()).isEqualTo(409); // taken
        assertThat(call("POST", "/api/admin/bots", admin, "{\"name\":\"" + alice.replace('a', 'а') + "\"}").status()).isIn(400, 409); // Cyrillic а: a look-alike
        assertThat(call("POST", "/api/admin/bots", admin, "{\"name\":\"has space\"}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/admin/bots", admin, "{\"name\":\"" + "b".repeat(65) + "\"}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/admin/bots", admin, "{}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/admin/bots", admin, "{\"name\":\"" + ADMIN + "x\",\"actions\":[\"fly\"]}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/admin/bots", admin, "{\"name\":\"" + ADMIN + "x\",\"actions\":[]}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/admin/bots", admin, "{\"name\":\"" + ADMIN + "x\",\"rooms\":[]}").status()).isEqualTo(400);
        assertThat(call("POST", "/api/admin/bots", admin, "{\"name\":\"" + ADMIN + "x\",\"rooms\":[\"{bad}\"]}").status()).isEqualTo(400);
        assertThat(call("GET", "/api/admin/bots/" + alice + "/keys", admin, null).status()).isEqualTo(404); // a person, not a bot
        assertThat(call("PUT", "/api/admin/bots", admin, "{}").status()).isEqualTo(405);
    }

    @Test
    void a_key_acts_within_its_scope_only_and_a_private_room_it_cannot_see_is_as_no_room() {
        String admin = admin();
        String alice = ParleyServer.unique("alice"), ta = server().http().register(alice);
        String open = Rooms.unique("open"), other = Rooms.unique("other"), hidden = Rooms.unique("hidden"), none = Rooms.unique("none");
        for (String r : List.of(open, other)) assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + r + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + hidden + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        String botName = ParleyServer.unique("scoped");
        String key = bot(admin, botName, ",\"rooms\":[\"" + open + "\",\"" + hidden + "\",\"" + none + "\"],\"actions\":[\"post\"]").get("key").get("key").asText();

        assertThat(call("POST", "/api/rooms/" + open + "/messages", key, post("in scope", "s-1")).status()).isEqualTo(201);
        Http.Response outside = call("POST", "/api/rooms/" + other + "/messages", key, post("out of scope", "s-2"));
        assertThat(outside.status()).isEqualTo(403);
        assertThat(outside.json().get("error").asText()).isEqualTo("forbidden");
        assertThat(call("GET", "/api/rooms/" + open + "/messages", key, null).status()).isEqualTo(403); // no read
        assertThat(call("GET", "/api/rooms", key, null).status()).isEqualTo(403); // across rooms
        assertThat(call("GET", "/api/search?q=scope", key, null).status()).isEqualTo(403);
        assertThat(call("PUT", "/api/rooms/" + open + "/members/" + alice, key, "{}").status()).isEqualTo(403); // no manage
        assertThat(call("POST", "/api/auth/logout", key, null).status()).isEqualTo(403);
        assertThat(call("POST", "/api/dms", key, "{\"user\":\"" + alice + "\"}").status()).isEqualTo(403);
        assertThat(call("GET", "/api/admin/bots", key, null).status()).isEqualTo(403);
        // Dot segments, which the router resolves, do not lead a key out of its rooms or actions.
        Http.Response dotted = call("POST", "/api/rooms/" + open + "/%2e%2e/" + other + "/messages", key, post("out of scope", "s-5"));
        assertThat(dotted.status()).as(dotted.body()).isEqualTo(400);
        assertThat(call("POST", "/api/rooms/" + open + "/x/%2E%2E/messages", key, post("in scope", "s-6")).status()).isEqualTo(400);
        assertThat(call("GET", "/api/rooms/" + open + "/%2e%2e/%2e%2e/search?q=x", key, null).status()).isEqualTo(400);
        assertThat(call("GET", "/api/rooms/" + other + "/messages?after=0", ta, null).body()).as("other's messages").doesNotContain("s-5");
        assertThat(call("GET", "/api/rooms/" + open + "/./messages", ta, null).status()).as("for a user's token too").isEqualTo(400);

        // a private room the bot is no member of answers as a room that does not exist
        Http.Response notSeen = call("POST", "/api/rooms/" + hidden + "/messages", key, post("hello?", "s-3"));
        Http.Response absent = call("POST", "/api/rooms/" + none + "/messages", key, post("hello?", "s-3"));
        assertThat(notSeen.status()).isEqualTo(404);
        assertThat(notSeen.body()).isEqualTo(absent.body().replace(none, hidden));
        // made a member, it may; muted, it may not
        assertThat(call("PUT", "/api/rooms/" + hidden + "/members/" + botName, ta, "{}").status()).isEqualTo(201);
        assertThat(call("POST", "/api/rooms/" + hidden + "/messages", key, post("hello!", "s-3")).status()).isEqualTo(201);
        Http.Response mute = call("PUT", "/api/rooms/" + hidden + "/members/" + botName, ta, "{\"mutedUntil\":\"2099-01-01T00:00:00.000Z\"}");
        assertThat(mute.status()).as(mute.body()).isBetween(200, 201);
        Http.Response muted = call("POST", "/api/rooms/" + hidden + "/messages", key, post("still here", "s-4"));
        assertThat(muted.status()).isEqualTo(403);
        assertThat(muted.json().get("message").asText()).contains("muted");

        // a key that manages, within its rooms, as whatever role the bot has there
        String managerName = ParleyServer.unique("manager");
        String manager = bot(admin, managerName, ",\"rooms\":[\"" + hidden + "\"],\"actions\":[\"manage\",\"read\"]").get("key").get("key").asText();
        assertThat(call("GET", "/api/rooms/" + hidden, manager, null).status()).isEqualTo(404); // no member: nothing to see
        assertThat(call("DELETE", "/api/rooms/" + other, manager, null).status()).isEqualTo(403); // not its room
        assertThat(call("POST", "/api/rooms", manager, "{\"name\":\"" + Rooms.unique("made") + "\",\"visibility\":\"public\"}").status()).isEqualTo(403);
        // Webhooks are no key's routes, whatever its actions: one would send the room's messages anywhere
        // (refused before any route runs: without that, the route would answer 404 here, not a member).
        Http.Response hook = call("POST", "/api/rooms/" + hidden + "/webhooks", manager, "{\"url\":\"https://192.0.2.7/h\",\"events\":[\"message\"]}");
        assertThat(hook.status()).as(hook.body()).isEqualTo(403);
        assertThat(call("GET", "/api/rooms/" + hidden + "/webhooks", manager, null).status()).isEqualTo(403);
        String carol = ParleyServer.unique("carol");
        server().http().register(carol);
        assertThat(call("PUT", "/api/rooms/" + hidden + "/members/" + managerName, ta, "{}").status()).isEqualTo(201);
        assertThat(call("PUT", "/api/rooms/" + hidden + "/members/" + carol, manager, "{}").status()).isEqualTo(403); // a member, no moderator
        assertThat(call("PUT", "/api/rooms/" + hidden + "/members/" + managerName, ta, "{\"role\":\"moderator\"}").status()).isEqualTo(200);
        Http.Response added = call("PUT", "/api/rooms/" + hidden + "/members/" + carol, manager, "{}");
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        assertThat(call("DELETE", "/api/rooms/" + hidden + "/members/" + carol, manager, null).status()).isEqualTo(204);
        assertThat(call("GET", "/api/rooms/" + hidden + "/members", manager, null).status()).isEqualTo(200);
    }

    @Test
    void a_post_keeps_the_limits_of_a_send() {
        String alice = ParleyServer.unique("alice"), ta = server().http().register(alice);
        String bob = ParleyServer.unique("bob"), tb = server().http().register(bob);
        String room = Rooms.unique("limits"), secret = Rooms.unique("secret");
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + secret + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        String path = "/api/rooms/" + room + "/messages";

        int max = server().http().get("/api/limits", null).json().get("maxTextLength").asInt();
        Http.Response tooLong = call("POST", path, tb, post("x".repeat(max + 1), "l-1"));
        assertThat(tooLong.status()).isEqualTo(413);
        assertThat(call("POST", path, tb, post("hi", "")).status()).isEqualTo(400);
        assertThat(call("POST", path, tb, "{\"text\":\"hi\"}").status()).isEqualTo(400);
        assertThat(call("POST", path, tb, "not json").status()).isEqualTo(400);
        assertThat(call("POST", "/api/rooms/%7Bbad%7D/messages", tb, post("hi", "l-2")).status()).isEqualTo(400);
        assertThat(call("POST", path, null, post("hi", "l-3")).status()).isEqualTo(401);
        assertThat(call("POST", "/api/rooms/" + secret + "/messages", tb, post("let me in", "l-4")).status()).isEqualTo(404);
        assertThat(call("PUT", path, tb, post("hi", "l-5")).status()).isEqualTo(405);

        // the send rate (1 a second after a burst of 5 here), per user: bob's are not alice's
        int stored = 0;
        Http.Response last = null;
        for (int i = 0; i < 20; i++) {
            last = call("POST", path, tb, post("n" + i, "r-" + i));
            if (last.status() != 201) break;
            stored++;
        }
        assertThat(last.status()).isEqualTo(429);
        assertThat(last.json().get("error").asText()).isEqualTo("rate_limited");
        assertThat(last.header("Retry-After")).isPresent();
        assertThat(stored).isBetween(1, 19); // the 404 above took one token, as a refused send does
        assertThat(call("POST", path, ta, post("mine", "a-1")).status()).isEqualTo(201);
        Await.until("the bucket refills", WAIT, () -> call("POST", path, tb, post("later", "r-later")).status() == 201);
    }
}
