package dev.parley.cluster;

import dev.parley.broker.RedisBroker;
import dev.parley.broker.RedisClients;
import dev.parley.event.RoomEvent;
import dev.parley.testing.Await;
import dev.parley.testing.Futures;
import dev.parley.testing.RedisSentinel;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The broker, and a command connection, through Sentinel: a master, its replica, one Sentinel; then the master is killed. */
class SentinelBrokerTest {
    private static final byte[] KEY = "the cluster key of these tests, 32+ bytes".getBytes(StandardCharsets.UTF_8);

    @Test
    void through_sentinel_nodes_exchange_events_and_go_on_by_themselves_with_the_replica_promoted_after_the_master_is_killed() throws Exception {
        try (RedisSentinel redis = RedisSentinel.start()) {
            ClientResources resources = RedisClients.resources();
            RedisBroker a = new RedisBroker(redis.url(), "sa", resources, KEY, reason -> { });
            RedisBroker b = new RedisBroker(redis.url(), "sb", resources, KEY, reason -> { });
            try {
                BrokerContract.Events atB = new BrokerContract.Events();
                a.start(e -> { });
                b.start(atB);
                String room = BrokerContract.room("sentinel");
                b.subscribe(room);
                BrokerContract.awaitSubscribed(new BrokerContract.Node(a, new BrokerContract.Events()), new BrokerContract.Node(b, atB), room);
                assertThat(a.healthy() && b.healthy()).as("both healthy").isTrue();
                try (var c = RedisClients.connect(resources, redis.url(), "sentinel-test", Duration.ofSeconds(2),
                        ClientOptions.DisconnectedBehavior.REJECT_COMMANDS, "for the test")) {
                    assertThat(c.async().set("parley:sentinel-test", "before").get(5, TimeUnit.SECONDS)).isEqualTo("OK");
                }

                int killed = redis.killMaster();
                Await.until("the Sentinel to name the replica master", Duration.ofSeconds(30), () -> redis.masterPort() != killed);

                // No restart, no resubscribe from outside: Lettuce asks the Sentinel again as it reconnects.
                AtomicInteger probe = new AtomicInteger();
                Await.until("b to get a's events through the new master", Duration.ofSeconds(30), () -> {
                    String user = "after-" + probe.incrementAndGet();
                    a.publish(new RoomEvent.Typing(room, user));
                    long until = System.nanoTime() + Duration.ofMillis(200).toNanos();
                    while (System.nanoTime() < until) {
                        if (atB.count(e -> e instanceof RoomEvent.Typing t && t.room().equals(room) && t.user().startsWith("after-")) > 0) return true;
                        Thread.onSpinWait();
                    }
                    return false;
                });
                Await.until("both healthy again", Duration.ofSeconds(10), () -> a.healthy() && b.healthy());
                try (var c = RedisClients.connect(resources, redis.url(), "sentinel-test", Duration.ofSeconds(2),
                        ClientOptions.DisconnectedBehavior.REJECT_COMMANDS, "for the test")) {
                    assertThat(c.async().set("parley:sentinel-test", "after").get(5, TimeUnit.SECONDS)).as("writes go to the new master").isEqualTo("OK");
                }
            } finally {
                Futures.await(a.close());
                Futures.await(b.close());
                resources.shutdown();
            }
        }
    }
}
