package dev.parley.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md, webhooks: who may register, list, delete and re-enable a room's webhooks, and every
 * refusal, on a server with the default URL guard (no private addresses). The webhooks registered
 * here take only {@code room} events, which these rooms never have after: nothing is delivered to
 * their (documentation) addresses.
 */
class WebhookApiTest {
    static final String ADMIN = "webhook_admin";
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ADMINS, ADMIN).with(Setting.API_RATE, "1000");

    /** A public address (TEST-NET-3, RFC 5737) that no test ever delivers to. */
    private static final String URL = "https://203.0.113.7/hooks/parley";
    private static final AtomicInteger ROOMS = new AtomicInteger();

    private static String room(String token, String visibility) {
        String room = "wh-" + ROOMS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        Http.Response made = call("POST", "/api/rooms", token, "{\"name\":\"" + room + "\",\"visibility\":\"" + visibility + "\"}");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        return room;
    }

    private static Http.Response call(String method, String path, String token, String json) {
        return server.http().request(method, path, token, json);
    }

    private static Http.Response register(String token, String room, String body) {
        return call("POST", "/api/rooms/" + room + "/webhooks", token, body);
    }

    private static Http.Response register(String token, String room) {
        return register(token, room, "{\"url\":\"" + URL + "\",\"events\":[\"room\"]}");
    }

    private static void refused(Http.Response r, int status, String code) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.json().get("error").asText()).isEqualTo(code);
    }

    @Test
    void the_owner_registers_a_webhook_sees_its_secret_once_lists_it_and_deletes_it() {
        String owner = ParleyServer.unique("owner"), token = server.http().register(owner);
        String room = room(token, "private");
        Http.Response made = register(token, room, "{\"url\":\"" + URL + "\",\"events\":[\"room\",\"message\",\"room\"]}");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        JsonNode hook = made.json();
        String id = hook.get("id").asText();
        assertThat(id).startsWith("wh_");
        assertThat(hook.get("secret").asText()).matches("whsec_[0-9a-f]{64}");
        assertThat(hook.get("url").asText()).isEqualTo(URL);
        assertThat(hook.get("events").toString()).isEqualTo("[\"message\",\"room\"]");
        assertThat(hook.get("status").asText()).isEqualTo("active");
        assertThat(hook.get("failures").asInt()).isZero();
        assertThat(hook.get("lastDeliveredSeq").asLong()).isEqualTo(1); // after room_created: it starts where the room stood
        assertThat(hook.get("createdBy").asText()).isEqualTo(owner);

        Http.Response listed = server.http().get("/api/rooms/" + room + "/webhooks", token);
        assertThat(listed.status()).isEqualTo(200);
        assertThat(listed.json().get("webhooks")).hasSize(1);
        JsonNode shown = listed.json().get("webhooks").get(0);
        assertThat(shown.get("id").asText()).isEqualTo(id);
        assertThat(shown.has("secret")).isFalse();
        assertThat(listed.body()).doesNotContain(hook.get("secret").asText());

        assertThat(call("DELETE", "/api/rooms/" + room + "/webhooks/" + id, token, null).status()).isEqualTo(204);
        refused(call("DELETE", "/api/rooms/" + room + "/webhooks/" + id, token, null), 404, "not_found");
        refused(call("PUT", "/api/rooms/" + room + "/webhooks/" + id + "/enabled", token, null), 404, "not_found");
        refused(call("PUT", "/api/rooms/" + room + "/webhooks/not-an-id/enabled", token, null), 404, "not_found");
        assertThat(server.http().get("/api/rooms/" + room + "/webhooks", token).json().get("webhooks")).isEmpty();
    }

    @Test
    void urls_of_another_scheme_of_bad_form_or_of_loopback_private_and_link_local_addresses_are_refused() {
        String token = server.newUser("owner");
        String room = room(token, "public");
        for (String url : new String[]{"ftp://203.0.113.7/x", "file:///etc/passwd", "not a url", "https:///nohost", "//203.0.113.7/x",
                "https://user:pw@203.0.113.7/x", "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook",
                "http://192.168.1.1/hook", "http://172.16.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/hook",
                "http://[fd00::1]/hook", "http://100.64.0.1/hook", "http://0.0.0.0/hook", "http://[::ffff:127.0.0.1]/hook",
                "https://203.0.113.7/" + "a".repeat(2000)}) {
            Http.Response r = register(token, room, "{\"url\":" + Http.JSON.valueToTree(url) + ",\"events\":[\"room\"]}");
            assertThat(r.status()).as(url + " " + r.body()).isEqualTo(400);
            assertThat(r.json().get("error").asText()).isEqualTo("bad_request");
        }
        refused(register(token, room, "{\"events\":[\"room\"]}"), 400, "bad_request");
        refused(register(token, room, "{\"url\":42}"), 400, "bad_request");
        refused(register(token, room, "{\"url\":\"" + URL + "\",\"events\":[\"messages\"]}"), 400, "bad_request");
        refused(register(token, room, "{\"url\":\"" + URL + "\",\"events\":[]}"), 400, "bad_request");
        refused(register(token, room, "{\"url\":\"" + URL + "\",\"events\":\"message\"}"), 400, "bad_request");
        refused(register(token, room, "{\"url\":\"" + URL + "\",\"events\":[1]}"), 400, "bad_request");
        refused(register(token, room, "[]"), 400, "bad_request");
        assertThat(server.http().get("/api/rooms/" + room + "/webhooks", token).json().get("webhooks")).isEmpty();
    }

    @Test
    void only_the_owner_and_administrators_manage_webhooks_and_a_private_room_is_not_found_by_others_administrators_too() {
        String owner = ParleyServer.unique("owner"), token = server.http().register(owner);
        String member = ParleyServer.unique("member"), memberToken = server.http().register(member);
        String moderator = ParleyServer.unique("mod"), modToken = server.http().register(moderator);
        String stranger = server.newUser("stranger");
        String closed = room(token, "private"), open = room(token, "public");
        assertThat(call("PUT", "/api/rooms/" + closed + "/members/" + member, token, "{}").status()).isEqualTo(201);
        assertThat(call("PUT", "/api/rooms/" + closed + "/members/" + moderator, token, "{\"role\":\"moderator\"}").status()).isEqualTo(201);
        String id = register(token, closed).json().get("id").asText();

        for (String t : new String[]{memberToken, modToken}) {
            refused(register(t, closed), 403, "forbidden");
            refused(server.http().get("/api/rooms/" + closed + "/webhooks", t), 403, "forbidden");
            refused(call("DELETE", "/api/rooms/" + closed + "/webhooks/" + id, t, null), 403, "forbidden");
            refused(call("PUT", "/api/rooms/" + closed + "/webhooks/" + id + "/enabled", t, null), 403, "forbidden");
        }
        // Someone outside a private room learns nothing of it: as for a room that does not exist.
        Http.Response hidden = register(stranger, closed);
        Http.Response none = register(stranger, "no-such-room-" + ROOMS.incrementAndGet());
        refused(hidden, 404, "not_found");
        refused(none, 404, "not_found");
        assertThat(hidden.body().replace(closed, "X")).isEqualTo(none.body().replaceAll("no-such-room-\\d+", "X"));
        refused(server.http().get("/api/rooms/" + closed + "/webhooks", stranger), 404, "not_found");
        refused(call("DELETE", "/api/rooms/" + closed + "/webhooks/" + id, stranger, null), 404, "not_found");
        // A public room: anyone may see it, only its owner manages its webhooks.
        refused(register(stranger, open), 403, "forbidden");
        // No token: 401; a method the path does not take: 405.
        refused(register(null, open), 401, "unauthorized");
        refused(call("PATCH", "/api/rooms/" + open + "/webhooks", token, "{}"), 405, "method_not_allowed");
        refused(call("POST", "/api/rooms/" + open + "/webhooks/" + id, token, "{}"), 405, "method_not_allowed");

        // An administrator manages a public room's without being a member.
        String admin = server.http().register(ADMIN);
        Http.Response onOpen = register(admin, open);
        assertThat(onOpen.status()).as(onOpen.body()).isEqualTo(201);
        assertThat(server.http().get("/api/rooms/" + open + "/webhooks", admin).json().get("webhooks")).hasSize(1);
        // A private or direct room they are no member of is not found for them, as for anyone: a webhook
        // would read the room unseen. Every route answers as for a room that does not exist.
        Http.Response dm = call("POST", "/api/dms", token, "{\"user\":\"" + member + "\"}");
        String direct = dm.json().get("name").asText();
        for (String room : new String[]{closed, direct}) {
            String ghost = "no-such-room-" + ROOMS.incrementAndGet();
            for (String[] r : new String[][]{{"POST", "/webhooks", "{\"url\":\"" + URL + "\",\"events\":[\"room\"]}"}, {"GET", "/webhooks", null},
                    {"DELETE", "/webhooks/" + id, null}, {"PUT", "/webhooks/" + id + "/enabled", null}}) {
                Http.Response mine = call(r[0], "/api/rooms/" + room + r[1], admin, r[2]);
                Http.Response missing = call(r[0], "/api/rooms/" + ghost + r[1], admin, r[2]);
                refused(mine, 404, "not_found");
                assertThat(mine.body().replace(room, "X")).as(r[0] + " " + r[1]).isEqualTo(missing.body().replace(ghost, "X"));
            }
        }
        assertThat(server.http().get("/api/rooms/" + closed + "/webhooks", token).json().get("webhooks")).hasSize(1); // the owner's, untouched
        // As a member (they add themselves, which the members see), they manage the private room's.
        assertThat(call("PUT", "/api/rooms/" + closed + "/members/" + ADMIN, admin, "{}").status()).isEqualTo(201);
        Http.Response byAdmin = register(admin, closed);
        assertThat(byAdmin.status()).as(byAdmin.body()).isEqualTo(201);
        assertThat(server.http().get("/api/rooms/" + closed + "/webhooks", admin).json().get("webhooks")).hasSize(2);
        assertThat(call("DELETE", "/api/rooms/" + closed + "/webhooks/" + id, admin, null).status()).isEqualTo(204);
        // A direct room has no owner: nobody registers webhooks there.
        refused(register(token, direct), 403, "forbidden");
    }

    @Test
    void a_room_has_at_most_ten_webhooks_and_a_user_registers_at_most_twenty_an_hour() {
        String token = server.newUser("owner");
        String room = room(token, "public");
        String[] ids = new String[10];
        for (int i = 0; i < 10; i++) {
            Http.Response r = register(token, room);
            assertThat(r.status()).as(r.body()).isEqualTo(201);
            ids[i] = r.json().get("id").asText();
        }
        for (int i = 0; i < 5; i++) refused(register(token, room), 409, "conflict"); // the room is full: none of the quota used
        for (String id : ids) assertThat(call("DELETE", "/api/rooms/" + room + "/webhooks/" + id, token, null).status()).isEqualTo(204);
        for (int i = 0; i < 10; i++) {
            Http.Response r = register(token, room);
            assertThat(r.status()).as("registration " + (11 + i) + " this hour: " + r.body()).isEqualTo(201);
        }
        Http.Response r = register(token, room(token, "public")); // the 21st this hour, to a room with room for it
        refused(r, 429, "quota_exceeded");
        assertThat(r.header("Retry-After")).isPresent();
    }

    @Test
    void a_registration_whose_url_is_refused_counts_toward_the_quota_since_its_host_was_looked_up() {
        String token = server.newUser("owner");
        String room = room(token, "public");
        for (int i = 0; i < 20; i++) refused(register(token, room, "{\"url\":\"http://127.0.0.1/hook\",\"events\":[\"room\"]}"), 400, "bad_request");
        refused(register(token, room), 429, "quota_exceeded");
        // A body refused before any lookup takes none of it.
        String other = server.newUser("owner");
        String hers = room(other, "public");
        for (int i = 0; i < 25; i++) refused(register(other, hers, "{\"url\":42}"), 400, "bad_request");
        assertThat(register(other, hers).status()).isEqualTo(201);
    }

    @Test
    void a_deleted_room_takes_its_webhooks_with_it() {
        String token = server.newUser("owner");
        String room = room(token, "public");
        assertThat(register(token, room).status()).isEqualTo(201);
        assertThat(call("DELETE", "/api/rooms/" + room, token, null).status()).isEqualTo(204);
        refused(server.http().get("/api/rooms/" + room + "/webhooks", token), 404, "not_found");
        assertThat(call("POST", "/api/rooms", token, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        assertThat(server.http().get("/api/rooms/" + room + "/webhooks", token).json().get("webhooks")).isEmpty();
    }
}
