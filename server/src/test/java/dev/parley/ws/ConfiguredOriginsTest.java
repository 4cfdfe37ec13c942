package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 2 with CHAT_ALLOWED_ORIGINS set: those origins, and only those, may connect. */
class ConfiguredOriginsTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ALLOWED_ORIGINS, "https://chat.example.com, https://app.example.org/");

    private int status(String origin, String token) {
        RawWebSocket.Handshake h = RawWebSocket.handshake(server.port(), "/ws?token=" + token, origin == null ? Map.of() : Map.of("Origin", origin));
        if (h.socket() != null) h.socket().close();
        return h.status();
    }

    @Test
    void only_the_configured_origins_may_open_a_websocket() {
        String token = server.newUser("configured");

        assertThat(status("https://chat.example.com", token)).isEqualTo(101);
        assertThat(status("https://app.example.org", token)).isEqualTo(101);
        assertThat(status("HTTPS://CHAT.EXAMPLE.COM", token)).isEqualTo(101);
        assertThat(status("http://chat.example.com", token)).isEqualTo(403);
        assertThat(status("https://chat.example.com:8443", token)).isEqualTo(403);
        assertThat(status("https://evil.example", token)).isEqualTo(403);
        assertThat(status("http://localhost:1234", token)).isEqualTo(403);
        assertThat(status("http://127.0.0.1:" + server.port(), token)).isEqualTo(403);
    }

    @Test
    void a_client_that_sends_no_origin_is_not_a_browser_and_may_connect() {
        assertThat(status(null, server.newUser("cli"))).isEqualTo(101);
    }
}
