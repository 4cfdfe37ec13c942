package dev.parley.auth;

import dev.parley.broker.RedisClients;
import dev.parley.testing.Redis;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** A WebSocket ticket opens one connection: on one node by its memory, in a cluster by a claim in Redis. */
class UsedTicketsTest {
    private static Redis redis;
    private static ClientResources resources;
    private final List<UsedTickets> nodes = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = Redis.startNew();
        resources = RedisClients.resources();
    }

    @AfterAll
    static void stopRedis() {
        resources.shutdown();
        redis.stop();
    }

    @AfterEach
    void closeNodes() {
        redis.start(); // a fault test may have failed with it stopped
        nodes.forEach(UsedTickets::close);
    }

    private UsedTickets clusterNode() {
        UsedTickets t = new UsedTickets(RedisClients.connect(resources, redis.url(), "tickets-test", Duration.ofMillis(500),
                ClientOptions.DisconnectedBehavior.REJECT_COMMANDS, "for the test"));
        nodes.add(t);
        return t;
    }

    private static boolean claim(UsedTickets t, String id, Instant expires) throws Exception {
        return t.claim(id, expires).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void a_ticket_is_claimed_once_on_a_single_node() throws Exception {
        UsedTickets node = new UsedTickets();
        Instant in30s = Instant.now().plusSeconds(30);

        assertThat(claim(node, "t1", in30s)).isTrue();
        assertThat(claim(node, "t1", in30s)).isFalse();
        assertThat(claim(node, "t2", in30s)).isTrue();
    }

    @Test
    void expired_tickets_are_forgotten_so_the_memory_holds_the_last_seconds_only() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000);
        UsedTickets node = new UsedTickets(now::get, null);
        for (int i = 0; i < 100; i++) assertThat(claim(node, "old-" + i, Instant.ofEpochMilli(now.get() + 30_000))).isTrue();
        assertThat(node.remembered()).isEqualTo(100);

        now.addAndGet(31_000);
        assertThat(claim(node, "new", Instant.ofEpochMilli(now.get() + 30_000))).isTrue();

        assertThat(node.remembered()).isEqualTo(1);
    }

    @Test
    void in_a_cluster_the_first_claim_on_any_node_wins() throws Exception {
        UsedTickets a = clusterNode(), b = clusterNode();
        Instant in30s = Instant.now().plusSeconds(30);

        assertThat(claim(a, "shared-1", in30s)).isTrue();
        assertThat(claim(b, "shared-1", in30s)).as("the same ticket taken to another node").isFalse();
        assertThat(claim(a, "shared-1", in30s)).isFalse();
        assertThat(claim(b, "shared-2", in30s)).isTrue();
    }

    @Test
    void the_claim_in_redis_expires_with_the_ticket() throws Exception {
        UsedTickets a = clusterNode();

        assertThat(claim(a, "ttl-1", Instant.now().plusSeconds(30))).isTrue();

        try (RedisClient client = RedisClient.create(redis.url()); StatefulRedisConnection<String, String> c = client.connect()) {
            long ttl = c.sync().pttl("parley:ticket:ttl-1");
            assertThat(ttl).isBetween(25_000L, 30_000L);
        }
    }

    @Test
    void while_redis_is_down_a_node_goes_by_its_own_memory() throws Exception {
        UsedTickets a = clusterNode();
        redis.stop();
        Instant in30s = Instant.now().plusSeconds(30);

        assertThat(claim(a, "down-1", in30s)).as("not refused for want of Redis").isTrue();
        assertThat(claim(a, "down-1", in30s)).as("still single-use on this node").isFalse();
        redis.start();
    }
}
