package dev.parley.ws;

import dev.parley.auth.TokenService;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 2: a bad token is a 401 and a foreign Origin a 403, before any upgrade. */
class ConnectTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    private static TokenService ours() {
        return TokenService.hs256(ParleyServer.SECRET, Duration.ofHours(1));
    }

    @Test
    void a_connection_without_a_token_gets_401_and_no_upgrade() {
        RawWebSocket.Handshake h = RawWebSocket.handshake(server.port(), "/ws", Map.of());

        assertThat(h.status()).isEqualTo(401);
        assertThat(h.head().toLowerCase()).doesNotContain("upgrade:").doesNotContain("sec-websocket-accept");
        assertThat(parse(h.body()).get("error").asText()).isEqualTo("unauthorized");
        assertThat(refusal(server.wsUri(null), Map.of())).isEqualTo(401);
    }

    @Test
    void a_malformed_forged_or_expired_token_gets_401_in_the_query_and_in_the_header() {
        String user = ParleyServer.unique("mallory");
        server.http().register(user);
        String[] bad = {
                "not.a.jwt",
                "garbage",
                TokenService.hs256("another-secret-0123456789-0123456789-xyz", Duration.ofHours(1)).issue(user).token(),
                ours().issue(user, Instant.now().minusSeconds(2)).token(),
        };
        for (String token : bad) {
            RawWebSocket.Handshake h = RawWebSocket.handshake(server.port(), "/ws?token=" + token, Map.of());
            assertThat(h.status()).as(token).isEqualTo(401);
            assertThat(h.head().toLowerCase()).doesNotContain("sec-websocket-accept");
            assertThat(refusal(server.wsUri(token), Map.of())).isEqualTo(401);
            assertThat(refusal(server.wsUri(null), Map.of("Authorization", "Bearer " + token))).isEqualTo(401);
        }
    }

    @Test
    void a_token_in_the_authorization_header_opens_the_connection() {
        String token = server.newUser("header");

        try (WsClient c = WsClient.connect(server.wsUri(null), Map.of("Authorization", "Bearer " + token))) {
            Ws.alive(c);
            String room = Ws.room("header");
            Ws.join(c, room);
            Ws.send(c, room, "hi", "h1");
        }
    }

    @Test
    void a_token_in_the_query_string_opens_the_connection() {
        try (WsClient c = server.connect(server.newUser("query"))) {
            Ws.alive(c);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"http://evil.example", "https://evil.example:443", "http://127.0.0.1.evil.example", "null", "not a url"})
    void an_origin_of_another_site_gets_403_even_with_a_valid_token(String origin) {
        String token = server.newUser("origin");

        RawWebSocket.Handshake h = RawWebSocket.handshake(server.port(), "/ws?token=" + token, Map.of("Origin", origin));

        assertThat(h.status()).isEqualTo(403);
        assertThat(h.head().toLowerCase()).doesNotContain("sec-websocket-accept");
        assertThat(parse(h.body()).get("error").asText()).isEqualTo("forbidden");
    }

    @Test
    void localhost_origins_and_the_server_own_origin_are_allowed_by_default() {
        String token = server.newUser("local");
        for (String origin : new String[]{"http://localhost:1234", "http://localhost", "http://127.0.0.1:5555",
                "http://[::1]:8080", "http://127.0.0.1:" + server.port()}) {
            RawWebSocket.Handshake h = RawWebSocket.handshake(server.port(), "/ws?token=" + token, Map.of("Origin", origin));
            assertThat(h.status()).as(origin).isEqualTo(101);
            try (RawWebSocket ws = h.socket()) {
                ws.sendText("{\"type\":\"ping\",\"ref\":\"o\"}");
                assertThat(ws.readText(Ws.T).text()).contains("\"pong\"");
            }
        }
    }

    @Test
    void a_plain_request_to_the_websocket_path_is_answered_400_not_left_hanging() {
        String token = server.newUser("plain");

        Http.Response r = Http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.baseUrl() + "/ws?token=" + token))
                .timeout(Duration.ofSeconds(15)).build());

        assertThat(r.status()).isEqualTo(400);
        assertThat(parse(r.body()).get("error").asText()).isEqualTo("bad_request");
    }

    @Test
    void a_bad_origin_is_refused_before_the_token_is_looked_at() {
        RawWebSocket.Handshake h = RawWebSocket.handshake(server.port(), "/ws", Map.of("Origin", "http://evil.example"));

        assertThat(h.status()).isEqualTo(403);
    }

    static int refusal(java.net.URI uri, Map<String, String> headers) {
        try (WsClient c = WsClient.connect(uri, headers)) {
            throw new AssertionError("the upgrade was accepted: " + c);
        } catch (WsClient.Refused r) {
            return r.status;
        }
    }

    static com.fasterxml.jackson.databind.JsonNode parse(String json) {
        try {
            return Http.JSON.readTree(json);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }
}
