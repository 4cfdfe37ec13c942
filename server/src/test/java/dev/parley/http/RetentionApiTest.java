package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.3, retention: who may set a room's retention and what is refused, and what clients see
 * once the sweep has cut a room's history (joined, history pages, the room); on the embedded H2 here,
 * on PostgreSQL in {@link RetentionApiOnPostgresTest}. The server keeps messages a year at most and a
 * million a room, the most a room may set.
 */
class RetentionApiTest {
    /** An administrator of both servers (CHAT_ADMINS), registered by the test that needs it. */
    static final String ADMIN = "retention_admin";
    @RegisterExtension
    static ParleyServer h2 = ParleyServer.create()
            .with(Setting.ADMINS, ADMIN)
            .with(Setting.RETENTION_DAYS, "365")
            .with(Setting.RETENTION_MESSAGES, "1000000");

    ParleyServer server() {
        return h2;
    }

    private static final Duration WAIT = Duration.ofSeconds(10);

    private Http.Response call(String method, String path, String token, String json) {
        return server().http().request(method, path, token, json);
    }

    @Test
    void the_owner_sets_it_members_see_it_in_the_timeline_and_the_room_and_the_limits_show_it() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server().http().register(alice), tb = server().http().register(bob);
        String room = Rooms.unique("kept");
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        assertThat(call("PUT", "/api/rooms/" + room + "/members/" + bob, ta, "{}").status()).isEqualTo(201);
        JsonNode fresh = server().http().get("/api/rooms/" + room, tb).json();
        assertThat(fresh.get("historyStart").asLong()).isEqualTo(1);
        assertThat(fresh.get("retention").toString()).isEqualTo("{\"days\":null,\"messages\":null}");
        JsonNode limits = server().http().get("/api/limits", null).json();
        assertThat(limits.get("retentionDays").asInt()).isEqualTo(365);
        assertThat(limits.get("retentionMessages").asLong()).isEqualTo(1_000_000);

        try (WsClient b = server().connect(tb)) {
            Rooms.join(b, room);
            Http.Response set = call("PUT", "/api/rooms/" + room + "/retention", ta, "{\"days\":30,\"messages\":5000}");
            assertThat(set.status()).as(set.body()).isEqualTo(200);
            assertThat(set.json().toString()).isEqualTo("{\"room\":\"" + room + "\",\"days\":30,\"messages\":5000}");
            JsonNode event = b.awaitMessages(room, 1, WAIT).get(0);
            assertThat(event.get("event").toString()).isEqualTo("{\"type\":\"retention_set\",\"by\":\"" + alice + "\",\"days\":30,\"messages\":5000}");
            assertThat(event.get("text").asText()).isEqualTo(alice + " set how long the room keeps messages: 30 days, the newest 5000 messages");
            assertThat(server().http().get("/api/rooms/" + room, tb).json().get("retention").toString()).isEqualTo("{\"days\":30,\"messages\":5000}");

            // the same again changes nothing and says nothing; {} goes back to the server's default
            assertThat(call("PUT", "/api/rooms/" + room + "/retention", ta, "{\"days\":30,\"messages\":5000}").status()).isEqualTo(200);
            assertThat(call("PUT", "/api/rooms/" + room + "/retention", ta, "{}").json().toString())
                    .isEqualTo("{\"room\":\"" + room + "\",\"days\":null,\"messages\":null}");
            List<JsonNode> events = b.awaitMessages(room, 2, WAIT);
            assertThat(events.get(1).get("event").toString()).isEqualTo("{\"type\":\"retention_set\",\"by\":\"" + alice + "\"}");
            assertThat(events.get(1).get("text").asText()).endsWith("keeps messages: the server's default");
            assertThat(b.messages(room)).hasSize(2);
        }
    }

    @Test
    void a_member_may_not_set_it_and_a_non_member_of_a_private_room_learns_nothing() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob"), carol = ParleyServer.unique("carol");
        String ta = server().http().register(alice), tb = server().http().register(bob), tc = server().http().register(carol);
        String room = Rooms.unique("guarded"), none = Rooms.unique("nothing");
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        assertThat(call("PUT", "/api/rooms/" + room + "/members/" + bob, ta, "{\"role\":\"moderator\"}").status()).isEqualTo(201);

        Http.Response moderator = call("PUT", "/api/rooms/" + room + "/retention", tb, "{\"days\":1}");
        assertThat(moderator.status()).isEqualTo(403);
        assertThat(moderator.json().get("error").asText()).isEqualTo("forbidden");
        Http.Response hidden = call("PUT", "/api/rooms/" + room + "/retention", tc, "{\"days\":1}");
        Http.Response absent = call("PUT", "/api/rooms/" + none + "/retention", tc, "{\"days\":1}");
        assertThat(hidden.status()).isEqualTo(404);
        assertThat(hidden.body()).isEqualTo(absent.body().replace(none, room));
        assertThat(server().http().get("/api/rooms/" + room, ta).json().get("retention").toString()).isEqualTo("{\"days\":null,\"messages\":null}");

        // an administrator may, as they may delete it, though no member
        String admin = server().http().register(ADMIN);
        Http.Response byAdmin = call("PUT", "/api/rooms/" + room + "/retention", admin, "{\"messages\":100}");
        assertThat(byAdmin.status()).as(byAdmin.body()).isEqualTo(200);
        assertThat(server().http().get("/api/rooms/" + room, ta).json().get("retention").toString()).isEqualTo("{\"days\":null,\"messages\":100}");

        // nobody sets a direct room's: the server's default applies
        Http.Response dm = call("POST", "/api/dms", ta, "{\"user\":\"" + carol + "\"}");
        assertThat(dm.status()).isEqualTo(201);
        assertThat(call("PUT", "/api/rooms/" + dm.json().get("name").asText() + "/retention", ta, "{\"days\":1}").status()).isEqualTo(403);

        // a public room made by a join has no owner: its members may not set it either
        String open = Rooms.unique("open");
        try (WsClient b = server().connect(tb)) {
            Rooms.join(b, open);
        }
        assertThat(call("PUT", "/api/rooms/" + open + "/retention", tb, "{\"days\":1}").status()).isEqualTo(403);
        assertThat(call("PUT", "/api/rooms/" + open + "/retention", null, "{\"days\":1}").status()).isEqualTo(401);
        assertThat(call("GET", "/api/rooms/" + open + "/retention", tb, null).status()).isEqualTo(405);
    }

    @Test
    void settings_that_make_no_sense_are_refused_with_bad_request_and_change_nothing() {
        String ta = server().newUser("alice");
        String room = Rooms.unique("odd");
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        String[] bad = {
                "{\"days\":0}", "{\"days\":-1}", "{\"days\":366}", "{\"days\":1.5}", "{\"days\":\"30\"}", "{\"days\":true}",
                "{\"messages\":0}", "{\"messages\":-5}", "{\"messages\":1000001}", "{\"messages\":123456789012345678901234567890}",
                "{\"messages\":[1]}", "[]", "not json"};
        for (String body : bad) {
            Http.Response r = call("PUT", "/api/rooms/" + room + "/retention", ta, body);
            assertThat(r.status()).as(body).isEqualTo(400);
            assertThat(r.json().get("error").asText()).as(body).isEqualTo("bad_request");
        }
        assertThat(call("PUT", "/api/rooms/" + room + "/retention", ta, "{\"days\":366}").json().get("message").asText())
                .contains("from 1 to 365").contains("CHAT_RETENTION_DAYS");
        assertThat(call("PUT", "/api/rooms/NOT A ROOM/retention".replace(" ", "%20"), ta, "{\"days\":1}").status()).isEqualTo(400);
        assertThat(server().http().get("/api/rooms/" + room, ta).json().get("retention").toString()).isEqualTo("{\"days\":null,\"messages\":null}");
        assertThat(call("PUT", "/api/rooms/" + room + "/retention", ta, "{\"days\":365,\"messages\":1000000}").status()).isEqualTo(200);
    }

    @Test
    void after_a_sweep_a_resume_from_before_the_start_is_not_recovered_and_history_starts_at_the_new_start() throws Exception {
        String ta = server().newUser("alice"), tb = server().newUser("bob");
        String room = Rooms.unique("trimmed");
        assertThat(call("POST", "/api/rooms", ta, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201); // seq 1
        try (WsClient a = server().connect(ta)) {
            Rooms.join(a, room);
            Rooms.post(a, room, 10); // seqs 2..11
        }
        assertThat(call("PUT", "/api/rooms/" + room + "/retention", ta, "{\"messages\":3}").status()).isEqualTo(200); // seq 12
        age(room, 3_600_000);
        server().server().sweepRetention(System.currentTimeMillis()).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        JsonNode page = server().http().get("/api/rooms/" + room + "/messages?after=0", tb).json();
        assertThat(page.get("historyStart").asLong()).isEqualTo(10);
        assertThat(page.get("messages")).extracting(m -> m.get("seq").asLong()).containsExactly(10L, 11L, 12L);
        assertThat(server().http().get("/api/rooms/" + room + "/messages?before=10", tb).json().get("messages")).isEmpty();
        assertThat(server().http().get("/api/rooms/" + room, tb).json().get("historyStart").asLong()).isEqualTo(10);

        try (WsClient b = server().connect(tb)) {
            b.send("type", "join", "room", room, "since", 2, "ref", "j1");
            JsonNode joined = b.await("joined", "j1");
            assertThat(joined.get("recovered").asBoolean()).isFalse();
            assertThat(joined.get("historyStart").asLong()).isEqualTo(10);
            assertThat(joined.get("lastSeq").asLong()).isEqualTo(12);
            assertThat(b.awaitMessages(room, 3, WAIT)).extracting(m -> m.get("seq").asLong()).containsExactly(10L, 11L, 12L);
            b.send("type", "history", "room", room, "ref", "h1");
            JsonNode history = b.await("history", "h1");
            assertThat(history.get("historyStart").asLong()).isEqualTo(10);
            assertThat(history.get("hasMore").asBoolean()).isFalse();
            assertThat(history.get("messages")).extracting(m -> m.get("seq").asLong()).containsExactly(10L, 11L, 12L);
        }
        try (WsClient b = server().connect(tb)) {
            // from just below the start nothing is missing
            b.send("type", "join", "room", room, "since", 9, "ref", "j2");
            JsonNode joined = b.await("joined", "j2");
            assertThat(joined.get("recovered").asBoolean()).isTrue();
            assertThat(joined.get("historyStart").asLong()).isEqualTo(10);
        }
        assertThat(server().admin().get("/metrics", null).body()).containsPattern("parley_retention_swept_total [1-9]");
    }

    /** Makes every message of the room {@code millis} older, as if they had been written that long ago. */
    private void age(String room, long millis) throws Exception {
        ChatConfig c = server().server().config();
        try (Connection db = DriverManager.getConnection(c.databaseUrl(), c.databaseUser(), c.databasePassword());
             PreparedStatement ps = db.prepareStatement("UPDATE messages SET ts = ts - ? WHERE room = ?")) {
            ps.setLong(1, millis);
            ps.setString(2, room);
            ps.executeUpdate();
        }
    }
}
