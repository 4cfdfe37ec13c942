package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.5, {@code GET /api/limits}: a server configured away from every default advertises
 * what it was given, without a token, and keeps to what it advertises.
 */
class LimitsApiTest {
    private static final Duration T = Duration.ofSeconds(20);

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.RATE_LIMIT, "2.5")
            .with(Setting.RATE_BURST, "7")
            .with(Setting.MAX_FRAME_BYTES, "8192")
            .with(Setting.MAX_TEXT_LENGTH, "300")
            .with(Setting.ROOM_PATTERN, "^[A-Z][a-z]{0,9}$")
            .with(Setting.USERNAME_PATTERN, "^[a-z_0-9]{4,40}$")
            .with(Setting.PASSWORD_MIN, "10")
            .with(Setting.PASSWORD_MAX, "50")
            .with(Setting.OUTBOX_FRAMES, "400") // a join then replays at most 200
            .with(Setting.MAX_ROOMS_PER_CONNECTION, "12") // less than 20: join and history still burst to 20
            .with(Setting.MAX_ROOMS_PER_USER, "30")
            .with(Setting.ROOMS_PER_HOUR, "9")
            .with(Setting.MAX_IN_FLIGHT, "16");

    @Test
    void the_configured_limits_are_advertised_to_anyone() {
        Http.Response r = server.http().get("/api/limits", null);

        assertThat(r.status()).isEqualTo(200);
        JsonNode l = r.json();
        assertThat(l.get("sendRate").asDouble()).isEqualTo(2.5);
        assertThat(l.get("sendBurst").asInt()).isEqualTo(7);
        assertThat(l.get("typingRate").asInt()).isEqualTo(5);
        assertThat(l.get("maxFrameBytes").asInt()).isEqualTo(8192);
        assertThat(l.get("maxTextLength").asInt()).isEqualTo(300);
        assertThat(l.get("clientIdMaxLength").asInt()).isEqualTo(64);
        assertThat(l.get("roomPattern").asText()).isEqualTo("^(?:[A-Z][a-z]{0,9})$");
        assertThat(l.get("roomNameMaxLength").asInt()).isEqualTo(10);
        assertThat(l.get("usernamePattern").asText()).isEqualTo("^(?:[a-z_0-9]{4,40})$");
        assertThat(l.get("passwordMinLength").asInt()).isEqualTo(10);
        assertThat(l.get("passwordMaxLength").asInt()).isEqualTo(50);
        assertThat(l.get("historyLimitDefault").asInt()).isEqualTo(50);
        assertThat(l.get("historyLimitMax").asInt()).isEqualTo(100);
        assertThat(l.get("replayLimit").asInt()).isEqualTo(200);
        // The limits of the other frames (PROTOCOL.md section 12): join and history burst to the rooms
        // a connection may be in, and 20 at least.
        assertThat(l.get("joinRate").asDouble()).isEqualTo(5);
        assertThat(l.get("joinBurst").asInt()).isEqualTo(20);
        assertThat(l.get("historyRate").asDouble()).isEqualTo(5);
        assertThat(l.get("historyBurst").asInt()).isEqualTo(20);
        assertThat(l.get("pingRate").asDouble()).isEqualTo(5);
        assertThat(l.get("pingBurst").asInt()).isEqualTo(10);
        assertThat(l.get("refreshRate").asDouble()).isEqualTo(0.1);
        assertThat(l.get("refreshBurst").asInt()).isEqualTo(3);
        assertThat(l.get("changeRate").asDouble()).isEqualTo(5);
        assertThat(l.get("changeBurst").asInt()).isEqualTo(20);
        assertThat(l.get("maxReactionsPerMessage").asInt()).isEqualTo(20);
        assertThat(l.get("maxInFlight").asInt()).isEqualTo(16);
        assertThat(l.get("maxRoomsPerConnection").asInt()).isEqualTo(12);
        assertThat(l.get("maxRoomsPerUser").asInt()).isEqualTo(30);
        assertThat(l.get("roomsPerHour").asInt()).isEqualTo(9);
        // A whole number is written as one (5, not 5.0), as PROTOCOL.md 3.5 shows them; only a rate
        // such as 2.5 or 0.1 has a fraction.
        for (var field : l.properties()) {
            JsonNode v = field.getValue();
            if (v.isFloatingPointNumber()) assertThat(v.asDouble() % 1).as(field.getKey() + " is " + v + " in " + r.body()).isNotZero();
        }
    }

    @Test
    void the_answer_is_revalidated_and_head_and_other_methods_are_answered_as_everywhere() throws Exception {
        var get = java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/api/limits")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        var head = Http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/api/limits"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        var post = Http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/api/limits"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build());

        assertThat(get.statusCode()).isEqualTo(200);
        // The limits change when the operator changes a setting: a client asks again each time.
        assertThat(get.headers().firstValue("cache-control")).hasValue("no-cache");
        assertThat(head.status()).isEqualTo(200); // (that a HEAD answer has no body is RefusalsTest's, on a raw socket)
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.json().get("error").asText()).isEqualTo("method_not_allowed");
    }

    @Test
    void what_is_advertised_is_what_the_server_enforces() {
        JsonNode l = server.http().get("/api/limits", null).json();
        Pattern rooms = Pattern.compile(l.get("roomPattern").asText());
        String room = "Limits";
        assertThat(rooms.matcher(room).find()).isTrue();
        assertThat(rooms.matcher("limits").find()).isFalse();
        assertThat(rooms.matcher("Limitsxxxxx").find()).as("longer than roomNameMaxLength").isFalse();

        String user = "user_" + Long.toString(System.nanoTime(), 36);
        Http.Response registered = server.http().post("/api/auth/register", "{\"username\":\"" + user + "\",\"password\":\"ten chars!\"}");
        assertThat(registered.status()).isEqualTo(201);
        try (WsClient c = server.connect(registered.json().get("token").asText())) {
            c.send("type", "join", "room", "limits", "ref", "lower");
            assertThat(c.await("error", "lower").get("code").asText()).isEqualTo("bad_request");
            c.send("type", "join", "room", room, "ref", "j");
            c.await("joined", "j");
            int max = l.get("maxTextLength").asInt();
            c.send("type", "send", "room", room, "text", "a".repeat(max), "clientId", "longest", "ref", "ok");
            c.await("ack", "ok");
            c.send("type", "send", "room", room, "text", "a".repeat(max + 1), "clientId", "too-long", "ref", "long");
            assertThat(c.await("error", "long").get("code").asText()).isEqualTo("too_large");
        }
        // The burst, on a connection of its own (a full bucket): all of it taken, then refusals.
        try (WsClient c = server.connect(registered.json().get("token").asText())) {
            c.send("type", "join", "room", room, "ref", "j");
            c.await("joined", "j");
            int burst = l.get("sendBurst").asInt();
            for (int i = 1; i <= burst + 3; i++) c.send("type", "send", "room", room, "text", "burst " + i, "clientId", "b" + i, "ref", "b" + i);
            int acks = 0, refused = 0;
            for (int i = 1; i <= burst + 3; i++) {
                String ref = "b" + i;
                JsonNode answer = c.await(f -> ref.equals(f.path("ref").asText()), T, "the answer to " + ref);
                if ("ack".equals(answer.get("type").asText())) acks++;
                else if ("rate_limited".equals(answer.path("code").asText())) refused++;
            }
            assertThat(acks).isGreaterThanOrEqualTo(burst);
            assertThat(refused).isPositive();
        }
    }
}
