package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The connection caps (PROTOCOL.md section 5): per user, per client address and per node, refused
 * before the upgrade with 429 or 503, Retry-After and the error body. Other addresses are other
 * loopback addresses (127.0.0.2, ...), which Linux routes to the server like 127.0.0.1.
 */
class ConnectionLimitsTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.MAX_CONNECTIONS, "6")
            .with(Setting.MAX_CONNECTIONS_PER_IP, "4")
            .with(Setting.MAX_CONNECTIONS_PER_USER, "2");

    private static RawWebSocket.Handshake connect(String from, String token) {
        return RawWebSocket.handshakeFrom(from, server.port(), "/ws?token=" + token, Map.of());
    }

    private static JsonNode body(RawWebSocket.Handshake h) {
        try {
            return Http.JSON.readTree(h.body());
        } catch (Exception e) {
            throw new AssertionError(h.head() + h.body(), e);
        }
    }

    private static String header(RawWebSocket.Handshake h, String name) {
        for (String line : h.head().split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith(name.toLowerCase(Locale.ROOT) + ":")) return line.substring(name.length() + 1).trim();
        }
        return null;
    }

    private static double refused(String reason) {
        return server.server().metrics().registry().get(ChatMetrics.CONNECTIONS_REFUSED).tag("reason", reason).counter().count();
    }

    /** Every connection a test opened is closed before the next test: the caps count the whole node. */
    private final List<RawWebSocket> open = new ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void closeAll() {
        open.forEach(RawWebSocket::close);
        Await.until("the server to see every connection of the test closed", Ws.T, () -> server.server().metrics().openConnections() == 0);
    }

    private RawWebSocket upgraded(RawWebSocket.Handshake h) {
        assertThat(h.status()).as(h.head() + h.body()).isEqualTo(101);
        open.add(h.socket());
        return h.socket();
    }

    @Test
    void a_user_past_its_cap_gets_429_with_retry_after_and_gets_in_again_once_one_of_its_connections_ends() {
        String token = server.newUser("many-tabs");
        RawWebSocket first = upgraded(connect("127.0.0.1", token));
        upgraded(connect("127.0.0.2", token));
        double before = refused("user");

        RawWebSocket.Handshake third = connect("127.0.0.3", token);

        assertThat(third.status()).isEqualTo(429);
        assertThat(header(third, "Retry-After")).isEqualTo(String.valueOf(WsEndpoint.RETRY_AFTER_CAPPED_SECONDS));
        assertThat(body(third).get("error").asText()).isEqualTo("rate_limited");
        assertThat(third.head().toLowerCase(Locale.ROOT)).doesNotContain("sec-websocket-accept");
        assertThat(refused("user")).isEqualTo(before + 1);

        first.close();
        Await.until("a place for the user again", Ws.T, () -> {
            RawWebSocket.Handshake again = connect("127.0.0.3", token);
            if (again.status() == 101) open.add(again.socket());
            return again.status() == 101;
        });
    }

    @Test
    void an_address_past_its_cap_gets_429_while_another_address_still_connects() {
        for (int i = 0; i < 4; i++) upgraded(connect("127.0.0.5", server.newUser("same-address")));

        RawWebSocket.Handshake fifth = connect("127.0.0.5", server.newUser("same-address"));
        assertThat(fifth.status()).isEqualTo(429);
        assertThat(header(fifth, "Retry-After")).isEqualTo(String.valueOf(WsEndpoint.RETRY_AFTER_CAPPED_SECONDS));
        assertThat(body(fifth).get("error").asText()).isEqualTo("rate_limited");
        assertThat(body(fifth).get("message").asText()).contains("address");

        upgraded(connect("127.0.0.6", server.newUser("other-address")));
    }

    @Test
    void a_full_node_answers_503_with_retry_after_whoever_asks() {
        for (int i = 0; i < 6; i++) upgraded(connect("127.0.1." + (i + 1), server.newUser("filler")));

        RawWebSocket.Handshake late = connect("127.0.1.100", server.newUser("late"));

        assertThat(late.status()).isEqualTo(503);
        assertThat(header(late, "Retry-After")).isEqualTo(String.valueOf(WsEndpoint.RETRY_AFTER_NODE_FULL_SECONDS));
        assertThat(body(late).get("error").asText()).isEqualTo("unavailable");
    }

    @Test
    void refused_upgrades_and_bad_tokens_hold_no_place() {
        String token = server.newUser("persistent");
        for (int i = 0; i < 20; i++) {
            assertThat(connect("127.0.0.9", "not-a-token").status()).isEqualTo(401);
            assertThat(RawWebSocket.request(server.port(), "GET", "/ws?token=" + token, Map.of()).status()).as("not a handshake").isEqualTo(400);
        }
        upgraded(connect("127.0.0.9", token));
        upgraded(connect("127.0.0.9", token));
    }
}
