package dev.parley.durability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.Ports;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The quick start, as a newcomer runs it: {@code java -jar parley.jar serve} in an empty folder, no
 * settings (only free ports instead of 8080 and the admin listener's 9180), then two users chat, then Ctrl-C / SIGTERM.
 */
class QuickStartIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(10); // the documented default

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    @TempDir
    Path workDir;

    @Test
    void serve_with_no_settings_keeps_its_data_in_dot_data_chats_and_stops_cleanly_on_sigterm() throws Exception {
        int port = Ports.free();
        JarProcess node = processes.start("serve", workDir, List.of("serve", "--port", String.valueOf(port)));
        node.awaitReady(port, WAIT);

        Path data = workDir.resolve("data");
        assertThat(data.resolve("parley.mv.db")).isRegularFile();
        Path secret = data.resolve("jwt-secret");
        assertThat(secret).isRegularFile();
        String secretText = Files.readString(secret).trim();
        assertThat(secretText).hasSizeGreaterThanOrEqualTo(32);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secret))).isEqualTo("rw-------");
        // Messages and password hashes are for this user's eyes only too.
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("parley.mv.db")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("parley.journal")))).isEqualTo("rw-------");
        assertThat(node.output()).contains("WARN", "generated a JWT secret", "production must set CHAT_JWT_SECRET");

        Http http = new Http("http://127.0.0.1:" + port);
        List<String> tokens = new ArrayList<>();
        String aliceToken = http.register("alice");
        String bobToken = http.register("bob");
        tokens.add(aliceToken);
        tokens.add(bobToken);
        tokens.add(http.login("alice"));

        String room = "lobby";
        WsClient alice = WsClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws?token=" + aliceToken), Map.of());
        WsClient bob = WsClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws"), Map.of("Authorization", "Bearer " + bobToken));
        alice.send("type", "join", "room", room, "ref", "ja");
        alice.await("joined", "ja");
        bob.send("type", "join", "room", room, "ref", "jb");
        assertThat(bob.await("joined", "jb").get("online").asInt()).isEqualTo(2);

        alice.send("type", "send", "room", room, "text", "hi bob", "clientId", "a1", "ref", "a1");
        assertThat(alice.await("ack", "a1").get("seq").asLong()).isEqualTo(1);
        JsonNode toBob = bob.awaitMessages(room, 1, WAIT).get(0);
        assertThat(toBob.get("from").asText()).isEqualTo("alice");
        assertThat(toBob.get("text").asText()).isEqualTo("hi bob");
        bob.send("type", "send", "room", room, "text", "hi alice", "clientId", "b1", "ref", "b1");
        assertThat(bob.await("ack", "b1").get("seq").asLong()).isEqualTo(2);
        List<JsonNode> toAlice = alice.awaitMessages(room, 2, WAIT);
        assertThat(toAlice.get(1).get("from").asText()).isEqualTo("bob");
        assertThat(toAlice.get(1).get("text").asText()).isEqualTo("hi alice");

        // Paths where a token passes through the server: a refresh frame, a rejected upgrade, a rejected request.
        String refreshed = http.login("bob");
        tokens.add(refreshed);
        bob.send("type", "refresh", "token", refreshed, "ref", "r1");
        bob.send("type", "ping", "ref", "p1");
        bob.await("pong", "p1");
        String forged = aliceToken.substring(0, aliceToken.length() - 4) + "AAAA";
        tokens.add(forged);
        assertThat(Http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ws?token=" + forged)).GET().build()).status()).isEqualTo(401);
        assertThat(http.get("/api/rooms", forged).status()).isEqualTo(401);
        assertThat(http.get("/api/rooms", aliceToken).status()).isEqualTo(200);

        long start = System.nanoTime();
        node.terminate();
        int exit = node.waitFor(DRAIN_TIMEOUT);
        long stoppedMs = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("[QuickStartIT] SIGTERM to exit: %d ms, exit code %d%n", stoppedMs, exit);
        assertThat(alice.awaitClose(WAIT)).as("clients are told the node goes away").isEqualTo(1001);
        assertThat(bob.awaitClose(WAIT)).isEqualTo(1001);

        String output = node.output();
        assertThat(output).contains("draining node=", "stopped node=");
        assertThat(output).doesNotContain(" ERROR ");
        for (String token : tokens) {
            assertThat(output).as("the process output must not contain a token").doesNotContain(token);
            // nor its signature alone
            assertThat(output).doesNotContain(token.substring(token.lastIndexOf('.') + 1));
        }
        assertThat(output).as("nor the generated secret").doesNotContain(secretText);

        // The generated secret is kept: a second start reuses it, and tokens issued before still work.
        JarProcess again = processes.start("serve-again", workDir, List.of("serve", "--port", String.valueOf(port)));
        again.awaitReady(port, WAIT);
        assertThat(again.output()).contains("using the generated JWT secret");
        assertThat(http.get("/api/rooms", aliceToken).status()).isEqualTo(200);
        JsonNode history = http.get("/api/rooms/" + room + "/messages", aliceToken).json();
        assertThat(history.get("messages")).extracting(m -> m.get("text").asText()).containsExactly("hi bob", "hi alice");
        again.terminate();
        again.waitFor(DRAIN_TIMEOUT);
        assertThat(again.output()).contains("stopped node=");
    }
}
