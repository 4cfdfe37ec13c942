package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Revocations reach every node (PROTOCOL.md 3.2 and close code 4003), through the store and not the
 * broker: two nodes on real PostgreSQL and Redis, with Redis up and stopped. A node applies another
 * node's revocation within about half a second (it reads the store every 250 ms); the deadlines
 * below are failure conditions for a shared machine, not the promise.
 */
class RevocationClusterIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(2).with(Setting.ADMINS, "revocation_admin");
    static final String ADMIN = "revocation_admin";

    private static final Duration DEADLINE = Duration.ofSeconds(5);

    private static int logout(ParleyServer node, String token, boolean all) {
        return node.http().request("POST", "/api/auth/logout", token, all ? "{\"all\":true}" : null).status();
    }

    private static WsClient connected(ParleyServer node, String token) {
        WsClient c = node.connect(token);
        c.send("type", "ping", "ref", "p");
        c.await("pong", "p");
        return c;
    }

    @Test
    void a_logout_on_one_node_closes_the_tokens_socket_on_the_other_and_the_other_refuses_the_token() {
        String user = ParleyServer.unique("roamer");
        String token = cluster.node(1).http().register(user), kept = cluster.node(1).http().login(user);
        try (WsClient onTwo = connected(cluster.node(2), token); WsClient keptOnTwo = connected(cluster.node(2), kept)) {
            assertThat(logout(cluster.node(1), token, false)).isEqualTo(204);

            assertThat(onTwo.awaitClose(DEADLINE)).isEqualTo(4003);
            assertThat(cluster.node(2).http().get("/api/rooms", token).status()).isEqualTo(401);
            keptOnTwo.send("type", "ping", "ref", "p2");
            keptOnTwo.await("pong", "p2");
        }
    }

    @Test
    void a_logout_everywhere_reaches_the_other_node_while_redis_is_down() {
        String user = ParleyServer.unique("outage");
        String a = cluster.node(1).http().register(user), b = cluster.node(2).http().login(user);
        try (WsClient aOnTwo = connected(cluster.node(2), a); WsClient bOnOne = connected(cluster.node(1), b)) {
            cluster.redis().stop();
            Await.until("node 1 to notice that Redis is gone", Duration.ofSeconds(15),
                    () -> cluster.node(1).http().get("/health/ready", null).status() == 503);

            assertThat(logout(cluster.node(1), b, true)).isEqualTo(204);

            assertThat(aOnTwo.awaitClose(DEADLINE)).as("the socket on the other node").isEqualTo(4003);
            assertThat(bOnOne.awaitClose(DEADLINE)).isEqualTo(4003);
            assertThat(cluster.node(2).http().get("/api/rooms", a).status()).isEqualTo(401);
        } finally {
            cluster.redis().start();
        }
        for (ParleyServer node : cluster.nodes()) {
            Await.until("node " + node.port() + " ready again", Duration.ofSeconds(20), () -> node.http().get("/health/ready", null).status() == 200);
        }
    }

    @Test
    void a_node_that_starts_after_a_revocation_refuses_the_token_too() {
        String user = ParleyServer.unique("restarter");
        String token = cluster.node(1).http().register(user), other = cluster.node(1).http().login(user);
        assertThat(logout(cluster.node(1), token, false)).isEqualTo(204);

        cluster.node(2).restart();

        assertThat(cluster.node(2).http().get("/api/rooms", token).status()).isEqualTo(401);
        assertThat(cluster.node(2).http().get("/api/rooms", other).status()).isEqualTo(200);
    }

    @Test
    void a_bots_post_on_one_node_reaches_the_other_marked_bot_and_its_key_revoked_on_one_node_is_refused_by_the_other() {
        String admin = cluster.node(1).http().register(ADMIN);
        String bob = ParleyServer.unique("bob"), tb = cluster.node(2).http().register(bob);
        String bot = ParleyServer.unique("relay");
        JsonNode made = cluster.node(1).http().request("POST", "/api/admin/bots", admin, "{\"name\":\"" + bot + "\"}").json();
        String key = made.get("key").get("key").asText(), keyId = made.get("key").get("id").asText();
        String room = "relayed-" + System.nanoTime();
        assertThat(cluster.node(2).http().request("POST", "/api/rooms", tb, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        try (WsClient onTwo = connected(cluster.node(2), tb)) {
            onTwo.send("type", "join", "room", room, "ref", "j");
            onTwo.await("joined", "j");
            assertThat(cluster.node(1).http().request("POST", "/api/rooms/" + room + "/messages", key,
                    "{\"text\":\"from node 1\",\"clientId\":\"c-1\"}").status()).isEqualTo(201);
            JsonNode m = onTwo.awaitMessages(room, 1, DEADLINE).get(0);
            assertThat(m.get("from").asText()).isEqualTo(bot);
            assertThat(m.get("bot").asBoolean()).isTrue();
        }
        assertThat(cluster.node(2).http().get("/api/rooms/" + room + "/messages", key).status()).isEqualTo(200); // node 2 caches the key

        assertThat(cluster.node(1).http().request("DELETE", "/api/admin/bots/" + bot + "/keys/" + keyId, admin, null).status()).isEqualTo(204);
        Await.until("node 2 to refuse the revoked key", DEADLINE, () -> cluster.node(2).http().get("/api/rooms/" + room + "/messages", key).status() == 401);
        assertThat(cluster.node(1).http().get("/api/rooms/" + room + "/messages", key).status()).isEqualTo(401);
    }
}
