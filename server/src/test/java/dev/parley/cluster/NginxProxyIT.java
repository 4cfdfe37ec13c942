package dev.parley.cluster;

import dev.parley.testing.Http;
import dev.parley.testing.Nginx;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.TestTls;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * deploy/nginx.conf in front of a real node, with a certificate made for the test: HTTPS and WebSockets
 * over TLS, HSTS, plain HTTP only redirecting, TLS 1.2 and 1.3 with strong ciphers only, Host and Origin
 * passed through, and nothing of the admin listener reachable.
 */
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
    void a_browser_like_client_chats_over_https_and_wss_with_its_origin_checked() {
        Http http = new Http(nginx.baseUrl());
        String alice = http.register(ParleyServer.unique("nx"));
        URI ws = URI.create(nginx.wsUrl() + "?token=" + alice);
        // The same origin as the page, as a browser on the load balancer's address would send.
        try (WsClient c = WsClient.connect(ws, Map.of("Origin", nginx.baseUrl()))) {
            c.send("type", "join", "room", "proxied", "ref", "j");
            c.await("joined", "j");
            c.send("type", "send", "room", "proxied", "text", "through nginx", "clientId", "n1", "ref", "s");
            assertThat(c.await("ack", "s").get("seq").asLong()).isEqualTo(1);
            assertThat(c.awaitMessages("proxied", 1, Duration.ofSeconds(10)).get(0).get("text").asText()).isEqualTo("through nginx");
        }
        assertThatThrownBy(() -> WsClient.connect(ws, Map.of("Origin", "https://evil.example")))
                .isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(403));
        assertThat(http.get("/health/ready", null).status()).isEqualTo(200);
        assertThat(nginx.accessLog()).as("nginx access log").contains("GET /ws ").doesNotContain(alice);
    }

    @Test
    void a_browser_session_through_nginx_has_a_secure_cookie_and_its_websocket_url_holds_a_ticket_only() {
        Http http = new Http(nginx.baseUrl());
        String user = ParleyServer.unique("nxcookie");
        Http.Response signedIn = http.post("/api/auth/register",
                "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\",\"session\":\"cookie\"}");
        assertThat(signedIn.status()).isEqualTo(201);
        // The node hears plain http from nginx; X-Forwarded-Proto (deploy/nginx.conf) says the browser used https.
        String cookie = signedIn.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("parley_refresh=")).findFirst().orElseThrow();
        assertThat(cookie).containsIgnoringCase("; Secure").containsIgnoringCase("; HttpOnly").containsIgnoringCase("; SameSite=Strict");

        Http.Response ticket = http.request("POST", "/api/auth/ticket", signedIn.json().get("token").asText(), null);
        String t = ticket.json().get("ticket").asText();
        try (WsClient c = WsClient.connect(URI.create(nginx.wsUrl() + "?ticket=" + t), Map.of("Origin", nginx.baseUrl()))) {
            c.send("type", "ping", "ref", "p");
            c.await("pong", "p");
        }
        assertThatThrownBy(() -> WsClient.connect(URI.create(nginx.wsUrl() + "?ticket=" + t), Map.of("Origin", nginx.baseUrl())))
                .as("a ticket is good once").isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(401));
    }

    @Test
    void every_https_answer_carries_hsts_errors_included() {
        Http http = new Http(nginx.baseUrl());
        for (String path : new String[] {"/", "/api/limits", "/health/ready", "/no-such-page"}) {
            Http.Response r = http.get(path, null);
            assertThat(r.header("Strict-Transport-Security")).as(path + " (" + r.status() + ")").hasValue("max-age=63072000");
        }
        // The node's own headers pass through: the web client's policy.
        assertThat(http.get("/", null).header("Content-Security-Policy").orElse("")).contains("connect-src 'self';");
    }

    @Test
    void plain_http_only_redirects_to_https_and_a_plain_websocket_is_refused() {
        Http plain = new Http(nginx.plainUrl());
        for (String path : new String[] {"/", "/api/limits?x=1", "/health/ready"}) {
            Http.Response r = plain.get(path, null);
            assertThat(r.status()).as(path).isEqualTo(301);
            assertThat(r.header("Location")).as(path).hasValue("https://127.0.0.1" + path);
            assertThat(r.body()).as(path).doesNotContain("\"status\"", "sendRate");
        }
        assertThat(plain.post("/api/auth/register", "{\"username\":\"cleartext\",\"password\":\"password-cleartext\"}").status())
                .as("a POST in clear text is not proxied").isEqualTo(301);
        Http https = new Http(nginx.baseUrl());
        String token = https.register(ParleyServer.unique("plain"));
        assertThatThrownBy(() -> WsClient.connect(URI.create(nginx.plainUrl().replace("http:", "ws:") + "/ws?token=" + token), Map.of()))
                .isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(301));
        assertThat(https.post("/api/auth/login", "{\"username\":\"cleartext\",\"password\":\"password-cleartext\"}").status())
                .as("the clear-text registration never reached the node").isEqualTo(401);
    }

    @Test
    void tls_is_1_2_or_1_3_with_forward_secret_aead_ciphers_only() throws Exception {
        assertThat(handshake(null, null)).isEqualTo("TLSv1.3");
        assertThat(handshake(new String[] {"TLSv1.2"}, new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"})).isEqualTo("TLSv1.2");
        assertThat(handshake(new String[] {"TLSv1.2"}, new String[] {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"})).isEqualTo("TLSv1.2");
        // CBC suites, which the profile leaves out: nginx answers with an alert (the JDK would offer them; a refusal
        // of its own would say "No appropriate protocol" instead).
        for (String weak : new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"}) {
            assertThatThrownBy(() -> handshake(new String[] {"TLSv1.2"}, new String[] {weak})).as(weak)
                    .isInstanceOf(SSLHandshakeException.class).hasMessageContaining("handshake_failure");
        }
    }

    @Test
    void nothing_of_the_admin_listener_is_reachable_through_nginx() {
        Http http = new Http(nginx.baseUrl());
        Http.Response metrics = http.get("/metrics", null);
        assertThat(metrics.status()).isEqualTo(404);
        assertThat(metrics.body()).doesNotContain("parley_");
        Http.Response ready = http.get("/health/ready", null);
        assertThat(ready.json().size()).as(ready.body()).isEqualTo(1); // the status, and not the node or its checks
        // The node serves them on its admin listener, which the test reaches directly.
        assertThat(new Http(node.adminBaseUrl()).get("/metrics", null).body()).contains("parley_connections_open");
    }

    /** @return the protocol the handshake settled on; an IOException if nginx refused it */
    private String handshake(String[] protocols, String[] ciphers) throws IOException {
        try (SSLSocket s = (SSLSocket) TestTls.get().context().getSocketFactory().createSocket("127.0.0.1", nginx.port())) {
            s.setSoTimeout(5000);
            if (protocols != null) s.setEnabledProtocols(protocols);
            if (ciphers != null) s.setEnabledCipherSuites(ciphers);
            s.startHandshake();
            return s.getSession().getProtocol();
        }
    }
}
