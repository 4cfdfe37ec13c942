package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import dev.parley.testing.ParleyServer;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

class RedisFaultIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(3);

    private static int ready(ParleyServer node) {
        return node.http().get("/health/ready", null).status();
    }

    private static MeterRegistry meters(ParleyServer node) {
        return node.server().metrics().registry();
    }

    /** A gauge as the last scrape of the admin listener left it. */
    private static double gauge(ParleyServer node, String name, String dependency) {
        var search = meters(node).get(name);
        return (dependency == null ? search : search.tag("dependency", dependency)).gauge().value();
    }

    @Test
    void when_redis_dies_and_comes_back_during_a_soak_every_acked_message_is_delivered_once_in_order_and_nodes_resubscribe() {
        int each = 100;
        try (Soak soak = new Soak(cluster, "redisfault", 2, 1)) {
            int total = soak.members.size() * each;
            for (String room : soak.rooms) Await.until("3 subscriptions to " + room, () -> cluster.subscribers(room) == 3);
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> soak.send(each, Duration.ofMillis(50)));

            Await.until("a quarter acked", Duration.ofSeconds(30), () -> soak.acked() >= total / 4);
            cluster.redis().stop();
            int ackedAtStop = soak.acked();
            for (ParleyServer node : cluster.nodes()) {
                Await.until("n" + node.port() + " not ready", Duration.ofSeconds(10), () -> ready(node) == 503);
            }
            assertThat(cluster.node(1).admin().get("/health/ready", null).json().get("checks").get("broker").asText()).isEqualTo("DOWN");
            // What the alerts read: a scrape checks readiness, and says which backend is down.
            assertThat(cluster.node(1).admin().get("/metrics", null).status()).isEqualTo(200);
            assertThat(gauge(cluster.node(1), ChatMetrics.READY, null)).isZero();
            assertThat(gauge(cluster.node(1), ChatMetrics.DEPENDENCY_UP, "broker")).isZero();
            assertThat(gauge(cluster.node(1), ChatMetrics.DEPENDENCY_UP, "database")).isEqualTo(1);

            // Sends are still acked, and members on other nodes still get them: from the store.
            Await.until("sends acked while Redis is down", Duration.ofSeconds(10), () -> soak.acked() >= ackedAtStop + total / 4);
            for (String room : soak.rooms) {
                long upTo = soak.acks(room).values().stream().mapToLong(Long::longValue).max().orElseThrow();
                for (Soak.Member m : soak.members) {
                    if (!m.room().equals(room)) continue;
                    Await.until(m.user() + " on n" + m.node() + " to get seq " + upTo + " of " + room + " without Redis", Duration.ofSeconds(10),
                            () -> m.ws().messages(room).stream().anyMatch(f -> f.get("seq").asLong() >= upTo));
                }
            }
            int ackedDuringOutage = soak.acked() - ackedAtStop;

            cluster.redis().start();
            for (ParleyServer node : cluster.nodes()) {
                Await.until("n" + node.port() + " ready again", Duration.ofSeconds(15), () -> ready(node) == 200);
            }
            for (String room : soak.rooms) {
                Await.until("every node to resubscribe to " + room + " by itself", Duration.ofSeconds(10), () -> cluster.subscribers(room) == 3);
            }

            sending.join();
            soak.awaitAcks(total, Duration.ofSeconds(60));
            soak.verify(Duration.ofSeconds(60));
            assertThat(soak.deliveries()).as("deliveries, counting duplicates").isEqualTo(total * 3);
            System.out.printf("redis fault: %d messages, %d acked while Redis was down%n", total, ackedDuringOutage);
            for (JsonNode e : soak.errors()) throw new AssertionError("error frame " + e);
            // Messages came through Redis before and after the outage, and from the store during it;
            // what the nodes published meanwhile was dropped.
            assertThat(cluster.nodes().stream().mapToLong(n -> meters(n).get(ChatMetrics.BROKER_LAG).timer().count()).sum()).as("arrived through Redis").isPositive();
            assertThat(cluster.nodes().stream().mapToDouble(n -> meters(n).get(ChatMetrics.REPAIRED).counter().count()).sum()).as("repaired").isPositive();
            assertThat(cluster.nodes().stream().mapToDouble(n -> meters(n).get(ChatMetrics.BROKER_DROPPED).functionCounter().count()).sum())
                    .as("not published").isPositive();
            assertThat(cluster.node(1).admin().get("/metrics", null).status()).isEqualTo(200);
            assertThat(gauge(cluster.node(1), ChatMetrics.READY, null)).isEqualTo(1);
        }
    }
}
