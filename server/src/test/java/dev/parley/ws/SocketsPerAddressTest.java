package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.http.SocketsPerAddress;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every TCP connection of the public port counts against its address, plain HTTP too: one address
 * could hold every file descriptor of the node with idle HTTP connections, which the WebSocket caps
 * never saw (a review's attack). Each test connects from an address of its own on the loopback net.
 */
class SocketsPerAddressTest {
    private static final int PER_IP = 2, CAP = 2 * PER_IP + SocketsPerAddress.HEADROOM;

    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.MAX_CONNECTIONS_PER_IP, String.valueOf(PER_IP));

    /** A keep-alive connection from {@code from} that asked for the limits: its status, or -1 if closed unanswered. */
    private static Socket ask(String from, int[] status) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /api/limits HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        status[0] = statusOf(s.getInputStream());
        return s;
    }

    private static int statusOf(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        try {
            while ((b = in.read()) != -1 && b != '\n') line.append((char) b);
        } catch (java.net.SocketException reset) {
            return -1;
        }
        return line.length() < 12 ? -1 : Integer.parseInt(line.substring(9, 12));
    }

    private static double refusals() {
        String metrics = server.admin().get("/metrics", null).body();
        for (String l : metrics.split("\n")) {
            if (l.startsWith("parley_connections_refused_total{") && l.contains("reason=\"address_sockets\"")) {
                return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no address_sockets refusals in /metrics");
    }

    @Test
    void an_address_holds_at_most_its_cap_of_connections_and_gets_one_back_when_one_closes() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            int[] status = new int[1];
            for (int i = 0; i < CAP; i++) {
                held.add(ask("127.0.0.31", status));
                assertThat(status[0]).as("connection %d", i + 1).isEqualTo(200);
            }
            double before = refusals();
            try (Socket past = ask("127.0.0.31", status)) {
                assertThat(status[0]).as("one past the cap: closed unanswered").isEqualTo(-1);
            }
            assertThat(refusals()).isEqualTo(before + 1);
            try (Socket other = ask("127.0.0.32", status)) {
                assertThat(status[0]).as("another address").isEqualTo(200);
            }

            held.remove(0).close();
            Await.until("a place given back", () -> {
                try (Socket again = ask("127.0.0.31", status)) {
                    return status[0] == 200;
                } catch (IOException e) {
                    return false;
                }
            });
        } finally {
            for (Socket s : held) s.close();
        }
    }

    @Test
    void websockets_give_their_place_back_when_they_close() throws Exception {
        String token = server.newUser("sockets");
        for (int i = 0; i < CAP + 10; i++) {
            RawWebSocket.Handshake h = RawWebSocket.handshakeFrom("127.0.0.33", server.port(), "/ws?token=" + token, Map.of());
            assertThat(h.status()).as("upgrade %d", i + 1).isEqualTo(101);
            h.socket().close();
            Await.until("the node to see the WebSocket closed", Ws.T, () -> server.server().metrics().openConnections() == 0);
        }
        int[] status = new int[1];
        Await.until("every place given back", () -> {
            try (Socket s = ask("127.0.0.33", status)) {
                return status[0] == 200;
            } catch (IOException e) {
                return false;
            }
        });
    }
}
