package dev.parley.cluster;

import dev.parley.testing.Http;
import dev.parley.testing.Nginx;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** deploy/nginx.conf in front of a real node: WebSocket upgrades, Host and Origin pass through. */
class NginxProxyIT {
    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    JarProcess node;
    Nginx nginx;

    @BeforeEach
    void start() {
        assumeTrue(Nginx.available() || System.getenv("CI") != null, "nginx is not installed (apt-get install nginx)");
        node = processes.node("proxy-node", Map.of());
        nginx = Nginx.start(List.of(node.port()));
    }

    @AfterEach
    void stop() {
        if (nginx != null) nginx.close();
    }

    @Test
    void a_browser_like_client_behind_nginx_chats_over_a_websocket_with_its_origin_checked() {
        Http http = new Http(nginx.baseUrl());
        String alice = http.register(ParleyServer.unique("nx"));
        URI ws = URI.create("ws://127.0.0.1:" + nginx.port() + "/ws?token=" + alice);
        // The same origin as the page, as a browser on the load balancer's address would send.
        try (WsClient c = WsClient.connect(ws, Map.of("Origin", "http://127.0.0.1:" + nginx.port()))) {
            c.send("type", "join", "room", "proxied", "ref", "j");
            c.await("joined", "j");
            c.send("type", "send", "room", "proxied", "text", "through nginx", "clientId", "n1", "ref", "s");
            assertThat(c.await("ack", "s").get("seq").asLong()).isEqualTo(1);
            assertThat(c.awaitMessages("proxied", 1, Duration.ofSeconds(10)).get(0).get("text").asText()).isEqualTo("through nginx");
        }
        assertThatThrownBy(() -> WsClient.connect(ws, Map.of("Origin", "http://evil.example")))
                .isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(403));
        assertThat(http.get("/health/ready", null).status()).isEqualTo(200);
        assertThat(nginx.accessLog()).as("nginx access log").contains("GET /ws ").doesNotContain(alice);
    }
}
