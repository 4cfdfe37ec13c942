package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
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

    @Test
    void an_http_connection_that_sends_nothing_or_half_a_request_is_closed_after_the_timeout() throws Exception {
        for (String sent : new String[] {"", "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n"}) {
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.setSoTimeout((int) Duration.ofSeconds(20).toMillis());
                socket.getOutputStream().write(sent.getBytes(StandardCharsets.US_ASCII));
                long start = System.nanoTime();

                int read = socket.getInputStream().read(); // blocks until the server closes (or the 20 s run out)

                assertThat(read).as("after sending %s", sent.isEmpty() ? "nothing" : "half a request").isEqualTo(-1);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
            }
        }
    }

    @Test
    void an_http_connection_kept_alive_serves_requests_spaced_within_the_timeout() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout((int) Ws.T.toMillis());
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            for (int i = 0; i < 4; i++) {
                socket.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
                int length = 0;
                for (String line = in.readLine(); !line.isEmpty(); line = in.readLine()) {
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
                }
                in.skip(length);
                Thread.sleep(1000); // half the timeout between requests
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
