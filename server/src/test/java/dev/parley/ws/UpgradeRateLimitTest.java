package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node's rate of upgrades (CHAT_UPGRADE_RATE, PROTOCOL.md section 5): past it an upgrade is refused
 * before the handshake with 503, Retry-After and the error body, whoever asks and whatever the token.
 * One upgrade every 100 s here, so that nothing refills while the test runs.
 */
class UpgradeRateLimitTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.UPGRADE_RATE, "0.01");

    private static String header(RawWebSocket.Handshake h, String name) {
        for (String line : h.head().split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith(name.toLowerCase(Locale.ROOT) + ":")) return line.substring(name.length() + 1).trim();
        }
        return null;
    }

    @Test
    void an_upgrade_past_the_nodes_rate_gets_503_with_retry_after_before_its_token_is_looked_at() throws Exception {
        double before = server.server().metrics().registry().get(ChatMetrics.CONNECTIONS_REFUSED).tag("reason", "rate").counter().count();
        RawWebSocket.Handshake first = RawWebSocket.handshakeFrom("127.0.0.1", server.port(), "/ws?token=" + server.newUser("first"), Map.of());
        assertThat(first.status()).as(first.head()).isEqualTo(101);
        first.socket().close();

        RawWebSocket.Handshake next = RawWebSocket.handshakeFrom("127.0.0.2", server.port(), "/ws?token=" + server.newUser("next"), Map.of());

        assertThat(next.status()).as(next.head() + next.body()).isEqualTo(503);
        assertThat(Integer.parseInt(header(next, "Retry-After"))).isBetween(1, UpgradeRate.MAX_RETRY_AFTER_SECONDS);
        assertThat(Http.JSON.readTree(next.body()).get("error").asText()).isEqualTo("unavailable");
        assertThat(next.head().toLowerCase(Locale.ROOT)).doesNotContain("sec-websocket-accept");
        assertThat(server.server().metrics().registry().get(ChatMetrics.CONNECTIONS_REFUSED).tag("reason", "rate").counter().count())
                .isEqualTo(before + 1);
        // Refused before the token is looked at: a bad one gets the same answer, not 401.
        assertThat(RawWebSocket.handshakeFrom("127.0.0.3", server.port(), "/ws?token=not-a-token", Map.of()).status()).isEqualTo(503);
        // The HTTP API is not paced by it.
        assertThat(server.http().get("/api/rooms", server.newUser("reader")).status()).isEqualTo(200);
    }
}
