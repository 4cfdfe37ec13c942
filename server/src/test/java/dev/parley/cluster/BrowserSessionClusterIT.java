package dev.parley.cluster;

import dev.parley.testing.Cluster;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Browser sessions across a cluster (PROTOCOL.md 3.2 and 5), two nodes on real PostgreSQL and Redis:
 * a ticket opens one connection on whichever node it is taken to, a session's cookie renews on any
 * node, and its logout on one node closes its connections on the other.
 */
class BrowserSessionClusterIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(2);

    private static final Duration DEADLINE = Duration.ofSeconds(5);

    private static String ticket(ParleyServer node, String token) {
        Http.Response r = node.http().request("POST", "/api/auth/ticket", token, null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("ticket").asText();
    }

    private static WsClient withTicket(ParleyServer node, String ticket) {
        WsClient c = WsClient.connect(URI.create("ws://127.0.0.1:" + node.port() + "/ws?ticket=" + URLEncoder.encode(ticket, StandardCharsets.UTF_8)), java.util.Map.of());
        c.send("type", "ping", "ref", "p");
        c.await("pong", "p");
        return c;
    }

    private static int refused(ParleyServer node, String ticket) {
        try {
            withTicket(node, ticket).close();
        } catch (WsClient.Refused r) {
            return r.status;
        }
        throw new AssertionError("the upgrade was not refused");
    }

    private static Http.Response post(ParleyServer node, String path, String body, String cookie) {
        return Http.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + path)).timeout(Duration.ofSeconds(15))
                .header("Content-Type", "application/json").header("Cookie", "parley_refresh=" + cookie)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static String cookie(Http.Response r) {
        String set = r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("parley_refresh=")).findFirst().orElseThrow();
        return set.substring("parley_refresh=".length(), set.indexOf(';'));
    }

    @Test
    void a_ticket_opens_one_connection_in_the_whole_cluster() {
        String token = cluster.node(1).http().register(ParleyServer.unique("roamer"));
        String ticket = ticket(cluster.node(1), token);

        try (WsClient onTwo = withTicket(cluster.node(2), ticket)) {
            assertThat(refused(cluster.node(1), ticket)).as("taken back to the node that issued it").isEqualTo(401);
            assertThat(refused(cluster.node(2), ticket)).isEqualTo(401);
            assertThat(onTwo.isOpen()).isTrue();
        }
    }

    @Test
    void a_session_renews_on_any_node_and_its_logout_on_one_closes_its_connections_on_the_other() {
        String user = ParleyServer.unique("tabs");
        Http.Response signedIn = cluster.node(1).http().post("/api/auth/register",
                "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\",\"session\":\"cookie\"}");
        assertThat(signedIn.status()).isEqualTo(201);
        Http.Response renewed = post(cluster.node(2), "/api/auth/refresh", "{}", cookie(signedIn));
        assertThat(renewed.status()).as(renewed.body()).isEqualTo(200);
        String access = renewed.json().get("token").asText();

        try (WsClient onOne = withTicket(cluster.node(1), ticket(cluster.node(2), access))) {
            assertThat(post(cluster.node(2), "/api/auth/logout", "{}", cookie(renewed)).status()).isEqualTo(204);

            assertThat(onOne.awaitClose(DEADLINE)).isEqualTo(4003);
            assertThat(post(cluster.node(1), "/api/auth/refresh", "{}", cookie(signedIn)).status()).isEqualTo(401);
        }
    }
}
