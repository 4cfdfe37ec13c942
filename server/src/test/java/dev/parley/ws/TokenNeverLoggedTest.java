package dev.parley.ws;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.parley.auth.TokenService;
import dev.parley.testing.CapturedLogs;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 2: the server never writes a token to a log, at any level, whatever goes wrong. */
class TokenNeverLoggedTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    private static final String[] LOGGERS = {Logger.ROOT_LOGGER_NAME, "dev.parley", "io.vertx", "io.netty"};
    private final Map<String, Level> levels = new HashMap<>();

    @BeforeEach
    void log_everything() {
        for (String name : LOGGERS) {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            levels.put(name, l.getLevel());
            l.setLevel(Level.TRACE);
        }
    }

    @AfterEach
    void restore_levels() {
        levels.forEach((name, level) -> ((Logger) LoggerFactory.getLogger(name)).setLevel(level));
    }

    @Test
    void no_token_appears_in_the_log_after_connections_errors_and_refusals() {
        int mark = CapturedLogs.mark();
        String user = ParleyServer.unique("secretive"), other = ParleyServer.unique("other");
        String password = "password-" + user;
        Http http = server.http();
        String queryToken = http.register(user);
        String headerToken = http.login(user);
        String otherToken = http.register(other);
        TokenService ours = TokenService.hs256(ParleyServer.SECRET, Duration.ofHours(1));
        String expired = ours.issue(user, Instant.now().minusSeconds(30)).token();
        String soon = ours.issue(user, Instant.now().plusSeconds(2)).token();
        String forged = TokenService.hs256("another-secret-0123456789-0123456789-xyz", Duration.ofHours(1)).issue(user).token();
        String refreshed = ours.issue(user, Instant.now().plusSeconds(3600)).token();
        List<String> tokens = List.of(queryToken, headerToken, otherToken, expired, soon, forged, refreshed);
        String room = Ws.room("quiet");

        // Connections that work, with the token in the query and in the header, and that fail in every way.
        try (WsClient q = server.connect(queryToken);
             WsClient h = WsClient.connect(server.wsUri(null), Map.of("Authorization", "Bearer " + headerToken))) {
            Ws.join(q, room);
            Ws.join(h, room);
            Ws.send(q, room, "hello", "c1");
            q.send("{\"type\":\"send\",\"room\":\"" + room + "\",\"text\":5,\"ref\":\"bad\"}");
            q.send("not json " + queryToken);
            q.send("type", "refresh", "token", otherToken, "ref", "r1");
            q.send("type", "refresh", "token", forged, "ref", "r2");
            q.send("type", "refresh", "token", expired, "ref", "r3");
            q.send("type", "refresh", "token", refreshed, "ref", "r4");
            q.send("type", "join", "room", "Not A Room", "ref", "j");
            q.send("type", "history", "room", Ws.room("nowhere"), "ref", "h");
            Ws.alive(q);
            h.send("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(20_000) + "\"}");
            h.awaitClose(Ws.T);
        }
        for (String bad : List.of(expired, forged, "garbage." + queryToken)) {
            assertThat(ConnectTest.refusal(server.wsUri(bad), Map.of())).isEqualTo(401);
            assertThat(ConnectTest.refusal(server.wsUri(null), Map.of("Authorization", "Bearer " + bad))).isEqualTo(401);
        }
        assertThat(RawWebSocket.handshake(server.port(), "/ws?token=" + queryToken, Map.of("Origin", "http://evil.example")).status()).isEqualTo(403);
        // A plain GET of /ws with a valid token: the upgrade fails on the server.
        Http.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/ws?token=" + queryToken)).timeout(Duration.ofSeconds(15)).build());
        try (WsClient expiring = server.connect(soon)) {
            assertThat(expiring.awaitClose(Ws.T)).isEqualTo(4001);
        }
        // The HTTP API, with good and bad bearer tokens. (A token in the query string of an /api route is not
        // part of the protocol, and vertx-web's router logs request URIs at TRACE: that is not tested here.)
        http.get("/api/rooms", queryToken);
        http.get("/api/rooms", expired);
        http.get("/api/rooms", forged);
        http.get("/api/rooms/" + room + "/messages?limit=0", queryToken);
        http.get("/api/no-such-route", queryToken);
        http.get("/api/rooms/Not%20A%20Room/presence", expired);
        http.post("/api/auth/login", "{\"username\":\"" + user + "\",\"password\":\"wrong " + password + "\"}");

        List<String> lines = CapturedLogs.since(mark);
        assertThat(lines).as("debug lines of the failures above were captured")
                .anyMatch(l -> l.contains("upgrade failed")).anyMatch(l -> l.contains("connection error"));
        String log = CapturedLogs.all();
        List<String> secrets = new ArrayList<>();
        for (String token : tokens) {
            String[] parts = token.split("\\.");
            secrets.addAll(List.of(token, parts[1], parts[2])); // the whole token, its claims, its signature
        }
        secrets.add(password);
        List<String> leaks = new ArrayList<>();
        for (String line : log.split("\n")) {
            if (secrets.stream().noneMatch(line::contains)) continue;
            String masked = line; // shown masked, so that the failure message does not repeat the leak
            for (String secret : secrets) masked = masked.replace(secret, "<REDACTED>");
            leaks.add(masked);
        }
        assertThat(leaks).as("log lines that give away a token or a password").isEmpty();
    }
}
