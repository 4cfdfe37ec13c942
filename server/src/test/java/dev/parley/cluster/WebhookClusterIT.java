package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Webhooks in a cluster (PROTOCOL.md 3.3, webhooks): two nodes on one PostgreSQL and Redis, sends on
 * both, and one receiver that gets every event once, in the room's order, whichever node took it;
 * then the node delivering drains and the other goes on at once.
 */
class WebhookClusterIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(2)
            .with(Setting.WEBHOOK_ALLOW_PRIVATE, "true")
            .with(Setting.WEBHOOK_RETRY_BASE, "50ms");

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void every_event_is_delivered_once_in_order_whichever_node_took_it_and_after_a_node_drains() throws IOException {
        List<JsonNode> got = new ArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                JsonNode body = Http.JSON.readTree(in.readAllBytes());
                synchronized (got) {
                    got.add(body);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        try {
            ParleyServer a = cluster.node(1), b = cluster.node(2);
            String owner = ParleyServer.unique("owner");
            String token = a.http().register(owner);
            String room = "hooks-" + Long.toString(System.nanoTime() % 1_000_000, 36);
            assertThat(a.http().request("POST", "/api/rooms", token, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
            Http.Response made = b.http().request("POST", "/api/rooms/" + room + "/webhooks", token,
                    "{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook\",\"events\":[\"message\"]}");
            assertThat(made.status()).as(made.body()).isEqualTo(201);

            List<Long> sent = new ArrayList<>();
            try (WsClient ca = a.connect(token); WsClient cb = b.connect(token)) {
                join(ca, room);
                join(cb, room);
                for (int i = 0; i < 10; i++) sent.add(send(i % 2 == 0 ? ca : cb, room, "m" + i));
            }
            Await.until("ten delivered", WAIT, () -> size(got) >= 10);

            // The node that delivers (holds the lease) drains; the other takes the webhook over at once and goes on.
            String holder = leaseHolder(made.json().get("id").asText());
            assertThat(holder).isIn("n1", "n2");
            ParleyServer delivering = holder.equals("n1") ? a : b, other = holder.equals("n1") ? b : a;
            delivering.stop();
            try (WsClient c = other.connect(token)) {
                join(c, room);
                for (int i = 10; i < 15; i++) sent.add(send(c, room, "m" + i));
            }
            Await.until("fifteen delivered", WAIT, () -> size(got) >= 15);
            synchronized (got) {
                assertThat(got.stream().map(j -> j.get("seq").asLong()).toList()).containsExactlyElementsOf(sent);
                assertThat(got.stream().map(j -> j.get("id").asText()).distinct().count()).isEqualTo(15);
            }
        } finally {
            receiver.stop(0);
        }
    }

    private static String leaseHolder(String webhook) {
        try (Connection c = DriverManager.getConnection(cluster.databaseUrl(), "postgres", "postgres");
             PreparedStatement ps = c.prepareStatement("SELECT lease_node FROM webhooks WHERE id = ?")) {
            ps.setString(1, webhook);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static int size(List<JsonNode> got) {
        synchronized (got) {
            return got.size();
        }
    }

    private static void join(WsClient c, String room) {
        c.send("type", "join", "room", room, "ref", "j");
        c.await("joined", "j");
    }

    private static long send(WsClient c, String room, String text) {
        String ref = text + "-" + System.nanoTime();
        c.send("type", "send", "room", room, "text", text, "clientId", ref, "ref", ref);
        return c.await("ack", ref).get("seq").asLong();
    }
}
