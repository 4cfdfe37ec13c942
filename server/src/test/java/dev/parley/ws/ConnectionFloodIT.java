package dev.parley.ws;

import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

import static dev.parley.ws.JarAttacks.WAIT;
import static dev.parley.ws.JarAttacks.ws;

/**
 * Floods of connections and slow request heads against the real jar (issue 20, item 7), on loopback
 * (other client addresses are other addresses of 127.0.0.0/8), while a well-behaved client keeps
 * chatting: upgrades past the caps per address, per user and per node get 429 or 503 with Retry-After
 * and the error body; request heads trickled a byte at a time (slowloris) get 408 at the deadline.
 */
@Tag("serial") // measures latency beside an attacker: runs alone (server/pom.xml, failsafe)
class ConnectionFloodIT {
    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    @Test
    void a_connection_flood_from_one_address_and_one_user_gets_429_and_a_full_node_503_each_with_retry_after() throws Exception {
        JarProcess node = processes.node("caps", Map.of("CHAT_JOURNAL_SYNC", "none" /* JarAttacks.NO_SYNC */, "CHAT_MAX_CONNECTIONS", "20", "CHAT_MAX_CONNECTIONS_PER_IP", "12",
                "CHAT_MAX_CONNECTIONS_PER_USER", "4"));
        Http http = new Http(node.baseUrl());
        List<String> users = new ArrayList<>();
        for (int i = 0; i < 8; i++) users.add(http.register("crowd" + i));
        // The well-behaved client, from an address of its own, before the flood.
        WsClient alice = WsClient.connect(URI.create("ws://127.0.0.1:" + node.port() + "/ws?token=" + http.register("alice")), Map.of());
        Ws.join(alice, "calm");
        List<RawWebSocket> held = new ArrayList<>();
        Map<Integer, Integer> statuses = new HashMap<>();
        try {
            // One address (127.0.0.2), four users, five tries each: four each pass the user's cap, twelve the address's.
            List<RawWebSocket.Handshake> flood = new ArrayList<>();
            for (int u = 0; u < 4; u++) {
                for (int i = 0; i < 5; i++) flood.add(RawWebSocket.handshakeFrom("127.0.0.2", node.port(), "/ws?token=" + users.get(u), Map.of()));
            }
            int upgraded = 0;
            for (RawWebSocket.Handshake h : flood) {
                statuses.merge(h.status(), 1, Integer::sum);
                if (h.status() == 101) {
                    upgraded++;
                    held.add(h.socket());
                } else {
                    assertRefusal(h, 429, "rate_limited", 30);
                }
            }
            assertThat(upgraded).as("statuses %s", statuses).isEqualTo(12);
            Ws.send(alice, "calm", "still here", "c1");

            // The node: 1 (alice) + 12 open; 7 more from other addresses fill it, and the next gets 503.
            for (int i = 0; i < 7; i++) {
                RawWebSocket.Handshake h = RawWebSocket.handshakeFrom("127.0.0." + (10 + i), node.port(), "/ws?token=" + users.get(4 + i % 4), Map.of());
                assertThat(h.status()).as("filler %d: %s", i, h.head()).isEqualTo(101);
                held.add(h.socket());
            }
            RawWebSocket.Handshake full = RawWebSocket.handshakeFrom("127.0.0.30", node.port(), "/ws?token=" + http.register("late"), Map.of());
            assertRefusal(full, 503, "unavailable", 5);

            // Places come back when connections end.
            held.remove(0).close();
            Await.until("a place on the node again", WAIT, () -> {
                RawWebSocket.Handshake again = RawWebSocket.handshakeFrom("127.0.0.31", node.port(), "/ws?token=" + users.get(7), Map.of());
                if (again.status() == 101) held.add(again.socket());
                return again.status() == 101;
            });
            Ws.send(alice, "calm", "and still", "c2");
            JarAttacks.Metrics m = new JarAttacks.Metrics(new Http(node.adminBaseUrl())); // metrics are on the admin listener
            assertThat(m.value("parley_connections_refused_total", "reason=\"address\"")).isPositive();
            assertThat(m.value("parley_connections_refused_total", "reason=\"user\"")).isPositive();
            assertThat(m.value("parley_connections_refused_total", "reason=\"node\"")).isPositive();
        } finally {
            held.forEach(RawWebSocket::close);
            alice.close();
        }
    }

    @Test
    void request_heads_trickled_a_byte_at_a_time_are_cut_at_the_deadline_with_408_while_others_are_served() throws Exception {
        JarProcess node = processes.node("slowloris", Map.of("CHAT_REQUEST_HEAD_TIMEOUT", "2s"));
        Http http = new Http(node.baseUrl());
        String token = http.register("alice");
        WsClient alice = ws(node, token);
        Ws.join(alice, "calm");
        String[] heads = {
                "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
                "GET /ws?token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        };
        List<Socket> lorises = new ArrayList<>();
        List<CompletableFuture<String>> answers = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread trickler = null;
        try {
            for (int i = 0; i < 40; i++) {
                Socket s = new Socket(InetAddress.getByName("127.0.0.1"), node.port());
                s.setSoTimeout((int) WAIT.toMillis());
                lorises.add(s);
                // Each read at once: a byte sent after the server closed would reset the connection, and
                // the 408 waiting to be read with it.
                answers.add(CompletableFuture.supplyAsync(() -> readAnswer(s), runnable -> Thread.ofPlatform().start(runnable)));
            }
            // One byte to each every 300 ms, until it is answered: each byte started the idle timeout (60 s) again.
            trickler = Thread.ofPlatform().start(() -> {
                for (int b = 0; !stop.get(); b++) {
                    for (int i = 0; i < lorises.size(); i++) {
                        String head = heads[i % heads.length];
                        try {
                            if (b < head.length() && !answers.get(i).isDone() && lorises.get(i).getInputStream().available() == 0) {
                                lorises.get(i).getOutputStream().write(head.charAt(b));
                            }
                        } catch (IOException e) {
                            // cut off: what the test waits for
                        }
                    }
                    try {
                        Thread.sleep(300); // the attacker's pace
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            // Meanwhile others are served.
            for (int i = 0; i < 20; i++) {
                assertThat(http.get("/health/live", null).status()).isEqualTo(200);
                Ws.send(alice, "calm", "hello " + i, "h" + i);
            }
            for (CompletableFuture<String> answer : answers) {
                assertThat(answer.get()).as("a trickled head's answer").startsWith("HTTP/1.1 408 ").contains("\"error\":\"request_timeout\"");
            }
        } finally {
            stop.set(true);
            for (Socket s : lorises) s.close();
        }
        if (trickler != null) trickler.join(WAIT.toMillis());
        JarAttacks.Metrics m = new JarAttacks.Metrics(new Http(node.adminBaseUrl())); // metrics are on the admin listener
        assertThat(m.value("parley_errors_total", "code=\"request_timeout\"")).isGreaterThanOrEqualTo(40);
        Ws.alive(alice);
        alice.close();
    }

    private static void assertRefusal(RawWebSocket.Handshake h, int status, String code, int retryAfter) {
        assertThat(h.status()).as(h.head() + h.body()).isEqualTo(status);
        assertThat(h.head().toLowerCase(Locale.ROOT)).contains("retry-after: " + retryAfter + "\r\n").doesNotContain("sec-websocket-accept");
        try {
            assertThat(Http.JSON.readTree(h.body()).get("error").asText()).isEqualTo(code);
        } catch (IOException e) {
            throw new AssertionError(h.body(), e);
        }
    }

    /** The answer to a request (its head and a body of its Content-Length), then the end of the connection. */
    private static String readAnswer(Socket s) {
        try {
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) throw new AssertionError("the connection ended without an answer: " + head);
                head.write(c);
            }
            String text = head.toString(StandardCharsets.ISO_8859_1);
            Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(text);
            byte[] body = length.find() ? in.readNBytes(Integer.parseInt(length.group(1))) : new byte[0];
            try {
                assertThat(in.read()).as("the connection ends after the answer").isEqualTo(-1);
            } catch (java.net.SocketException e) {
                // ended by a reset: a byte of the attacker's crossed the close
            }
            return text + new String(body, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
