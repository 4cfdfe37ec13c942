package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cap per client address behind a reverse proxy: a connection from a proxy of
 * {@code CHAT_TRUSTED_PROXIES} counts against the address its {@code X-Forwarded-For} names, as the
 * login limits do, so the proxy's clients are not all one address; from anywhere else the header is
 * not believed.
 */
class TrustedProxyCapsTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.TRUSTED_PROXIES, "127.0.0.1")
            .with(Setting.MAX_CONNECTIONS_PER_IP, "1");

    private final List<RawWebSocket> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        open.forEach(RawWebSocket::close);
        Await.until("the server to see every connection of the test closed", Ws.T, () -> server.server().metrics().openConnections() == 0);
    }

    private int connect(String from, String forwardedFor, String token) {
        RawWebSocket.Handshake h = RawWebSocket.handshakeFrom(from, server.port(), "/ws?token=" + token, Map.of("X-Forwarded-For", forwardedFor));
        if (h.status() == 101) open.add(h.socket());
        return h.status();
    }

    @Test
    void clients_behind_a_trusted_proxy_are_capped_each_by_their_own_address() {
        String token = server.newUser("behind-proxy");
        assertThat(connect("127.0.0.1", "203.0.113.5", token)).isEqualTo(101);
        assertThat(connect("127.0.0.1", "203.0.113.6", token)).as("another client of the same proxy").isEqualTo(101);
        assertThat(connect("127.0.0.1", "198.51.100.1, 203.0.113.5", token)).as("203.0.113.5 again, whatever it wrote before").isEqualTo(429);
    }

    @Test
    void a_forwarded_address_from_a_client_that_is_no_trusted_proxy_is_not_believed() {
        String token = server.newUser("not-a-proxy");
        assertThat(connect("127.0.0.2", "203.0.113.7", token)).isEqualTo(101);
        assertThat(connect("127.0.0.2", "203.0.113.8", token)).as("still 127.0.0.2's second connection").isEqualTo(429);
    }
}
