package dev.parley.cluster;

import dev.parley.event.RoomEvent;
import dev.parley.broker.RedisBroker;
import dev.parley.broker.RedisClients;
import dev.parley.testing.Await;
import dev.parley.testing.CapturedLogs;
import dev.parley.testing.Futures;
import dev.parley.testing.Redis;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RedisBrokerTest implements BrokerContract {
    private static Redis redis;
    private static ClientResources resources;
    private static final byte[] KEY = "the cluster key of these tests, 32+ bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    private final List<RedisBroker> nodes = new ArrayList<>();
    /** Why each node dropped what it dropped, for every node of the test. */
    private final List<String> rejected = new java.util.concurrent.CopyOnWriteArrayList<>();

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
        for (RedisBroker b : nodes) Futures.await(b.close());
    }

    @Override
    public Node newNode() {
        return newNode(KEY);
    }

    private Node newNode(byte[] key) {
        RedisBroker broker = new RedisBroker(redis.url(), "n" + (nodes.size() + 1), resources, key, rejected::add);
        nodes.add(broker);
        Events events = new Events();
        broker.start(events);
        return new Node(broker, events);
    }

    @Test
    void while_redis_is_down_publish_returns_at_once_and_nodes_resubscribe_by_themselves() {
        Node a = newNode(), b = newNode();
        String room = BrokerContract.room("fault"), later = BrokerContract.room("later"), dropped = BrokerContract.room("dropped");
        a.broker().subscribe(room);
        b.broker().subscribe(room);
        b.broker().subscribe(dropped);
        BrokerContract.awaitSubscribed(a, b, room);
        // Live before Redis stops, or its SUBSCRIBE may still be in flight and fail with a WARN of its own.
        BrokerContract.awaitSubscribed(a, b, dropped);
        int mark = CapturedLogs.mark();

        redis.stop();
        Await.until("both nodes to see Redis down", WAIT, () -> !a.broker().healthy() && !b.broker().healthy());
        long start = System.nanoTime();
        for (int i = 1; i <= 1000; i++) a.broker().publish(new RoomEvent.MessageCommitted(BrokerContract.message(room, i, "while down")));
        long micros = (System.nanoTime() - start) / 1000;
        assertThat(micros).as("1000 publishes with Redis down, in µs").isLessThan(200_000);
        // Asked for while Redis is down: they wait in Lettuce's reconnect buffer.
        b.broker().subscribe(later);
        b.broker().unsubscribe(dropped);

        redis.start();
        Await.until("both nodes to see Redis back", WAIT, () -> a.broker().healthy() && b.broker().healthy());
        BrokerContract.awaitSubscribed(a, b, room);  // resubscribed by Lettuce, nobody called subscribe again
        BrokerContract.awaitSubscribed(a, b, later); // subscribed when Redis came back
        try (RedisClient client = RedisClient.create(redis.url()); StatefulRedisConnection<String, String> c = client.connect()) {
            Await.until("the unsubscribe asked for while Redis was down to take effect", WAIT,
                    () -> c.sync().pubsubNumsub("parley:room:" + dropped).get("parley:room:" + dropped) == 0);
            assertThat(c.sync().pubsubNumsub("parley:room:" + room).get("parley:room:" + room)).isEqualTo(2);
        }
        List<String> transitions = CapturedLogs.since(mark).stream().filter(l -> l.contains("RedisBroker")).toList();
        assertThat(transitions.stream().filter(l -> l.contains("WARN")).count()).as("WARN lines: " + transitions).isEqualTo(2); // one per node
        assertThat(transitions.stream().filter(l -> l.contains("INFO") && l.contains("reconnected")).count()).as("INFO lines: " + transitions).isEqualTo(2);
    }

    @Test
    void a_node_with_another_cluster_key_is_not_listened_to_and_its_records_are_counted_as_not_authentic() {
        Node a = newNode(), stranger = newNode("another cluster key, also 32+ bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String room = BrokerContract.room("stranger");
        a.broker().subscribe(room);
        stranger.broker().subscribe(room);
        // Not with awaitSubscribed: its probes would not get through either.
        try (RedisClient client = RedisClient.create(redis.url()); StatefulRedisConnection<String, String> c = client.connect()) {
            Await.until("both to subscribe", WAIT, () -> c.sync().pubsubNumsub("parley:room:" + room).get("parley:room:" + room) == 2);
        }
        stranger.broker().publish(new RoomEvent.Typing(room, "from-the-stranger"));
        Await.until("a to drop the stranger's record", WAIT, () -> rejected.contains(RedisBroker.UNAUTHENTICATED));
        a.broker().publish(new RoomEvent.Typing(room, "from-a"));
        Await.until("the stranger to drop a's record", WAIT, () -> rejected.size() == 2);
        assertThat(rejected).containsOnly(RedisBroker.UNAUTHENTICATED);
        assertThat(a.events().all()).isEmpty();
        assertThat(stranger.events().all()).isEmpty();
    }

    @Test
    void an_event_that_cannot_be_read_is_skipped_and_the_next_one_arrives() {
        Node a = newNode(), b = newNode();
        String room = BrokerContract.room("garbage");
        b.broker().subscribe(room);
        BrokerContract.awaitSubscribed(a, b, room);
        try (RedisClient client = RedisClient.create(redis.url()); StatefulRedisConnection<String, String> c = client.connect()) {
            c.sync().publish("parley:room:" + room, "not an event");
        }
        a.broker().publish(new RoomEvent.Typing(room, "after-garbage"));
        b.events().await("the event after the garbage", BrokerContract.typing(room, "after-garbage"));
        assertThat(rejected).containsExactly(RedisBroker.UNAUTHENTICATED); // it has no tag
    }

    @Test
    void a_node_that_cannot_reach_redis_at_start_fails_with_the_url_in_the_message() {
        int port = dev.parley.testing.Ports.free();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RedisBroker("redis://127.0.0.1:" + port, "nx", resources, KEY, rejected::add))
                .hasMessageContaining("redis://127.0.0.1:" + port);
    }

    @Test
    void publishing_hundreds_of_messages_is_fast() {
        String room = BrokerContract.room("speed");
        Node a = newNode(), b = subscribedTo(a, room);
        int n = 5000;
        long start = System.nanoTime();
        publishMessages(a, room, n, 100);
        awaitMessages(b, n, Duration.ofSeconds(30));
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("RedisBroker: %d messages node to node in %.3f s (%.0f/s)%n", n, seconds, n / seconds);
        assertThat(((RedisBroker) a.broker()).dropped()).isZero();
    }

    @Test
    void a_node_closes_promptly_while_redis_is_down() {
        Node a = newNode();
        a.broker().subscribe(BrokerContract.room("closing"));
        redis.stop();
        Await.until("a to see Redis down", WAIT, () -> !a.broker().healthy());
        a.broker().publish(new RoomEvent.Typing(BrokerContract.room("closing"), "x"));
        long start = System.nanoTime();
        Futures.await(a.broker().close());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void events_published_just_before_close_all_reach_the_other_node() {
        String room = BrokerContract.room("closing-flush");
        Node a = newNode(), b = subscribedTo(a, room);
        int n = 3000;
        publishMessages(a, room, n, 200);
        Futures.await(a.broker().close());
        awaitMessages(b, n, WAIT);
        assertThat(((RedisBroker) a.broker()).dropped()).isZero();
    }

    @Test
    void a_redis_that_stops_taking_data_makes_the_publishing_node_unhealthy_and_it_reconnects_when_redis_goes_on() {
        String room = BrokerContract.room("hung");
        Node a = newNode(), b = subscribedTo(a, room);
        int mark = CapturedLogs.mark();
        redis.pause();
        try {
            publishMoreThanSocketsHold(a, room);
            Await.until("a to see that Redis takes nothing", Duration.ofSeconds(20), () -> !a.broker().healthy());
            assertThat(CapturedLogs.since(mark)).anyMatch(l -> l.contains("WARN") && l.contains("Redis took nothing for 5 s"));
        } finally {
            redis.resume();
        }
        Await.until("a to reconnect", WAIT, () -> a.broker().healthy());
        a.broker().publish(new RoomEvent.Typing(room, "after-the-hang"));
        b.events().await("an event published after the reconnect", BrokerContract.typing(room, "after-the-hang"));
    }

    @Test
    void a_node_authenticates_with_the_password_in_the_url_and_a_wrong_one_fails_at_start_without_showing_it() {
        try (Redis locked = Redis.startNew("requirepass s3cret-pw")) {
            twoNodesExchangeAnEvent("redis://:s3cret-pw@127.0.0.1:" + locked.port(), "auth", () -> {});
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RedisBroker("redis://:not-the-pw@127.0.0.1:" + locked.port(), "auth-c", resources, KEY, rejected::add))
                    .hasMessageContaining("refused the credentials")
                    .hasMessageContaining("127.0.0.1:" + locked.port())
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not-the-pw"));
        }
    }

    @Test
    void a_redis_url_of_no_known_form_is_refused_with_the_forms_it_can_take() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RedisBroker("http://:pw@127.0.0.1:" + redis.port(), "http", resources, KEY, rejected::add))
                .hasMessageContaining("expected redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster://")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(":pw@"));
    }

    @Test
    void over_tls_nodes_exchange_events_and_a_certificate_the_jvm_does_not_trust_fails_at_start() throws Exception {
        Path cert = Path.of(getClass().getResource("/tls/redis-test-cert.pem").toURI());
        Path key = Path.of(getClass().getResource("/tls/redis-test-key.pem").toURI());
        int tlsPort = dev.parley.testing.Ports.free();
        try (Redis tls = Redis.startNew("tls-port " + tlsPort, "tls-cert-file " + cert, "tls-key-file " + key,
                "tls-ca-cert-file " + cert, "tls-auth-clients no")) {
            // The test certificate is self-signed: only verifyPeer=NONE accepts it.
            twoNodesExchangeAnEvent("rediss://127.0.0.1:" + tlsPort + "?verifyPeer=NONE", "tls", () -> {
                try (RedisClient client = RedisClient.create(tls.url()); StatefulRedisConnection<String, String> c = client.connect()) {
                    assertThat(c.sync().clientList()).as("the publishing connections").contains("name=parley-pub-tls-a", "name=parley-pub-tls-b");
                }
            });
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RedisBroker("rediss://127.0.0.1:" + tlsPort, "tls-verified", resources, KEY, rejected::add))
                    .hasMessageContaining("cannot connect to Redis at rediss://127.0.0.1:" + tlsPort);
        }
    }

    @Test
    void a_node_closes_promptly_while_redis_takes_nothing() {
        Node a = newNode();
        String room = BrokerContract.room("hung-close");
        redis.pause();
        try {
            publishMoreThanSocketsHold(a, room);
            long start = System.nanoTime();
            Futures.await(a.broker().close());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        } finally {
            redis.resume();
        }
    }

    /** Starts nodes {@code name-a} and {@code name-b} on {@code url}; b receives an event of a; then {@code check} runs and both close. */
    private static void twoNodesExchangeAnEvent(String url, String name, Runnable check) {
        RedisBroker a = new RedisBroker(url, name + "-a", resources, KEY, reason -> { }), b = new RedisBroker(url, name + "-b", resources, KEY, reason -> { });
        try {
            Events atB = new Events();
            a.start(e -> {});
            b.start(atB);
            String room = BrokerContract.room(name);
            b.subscribe(room);
            Await.until("b's subscription and an event from a", WAIT, () -> {
                a.publish(new RoomEvent.Typing(room, name));
                return atB.count(BrokerContract.typing(room, name)) > 0;
            });
            assertThat(a.healthy() && b.healthy()).as("both healthy").isTrue();
            check.run();
        } finally {
            Futures.await(a.close());
            Futures.await(b.close());
        }
    }

    /** A new node subscribed to {@code room}, with its subscription live for events from {@code from}. */
    private Node subscribedTo(Node from, String room) {
        Node to = newNode();
        to.broker().subscribe(room);
        BrokerContract.awaitSubscribed(from, to, room);
        return to;
    }

    /** Messages 1 to {@code n} of {@code room}, each {@code chars} long, published by {@code node}. */
    private static void publishMessages(Node node, String room, int n, int chars) {
        String text = "x".repeat(chars);
        for (int i = 1; i <= n; i++) node.broker().publish(new RoomEvent.MessageCommitted(BrokerContract.message(room, i, text)));
    }

    /** 40 MB: more than the publishing socket's and Redis's buffers hold, so that a write blocks. */
    private static void publishMoreThanSocketsHold(Node node, String room) {
        publishMessages(node, room, 5_000, 8_000);
    }

    private static void awaitMessages(Node node, int n, Duration within) {
        Await.until(n + " messages at the other node", within, () -> node.events().count(e -> e instanceof RoomEvent.MessageCommitted) >= n);
    }
}
