package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Ports;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.9, the administrators' overview: the node, rooms with their size and traffic,
 * accounts, webhooks with their failures, in bounded pages with a cursor; revoking an account's
 * sessions; and every refusal (401 without a token, 403 for anyone not in CHAT_ADMINS and for a
 * bot's key, 400 for a bad limit, cursor filter or prefix, 404 for no such account, 405).
 */
class AdminApiTest {
    static final String ADMIN = "overview_admin";
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.ADMINS, ADMIN)
            .with(Setting.API_RATE, "1000")
            .with(Setting.WEBHOOK_ALLOW_PRIVATE, "true")
            .with(Setting.WEBHOOK_RETRY_BASE, "50ms")
            .with(Setting.WEBHOOK_ATTEMPTS, "2");

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String[] READS = {"/api/admin/nodes", "/api/admin/rooms", "/api/admin/users", "/api/admin/webhooks"};

    private static String admin() {
        Http.Response login = server.http().post("/api/auth/login", "{\"username\":\"" + ADMIN + "\",\"password\":\"password-" + ADMIN + "\"}");
        if (login.status() == 200) return login.json().get("token").asText();
        return server.http().register(ADMIN);
    }

    private static Http.Response call(String method, String path, String token, String json) {
        return server.http().request(method, path, token, json);
    }

    private static JsonNode ok(Http.Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private static void refused(Http.Response r, int status, String code) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.json().get("error").asText()).isEqualTo(code);
    }

    /** Every item of a list, following the cursor page after page, {@code limit} at a time. */
    private static List<JsonNode> all(String path, String field, String token, int limit) {
        List<JsonNode> out = new ArrayList<>();
        String cursor = null;
        for (int pages = 0; pages < 1000; pages++) {
            String sep = path.contains("?") ? "&" : "?";
            JsonNode page = ok(server.http().get(path + sep + "limit=" + limit + (cursor == null ? "" : "&cursor=" + java.net.URLEncoder.encode(cursor,
                    java.nio.charset.StandardCharsets.UTF_8)), token));
            page.get(field).forEach(out::add);
            if (page.get("next").isNull()) return out;
            cursor = page.get("next").asText();
        }
        throw new AssertionError("no last page");
    }

    private static JsonNode find(List<JsonNode> items, String field, String value) {
        return items.stream().filter(n -> n.get(field).asText().equals(value)).findFirst()
                .orElseThrow(() -> new AssertionError(value + " not in " + items));
    }

    @Test
    void an_administrator_sees_this_node_with_its_health_and_connections() {
        String admin = admin();
        try (WsClient c = server.connect(admin)) {
            Rooms.join(c, Rooms.unique("overview-lobby")); // the connection is open and counted
            JsonNode nodes = ok(server.http().get("/api/admin/nodes", admin)).get("nodes");
            assertThat(nodes).hasSize(1); // no Redis: a single node
            JsonNode me = nodes.get(0);
            assertThat(me.get("id").asText()).isEqualTo(server.server().config().nodeId());
            assertThat(me.get("self").asBoolean()).isTrue();
            assertThat(me.get("status").asText()).isEqualTo("UP");
            assertThat(me.get("draining").asBoolean()).isFalse();
            assertThat(me.get("checks").get("database").asText()).isEqualTo("UP");
            assertThat(me.get("connections").asInt()).isGreaterThanOrEqualTo(1);
            assertThat(me.get("startedAt").asText()).endsWith("Z");
        }
    }

    @Test
    void rooms_come_with_members_online_users_and_traffic_in_pages_that_follow_their_cursor() {
        String admin = admin();
        String owner = ParleyServer.unique("owner"), token = server.http().register(owner);
        String friend = ParleyServer.unique("friend");
        server.http().register(friend);
        String closed = Rooms.unique("overview-private"), open = Rooms.unique("overview-public");
        assertThat(call("POST", "/api/rooms", token, "{\"name\":\"" + closed + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        assertThat(call("POST", "/api/rooms", token, "{\"name\":\"" + open + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        assertThat(call("PUT", "/api/rooms/" + closed + "/members/" + friend, token, "{}").status()).isEqualTo(201);
        try (WsClient c = server.connect(token)) {
            Rooms.join(c, closed);
            Rooms.post(c, closed, 3);
            Await.until("the owner online in " + closed, WAIT, () -> find(all("/api/admin/rooms", "rooms", admin, 100), "name", closed).get("online").asInt() == 1);
            JsonNode room = find(all("/api/admin/rooms", "rooms", admin, 100), "name", closed);
            assertThat(room.get("kind").asText()).isEqualTo("private");
            assertThat(room.get("members").asInt()).isEqualTo(2);
            assertThat(room.get("lastSeq").asLong()).isGreaterThanOrEqualTo(4); // created, member added, three messages
            assertThat(room.get("lastActivityAt").asText()).endsWith("Z");
        }

        // One at a time: every room once, in order, each page saying where the next starts.
        List<JsonNode> one = all("/api/admin/rooms", "rooms", admin, 1);
        List<String> names = one.stream().map(n -> n.get("name").asText()).toList();
        assertThat(names).contains(closed, open).doesNotHaveDuplicates();
        assertThat(names).isEqualTo(all("/api/admin/rooms", "rooms", admin, 100).stream().map(n -> n.get("name").asText()).toList());
        Http.Response first = server.http().get("/api/admin/rooms?limit=1", admin);
        assertThat(first.header("Link").orElseThrow()).startsWith("</api/admin/rooms?limit=1&cursor=").endsWith(">; rel=\"next\"");
    }

    @Test
    void accounts_are_listed_by_name_with_their_state_and_found_by_the_start_of_their_name() {
        String admin = admin();
        String base = ParleyServer.unique("listed");
        String a = base + "_a", b = base + "_b";
        server.http().register(a);
        server.http().register(b);
        JsonNode bot = call("POST", "/api/admin/bots", admin, "{\"name\":\"" + base + "_bot\"}").json();
        assertThat(bot.get("bot").get("name").asText()).isEqualTo(base + "_bot");
        assertThat(call("PUT", "/api/admin/users/" + b + "/disabled", admin, null).status()).isEqualTo(204);

        List<JsonNode> found = all("/api/admin/users?prefix=" + base.toUpperCase(), "users", admin, 2);
        assertThat(found.stream().map(n -> n.get("username").asText())).containsExactly(a, b, base + "_bot");
        assertThat(find(found, "username", a).get("disabled").asBoolean()).isFalse();
        assertThat(find(found, "username", b).get("disabled").asBoolean()).isTrue();
        assertThat(find(found, "username", base + "_bot").get("bot").asBoolean()).isTrue();
        assertThat(find(found, "username", a).get("createdAt").asText()).endsWith("Z");
        JsonNode me = find(all("/api/admin/users?prefix=" + ADMIN, "users", admin, 10), "username", ADMIN);
        assertThat(me.get("admin").asBoolean()).isTrue();
        // A prefix's wildcards are letters like any: "%" finds nobody.
        assertThat(ok(server.http().get("/api/admin/users?prefix=%25", admin)).get("users")).isEmpty();
    }

    @Test
    void revoking_an_accounts_sessions_closes_its_connections_and_refuses_its_tokens_but_it_may_sign_in_again() {
        String admin = admin();
        String user = ParleyServer.unique("revoked"), token = server.http().register(user);
        try (WsClient c = server.connect(token)) {
            Rooms.join(c, Rooms.unique("overview-lobby")); // the connection is open and counted
            assertThat(call("POST", "/api/admin/users/" + user.toUpperCase() + "/sessions/revoke", admin, null).status()).isEqualTo(204);
            assertThat(c.awaitClose(WAIT)).isEqualTo(4003);
        }
        refused(server.http().get("/api/rooms", token), 401, "unauthorized");
        String again = server.http().login(user);
        assertThat(server.http().get("/api/rooms", again).status()).isEqualTo(200);
        refused(call("POST", "/api/admin/users/nobody_here_at_all/sessions/revoke", admin, null), 404, "not_found");
    }

    @Test
    void every_webhook_is_listed_with_its_failures_and_the_failing_ones_on_their_own() {
        String admin = admin();
        String token = server.newUser("hooks");
        String room = Rooms.unique("overview-hooks");
        assertThat(call("POST", "/api/rooms", token, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        String quiet = call("POST", "/api/rooms/" + room + "/webhooks", token, "{\"url\":\"https://203.0.113.7/hook\",\"events\":[\"room\"]}")
                .json().get("id").asText();
        String refusedUrl = "http://127.0.0.1:" + Ports.free() + "/hook"; // nobody listens: every delivery fails
        String broken = call("POST", "/api/rooms/" + room + "/webhooks", token, "{\"url\":\"" + refusedUrl + "\",\"events\":[\"message\"]}")
                .json().get("id").asText();
        try (WsClient c = server.connect(token)) {
            Rooms.join(c, room);
            Rooms.post(c, room, 1);
        }
        Await.until("the webhook's failures", WAIT, () -> find(all("/api/admin/webhooks", "webhooks", admin, 100), "id", broken).get("failures").asInt() > 0);
        JsonNode failing = find(all("/api/admin/webhooks?status=failing", "webhooks", admin, 1), "id", broken);
        assertThat(failing.get("room").asText()).isEqualTo(room);
        assertThat(failing.get("status").asText()).isIn("failing", "disabled");
        assertThat(failing.get("lastError").asText()).isNotEmpty();
        assertThat(failing.has("secret")).isFalse();
        assertThat(all("/api/admin/webhooks?status=failing", "webhooks", admin, 100).stream().map(n -> n.get("id").asText())).doesNotContain(quiet);
        assertThat(find(all("/api/admin/webhooks", "webhooks", admin, 100), "id", quiet).get("status").asText()).isEqualTo("active");
    }

    @Test
    void anyone_but_an_administrator_is_refused_and_so_is_a_request_without_a_token() {
        String admin = admin();
        String someone = server.newUser("someone");
        String key = call("POST", "/api/admin/bots", admin, "{\"name\":\"" + ParleyServer.unique("reader") + "\",\"actions\":[\"read\",\"manage\"]}")
                .json().get("key").get("key").asText();
        for (String path : READS) {
            refused(server.http().get(path, null), 401, "unauthorized");
            refused(server.http().get(path, someone), 403, "forbidden");
            refused(server.http().get(path, key), 403, "forbidden");
            refused(call("POST", path, admin, "{}"), 405, "method_not_allowed");
        }
        String victim = ParleyServer.unique("victim"), victimToken = server.http().register(victim);
        refused(call("POST", "/api/admin/users/" + victim + "/sessions/revoke", null, null), 401, "unauthorized");
        refused(call("POST", "/api/admin/users/" + victim + "/sessions/revoke", someone, null), 403, "forbidden");
        refused(call("POST", "/api/admin/users/" + victim + "/sessions/revoke", key, null), 403, "forbidden");
        refused(call("GET", "/api/admin/users/" + victim + "/sessions/revoke", admin, null), 405, "method_not_allowed");
        assertThat(server.http().get("/api/rooms", victimToken).status()).isEqualTo(200); // nothing was revoked
    }

    @Test
    void page_sizes_are_bounded_and_the_filters_checked() {
        String admin = admin();
        for (String path : new String[]{"/api/admin/rooms", "/api/admin/users", "/api/admin/webhooks"}) {
            for (String limit : new String[]{"0", "101", "-1", "abc", "99999999999"}) {
                refused(server.http().get(path + "?limit=" + limit, admin), 400, "bad_request");
            }
            assertThat(ok(server.http().get(path + "?limit=100", admin))).isNotNull();
        }
        refused(server.http().get("/api/admin/webhooks?status=active", admin), 400, "bad_request");
        refused(server.http().get("/api/admin/users?prefix=" + "a".repeat(65), admin), 400, "bad_request");
    }
}
