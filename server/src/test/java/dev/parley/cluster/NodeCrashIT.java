package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/** A node run as its own process from the built jar, killed with SIGKILL: no drain, no leave, nothing. */
class NodeCrashIT {
    private static final String TTL = "2s";

    @RegisterExtension
    static Cluster cluster = Cluster.of(1).with(Setting.PRESENCE_TTL, TTL);

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    private static long presence(WsClient c, String room, String user, String status) {
        return c.frames("presence").stream().filter(f -> f.get("room").asText().equals(room)
                && f.get("user").asText().equals(user) && f.get("status").asText().equals(status)).count();
    }

    @Test
    void when_a_node_is_killed_its_users_go_offline_once_and_nothing_it_acked_is_lost() throws Exception {
        Http http = cluster.node(1).http();
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = http.register(alice), tb = http.register(bob);
        String room = "crash-" + System.nanoTime() % 100_000;
        JarProcess victim = processes.node("victim", Map.of(
                Setting.DATABASE_URL.env, cluster.databaseUrl(), Setting.DATABASE_USER.env, "postgres",
                Setting.DATABASE_PASSWORD.env, "postgres", Setting.REDIS_URL.env, cluster.redis().url(),
                Setting.PRESENCE_TTL.env, TTL, Setting.EVENT_LOOPS.env, "2"));
        int port = victim.port();
        try (WsClient b = cluster.node(1).connect(tb)) {
            b.send("type", "join", "room", room, "ref", "j");
            b.await("joined", "j");

            WsClient a = WsClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws?token=" + ta), Map.of());
            a.send("type", "join", "room", room, "ref", "j");
            a.await("joined", "j");
            b.await(f -> presence(b, room, alice, "online") > 0, Duration.ofSeconds(10), "alice online");
            int n = 20;
            for (int i = 1; i <= n; i++) a.send("type", "send", "room", room, "text", "from the victim " + i, "clientId", "v" + i, "ref", "s" + i);
            Await.until(n + " acks", Duration.ofSeconds(20), () -> a.frames("ack").size() == n);
            b.awaitMessages(room, n, Duration.ofSeconds(20));

            long killed = System.nanoTime();
            assertThat(victim.kill()).as("exit code after SIGKILL").isNotZero();
            a.awaitClose(Duration.ofSeconds(10));

            // Alice's entry outlives the victim by the TTL, then n1's sweep announces her offline.
            Await.until("alice offline", Duration.ofSeconds(20), () -> presence(b, room, alice, "offline") > 0);
            System.out.printf("node crash: alice announced offline %.1f s after SIGKILL (presence TTL %s)%n", (System.nanoTime() - killed) / 1e9, TTL);
            Http.Response members = http.get("/api/rooms/" + room + "/presence", tb);
            assertThat(members.json().get("users").toString()).doesNotContain(alice).contains(bob);
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos(); // several more sweeps
            Await.until("more sweeps", Duration.ofSeconds(5), () -> System.nanoTime() > until);
            assertThat(presence(b, room, alice, "offline")).as("announced once").isEqualTo(1);

            // Alice resumes on the surviving node: every message the victim acked is there, once, in order.
            try (WsClient again = cluster.node(1).connect(ta)) {
                again.send("type", "join", "room", room, "since", 0, "ref", "j");
                JsonNode joined = again.await("joined", "j");
                assertThat(joined.get("recovered").asBoolean()).isTrue();
                List<JsonNode> got = again.awaitMessages(room, n, Duration.ofSeconds(10));
                assertThat(got.stream().map(f -> f.get("seq").asLong()).toList()).isEqualTo(LongStream.rangeClosed(1, n).boxed().toList());
                for (JsonNode ack : a.frames("ack")) {
                    assertThat(got.get((int) ack.get("seq").asLong() - 1).get("id").asText()).isEqualTo(ack.get("id").asText());
                }
                b.await(f -> presence(b, room, alice, "online") == 2, Duration.ofSeconds(10), "alice online again");
            }
        }
    }
}
