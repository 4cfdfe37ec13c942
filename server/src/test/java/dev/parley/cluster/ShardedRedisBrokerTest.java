package dev.parley.cluster;

import dev.parley.broker.RedisBroker;
import dev.parley.broker.RedisClients;
import dev.parley.event.RoomEvent;
import dev.parley.testing.Await;
import dev.parley.testing.Futures;
import dev.parley.testing.RedisCluster;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The broker on a Redis Cluster (three primaries, Debian's redis-server 7): the contract every broker
 * keeps, and the rooms' channels sharded, each subscribed at the primary owning its slot.
 */
class ShardedRedisBrokerTest implements BrokerContract {
    private static RedisCluster redis;
    private static ClientResources resources;
    private static final byte[] KEY = "the cluster key of these tests, 32+ bytes".getBytes(StandardCharsets.UTF_8);
    private final List<RedisBroker> nodes = new ArrayList<>();

    @BeforeAll
    static void startRedisCluster() {
        redis = RedisCluster.start(3, 0);
        resources = RedisClients.resources();
    }

    @AfterAll
    static void stopRedisCluster() {
        if (resources != null) resources.shutdown();
        if (redis != null) redis.close();
    }

    @AfterEach
    void closeNodes() {
        for (RedisBroker b : nodes) Futures.await(b.close());
    }

    @Override
    public Node newNode() {
        RedisBroker broker = new RedisBroker(redis.url(), "n" + (nodes.size() + 1), resources, KEY, reason -> { });
        nodes.add(broker);
        Events events = new Events();
        broker.start(events);
        return new Node(broker, events);
    }

    @Test
    void rooms_on_every_shard_are_subscribed_at_their_slots_primary_and_their_events_arrive() {
        Node a = newNode(), b = newNode();
        // A room for each primary.
        Map<Integer, String> roomByPort = new HashMap<>();
        for (int i = 0; roomByPort.size() < 3; i++) {
            String room = BrokerContract.room("sharded-" + i);
            roomByPort.putIfAbsent(redis.ownerOf(SlotHash.getSlot("parley:room:" + room)).port(), room);
        }
        for (String room : roomByPort.values()) {
            a.broker().subscribe(room);
            b.broker().subscribe(room);
        }
        for (String room : roomByPort.values()) {
            int slot = SlotHash.getSlot("parley:room:" + room);
            Await.until("two subscribers of " + room + " at its primary", BrokerContract.WAIT,
                    () -> redis.shardSubscribers("parley:room:" + room, slot) == 2);
            BrokerContract.awaitSubscribed(a, b, room);
            a.broker().publish(new RoomEvent.Typing(room, "alice"));
            b.events().await("alice typing in " + room, BrokerContract.typing(room, "alice"));
        }
        assertThat(a.broker().healthy() && b.broker().healthy()).as("both healthy").isTrue();

        // Unsubscribed at the primary too.
        String room = roomByPort.values().iterator().next();
        b.broker().unsubscribe(room);
        Await.until("b unsubscribed from " + room, BrokerContract.WAIT,
                () -> redis.shardSubscribers("parley:room:" + room, SlotHash.getSlot("parley:room:" + room)) == 1);
    }
}
