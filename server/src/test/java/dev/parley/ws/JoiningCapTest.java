package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node's cap on connections whose first join is not answered yet (CHAT_MAX_JOINING, PROTOCOL.md
 * section 5): past it an upgrade is refused with 503 and Retry-After, and the place comes back
 * once the connection's first join is answered.
 */
class JoiningCapTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.MAX_JOINING, "1").with(Setting.UPGRADE_RATE, "0");

    private static String header(RawWebSocket.Handshake h, String name) {
        for (String line : h.head().split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith(name.toLowerCase(Locale.ROOT) + ":")) return line.substring(name.length() + 1).trim();
        }
        return null;
    }

    private static double refused() {
        return server.server().metrics().registry().get(ChatMetrics.CONNECTIONS_REFUSED).tag("reason", "joining").counter().count();
    }

    @Test
    void an_upgrade_while_the_cap_is_joining_gets_503_until_the_first_join_is_answered() throws Exception {
        String room = ParleyServer.unique("storm");
        double before = refused();
        RawWebSocket.Handshake first = RawWebSocket.handshake(server.port(), "/ws?token=" + server.newUser("first"), Map.of());
        assertThat(first.status()).as(first.head()).isEqualTo(101);

        // The first connection has not joined yet: it holds the one place.
        RawWebSocket.Handshake next = RawWebSocket.handshake(server.port(), "/ws?token=" + server.newUser("next"), Map.of());
        assertThat(next.status()).as(next.head() + next.body()).isEqualTo(503);
        assertThat(Integer.parseInt(header(next, "Retry-After"))).isBetween(1, UpgradeRate.MAX_RETRY_AFTER_SECONDS);
        assertThat(Http.JSON.readTree(next.body()).get("error").asText()).isEqualTo("unavailable");
        assertThat(next.head().toLowerCase(Locale.ROOT)).doesNotContain("sec-websocket-accept");
        assertThat(refused()).isEqualTo(before + 1);

        // Its join answered, the place is free again.
        first.socket().sendText("{\"type\":\"join\",\"room\":\"" + room + "\",\"ref\":\"j\"}");
        String frame;
        do frame = first.socket().readText(Duration.ofSeconds(10)).text(); while (!frame.contains("\"type\":\"joined\""));
        RawWebSocket.Handshake after = RawWebSocket.handshake(server.port(), "/ws?token=" + server.newUser("after"), Map.of());
        assertThat(after.status()).as(after.head() + after.body()).isEqualTo(101);

        // A connection that closes before joining gives its place back too.
        after.socket().close();
        dev.parley.testing.Await.until("the closed connection's place is back", Duration.ofSeconds(5), () ->
                RawWebSocket.handshake(server.port(), "/ws?token=" + server.newUser("last"), Map.of()).status() == 101);
        first.socket().close();
    }
}
