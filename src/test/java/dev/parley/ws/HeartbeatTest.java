package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The heartbeat (PROTOCOL.md section 6), here every 200 ms with a 2 s timeout: a client that answers
 * stays; one that completed the handshake and then went silent is closed and goes offline.
 */
class HeartbeatTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.HEARTBEAT_INTERVAL, "200ms")
            .with(Setting.HEARTBEAT_TIMEOUT, "2s"); // not 1 s: a loaded machine can stall a healthy client that long

    /** Several heartbeat timeouts. */
    private static final Duration A_WHILE = Duration.ofSeconds(6);

    @Test
    void a_client_that_answers_pings_stays_connected() {
        String room = Ws.room("alive");
        try (WsClient c = server.connect(server.newUser("responsive"))) { // the JDK client answers pings itself
            Ws.join(c, room);
            Instant until = Instant.now().plus(A_WHILE);

            Await.until("several heartbeat timeouts to pass", Duration.ofSeconds(30), () -> !c.isOpen() || Instant.now().isAfter(until));

            assertThat(c.isOpen()).as("closed with %s", c.closeCode()).isTrue();
            Ws.alive(c);
        }
    }

    @Test
    void a_client_that_never_answers_is_closed_and_its_presence_cleared() {
        String silent = ParleyServer.unique("silent");
        String token = server.http().register(silent);
        String room = Ws.room("silence");
        try (WsClient observer = server.connect(server.newUser("observer"))) {
            Ws.join(observer, room);
            try (RawWebSocket raw = RawWebSocket.open(server.port(), token)) {
                raw.sendText("{\"type\":\"join\",\"room\":\"" + room + "\",\"ref\":\"j\"}");
                JsonNode joined = json(raw.readText(Ws.T));
                assertThat(joined.get("type").asText()).isEqualTo("joined");
                observer.await(Ws.presence(room, silent, "online"), Ws.T, "online");

                // From here on the raw client neither reads nor answers the server's pings.
                observer.await(Ws.presence(room, silent, "offline"), Ws.T, "offline after the heartbeat timeout");

                RawWebSocket.Frame last = raw.readUntilClosed(Ws.T);
                assertThat(last == null || last.opcode() == RawWebSocket.CLOSE).as("the server ended the connection").isTrue();
            }
            Await.until("the presence route to forget " + silent, Ws.T, () -> !server.http()
                    .get("/api/rooms/" + room + "/presence", server.newUser("asker")).body().contains(silent));
        }
    }

    @Test
    void application_pings_keep_a_client_that_cannot_answer_websocket_pings_connected() {
        String token = server.newUser("app-pinger");
        try (RawWebSocket raw = RawWebSocket.open(server.port(), token)) {
            Instant until = Instant.now().plus(A_WHILE);
            int n = 0;
            while (Instant.now().isBefore(until)) {
                raw.sendText("{\"type\":\"ping\",\"ref\":\"k" + (++n) + "\"}");
                JsonNode pong = json(raw.readText(Ws.T)); // skips (and never answers) the server's pings
                assertThat(pong.get("type").asText()).isEqualTo("pong");
                assertThat(pong.get("ref").asText()).isEqualTo("k" + n);
                keepaliveInterval();
            }
        }
    }

    /** The client's cadence, about 300 ms, well inside the 2 s timeout: pacing, not a synchronisation. */
    private static void keepaliveInterval() {
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static JsonNode json(RawWebSocket.Frame f) {
        assertThat(f).as("a text frame").isNotNull();
        assertThat(f.opcode()).as("a text frame, not %s", f.opcode()).isEqualTo(RawWebSocket.TEXT);
        try {
            return Http.JSON.readTree(f.text());
        } catch (Exception e) {
            throw new AssertionError(f.text(), e);
        }
    }
}
