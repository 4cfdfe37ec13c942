package dev.parley.cluster;

import dev.parley.broker.RedisClients;
import dev.parley.presence.Presence;
import dev.parley.presence.RedisPresence;
import dev.parley.testing.Await;
import dev.parley.testing.CapturedLogs;
import dev.parley.testing.Futures;
import dev.parley.testing.Redis;
import dev.parley.testing.TcpProxy;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RedisPresenceTest implements PresenceContract {
    private static Redis redis;
    private static ClientResources resources;
    private final List<RedisPresence> nodes = new ArrayList<>();
    private final List<Announced> announced = new ArrayList<>();

    record Announced(String node, String room, String user, boolean online) {}

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
        for (RedisPresence p : nodes) Futures.await(p.close());
    }

    @Override
    public Presence newNode() {
        return node(Duration.ofSeconds(2), Duration.ofMillis(400));
    }

    @Override
    public boolean shared() {
        return true;
    }

    private RedisPresence node(Duration ttl, Duration refreshEvery) {
        return node(redis.url(), ttl, refreshEvery);
    }

    private RedisPresence node(String url, Duration ttl, Duration refreshEvery) {
        String name = "n" + (nodes.size() + 1);
        RedisPresence p = new RedisPresence(url, name, resources, ttl, refreshEvery, (room, user, online) -> {
            synchronized (announced) {
                announced.add(new Announced(name, room, user, online));
            }
        });
        p.start();
        nodes.add(p);
        return p;
    }

    private List<Announced> announced(String room) {
        synchronized (announced) {
            return announced.stream().filter(a -> a.room().equals(room)).toList();
        }
    }

    /**
     * On Redis Cluster a script may only touch keys of one slot: the three keys of a room share it
     * through the hash tag {room}, which must stay whole whatever the name. (Limits refuses braces in
     * room names; presence must not depend on it.) A node holding every slot is enough for Redis to
     * refuse keys of different slots. A user name may hold the '|' that ends the node id in an entry.
     */
    @Test
    void on_redis_cluster_the_keys_of_a_room_share_a_slot_whatever_its_name() throws IOException {
        Path nodesFile = Files.createTempDirectory("parley-redis-cluster").resolve("nodes.conf");
        try (Redis cluster = Redis.startNew("cluster-enabled yes", "cluster-config-file " + nodesFile)) {
            try (RedisClient admin = RedisClient.create(cluster.url()); StatefulRedisConnection<String, String> c = admin.connect()) {
                c.sync().clusterAddSlots(IntStream.range(0, 16384).toArray());
                Await.until("the one-node cluster to serve", Duration.ofSeconds(10), () -> c.sync().clusterInfo().contains("cluster_state:ok"));
            }
            RedisPresence a = node(cluster.url(), Duration.ofSeconds(2), Duration.ofMillis(400));
            RedisPresence b = node(cluster.url(), Duration.ofSeconds(2), Duration.ofMillis(400));

            for (String room : List.of("general", "}x", "{", "a}b{c", "100%{}", "")) {
                assertThat(Futures.await(a.join(room, "pipe|user"))).as(room).isTrue();
                assertThat(Futures.await(b.members(room))).as(room).containsExactly("pipe|user");
                assertThat(Futures.await(a.leave(room, "pipe|user"))).as(room).isTrue();
                assertThat(Futures.await(b.members(room))).as(room).isEmpty();
            }
            assertThat(a.healthy()).as("no command failed").isTrue();
            Futures.await(a.close());
            Futures.await(b.close());
        }
    }

    @Test
    void a_node_id_with_the_separator_of_entries_is_refused() {
        assertThatThrownBy(() -> new RedisPresence(redis.url(), "edge|1", resources, Duration.ofSeconds(2), Duration.ofMillis(400), (r, u, o) -> { }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("edge|1");
    }

    /** Each script is a file of the jar, where it can be read (and checked by a Lua tool) as it runs. */
    @Test
    void the_lua_scripts_are_files_of_the_jar_not_strings_in_the_code() throws IOException {
        for (String name : List.of("presence-prelude", "presence-join", "presence-leave", "presence-refresh", "presence-live")) {
            try (InputStream in = RedisPresence.class.getResourceAsStream("/redis/" + name + ".lua")) {
                assertThat(in).as("redis/" + name + ".lua").isNotNull();
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).as(name).contains("local ");
            }
        }
        assertThat(Files.readString(Path.of("server/src/main/java/dev/parley/presence/RedisPresence.java"))).doesNotContain("redis.call(");
    }

    @Test
    void the_users_of_a_node_that_stopped_refreshing_go_offline_announced_by_exactly_one_node() {
        Duration ttl = Duration.ofSeconds(1);
        RedisPresence dead = node(ttl, Duration.ofHours(1)); // never refreshes: as if it had been killed
        RedisPresence b = node(ttl, Duration.ofMillis(200)), c = node(ttl, Duration.ofMillis(200));
        String room = PresenceContract.room("crash");
        assertThat(Futures.await(dead.join(room, "alice"))).isTrue();
        Futures.await(dead.join(room, "carol"));
        Futures.await(b.join(room, "bob"));
        Futures.await(c.join(room, "carol")); // carol is also on a live node: she stays
        assertThat(Futures.await(b.members(room))).containsExactly("alice", "bob", "carol");

        Await.until("alice to be announced offline", Duration.ofSeconds(10), () -> !announced(room).isEmpty());
        assertThat(Futures.await(b.members(room))).containsExactly("bob", "carol");
        assertThat(Futures.await(c.members(room))).containsExactly("bob", "carol");
        // Several more refresh rounds of both live nodes: nobody announces it again.
        long until = System.nanoTime() + Duration.ofMillis(1200).toNanos();
        Await.until("more refresh rounds", Duration.ofSeconds(5), () -> System.nanoTime() > until);
        assertThat(announced(room)).hasSize(1).first()
                .satisfies(a -> assertThat(a.user()).isEqualTo("alice"))
                .satisfies(a -> assertThat(a.online()).isFalse())
                .satisfies(a -> assertThat(a.node()).isIn("n2", "n3"));
        assertThat(Futures.await(b.leave(room, "bob"))).isTrue();
    }

    @Test
    void while_redis_is_down_answers_come_from_this_node_and_are_written_to_redis_when_it_is_back() {
        RedisPresence a = (RedisPresence) newNode(), b = (RedisPresence) newNode();
        String room = PresenceContract.room("down");
        Futures.await(a.join(room, "alice"));
        Futures.await(a.join(room, "gone-while-down"));
        Futures.await(b.join(room, "bob"));
        int mark = CapturedLogs.mark();

        redis.stop();
        Await.until("presence to report Redis down", Duration.ofSeconds(10), () -> !a.healthy() && !b.healthy());
        long start = System.nanoTime();
        assertThat(Futures.await(a.join(room, "carol"))).as("local answer").isTrue();
        assertThat(Futures.await(a.leave(room, "gone-while-down"))).as("local answer").isTrue();
        assertThat(Futures.await(a.members(room))).containsExactly("alice", "carol");
        assertThat(Futures.await(a.counts(List.of(room)))).containsEntry(room, 2);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("answers without waiting for Redis").isLessThan(Duration.ofSeconds(1));

        redis.start(); // empty: Redis keeps nothing on disk here, as after a crash
        Await.until("presence to report Redis back", Duration.ofSeconds(10), () -> a.healthy() && b.healthy());
        // Each node adds its own users to what Redis answers, so b's view holds bob before b has
        // written him again; a's view holds him only once he is in Redis.
        Await.until("every node's entries to be written again", Duration.ofSeconds(10),
                () -> Futures.await(b.members(room)).equals(List.of("alice", "bob", "carol"))
                        && Futures.await(a.members(room)).equals(List.of("alice", "bob", "carol")));
        assertThat(Futures.await(a.members(room))).containsExactly("alice", "bob", "carol");
        // The other nodes missed carol's join and the leave: they are told now, once. Entries Redis
        // merely lost come back without a word.
        Await.until("the missed join and leave announced", Duration.ofSeconds(10), () -> announced(room).size() >= 2);
        long until = System.nanoTime() + Duration.ofSeconds(1).toNanos(); // more refresh rounds
        Await.until("more refresh rounds", Duration.ofSeconds(5), () -> System.nanoTime() > until);
        assertThat(announced(room)).containsExactlyInAnyOrder(
                new Announced("n1", room, "carol", true),
                new Announced("n1", room, "gone-while-down", false));
        List<String> lines = CapturedLogs.since(mark).stream().filter(l -> l.contains("RedisPresence")).toList();
        assertThat(lines.stream().filter(l -> l.contains("WARN")).count()).as("WARN lines: " + lines).isEqualTo(2); // one per node
        assertThat(lines.stream().filter(l -> l.contains("INFO")).count()).as("INFO lines: " + lines).isEqualTo(2);
    }

    @Test
    void a_leave_that_a_partitioned_node_could_not_write_is_written_when_it_is_back_and_announced_once() {
        try (TcpProxy link = TcpProxy.to(redis.port())) {
            RedisPresence a = node("redis://127.0.0.1:" + link.port(), Duration.ofSeconds(2), Duration.ofMillis(400));
            RedisPresence b = (RedisPresence) newNode();
            String room = PresenceContract.room("missed");
            Futures.await(a.join(room, "alice"));
            Futures.await(b.join(room, "bob"));

            link.cut(); // a alone loses Redis; Redis keeps its data
            Await.until("a to see Redis down", Duration.ofSeconds(10), () -> !a.healthy());
            assertThat(Futures.await(a.leave(room, "alice"))).as("local answer").isTrue();
            link.restore();

            Await.until("alice's entry to be removed", Duration.ofSeconds(10), () -> Futures.await(b.members(room)).equals(List.of("bob")));
            // Announced by a when its leave is written, or by b if alice's entry expired first: once either way.
            Await.until("alice announced offline", Duration.ofSeconds(10), () -> !announced(room).isEmpty());
            assertThat(announced(room)).hasSize(1).first().satisfies(x -> assertThat(x.online()).isFalse());
            assertThat(Futures.await(a.members(room))).containsExactly("bob");
        }
    }

    @Test
    void the_users_of_a_node_cut_off_longer_than_the_ttl_go_offline_and_come_back_online_with_it() {
        try (TcpProxy link = TcpProxy.to(redis.port())) {
            Duration ttl = Duration.ofSeconds(1);
            RedisPresence a = node("redis://127.0.0.1:" + link.port(), ttl, Duration.ofMillis(200));
            RedisPresence b = node(redis.url(), ttl, Duration.ofMillis(200));
            String room = PresenceContract.room("partition");
            Futures.await(a.join(room, "alice"));
            Futures.await(b.join(room, "bob"));

            link.cut();
            Await.until("b to sweep alice's expired entry", Duration.ofSeconds(10), () -> !announced(room).isEmpty());
            assertThat(Futures.await(b.members(room))).containsExactly("bob");
            link.restore();

            Await.until("alice back", Duration.ofSeconds(10), () -> Futures.await(b.members(room)).equals(List.of("alice", "bob")));
            Await.until("alice announced online again", Duration.ofSeconds(10), () -> announced(room).size() >= 2);
            assertThat(announced(room)).containsExactly(
                    new Announced("n2", room, "alice", false),
                    new Announced("n1", room, "alice", true));
        }
    }

    @Test
    void close_removes_this_nodes_entries_and_announces_the_users_who_leave_with_them() {
        RedisPresence a = (RedisPresence) newNode(), b = (RedisPresence) newNode();
        String room = PresenceContract.room("close");
        Futures.await(a.join(room, "alice"));
        Futures.await(a.join(room, "bob"));
        Futures.await(b.join(room, "bob"));
        Futures.await(a.close());
        assertThat(Futures.await(b.members(room))).containsExactly("bob");
        assertThat(announced(room)).containsExactly(new Announced("n1", room, "alice", false));
    }

    @Test
    void a_node_closes_promptly_while_redis_is_down() {
        RedisPresence a = (RedisPresence) newNode();
        Futures.await(a.join(PresenceContract.room("closing"), "alice"));
        redis.stop();
        Await.until("a to see Redis down", Duration.ofSeconds(10), () -> !a.healthy());
        long start = System.nanoTime();
        Futures.await(a.close());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    /**
     * The room list's counts (issue 20): a thousand lists of 50 rooms within the cache's 2 s cost
     * about one script per room, where the same lists asked afresh cost one per room per list. The
     * numbers are printed: a rough measure of what the cache saves.
     */
    @Test
    void listed_counts_ask_redis_once_per_room_every_two_seconds_however_many_lists_ask() {
        RedisPresence a = node(Duration.ofSeconds(60), Duration.ofSeconds(20)); // no refresh's scripts meanwhile
        List<String> rooms = IntStream.range(0, 50).mapToObj(i -> PresenceContract.room("listed" + i)).toList();
        for (String r : rooms) Futures.await(a.join(r, "alice"));

        long before = scripts();
        long start = System.nanoTime();
        for (int i = 0; i < 1_000; i++) assertThat(Futures.await(a.listedCounts(rooms))).hasSize(50);
        long cached = scripts() - before;
        double seconds = (System.nanoTime() - start) / 1e9;
        before = scripts();
        start = System.nanoTime();
        for (int i = 0; i < 100; i++) assertThat(Futures.await(a.counts(rooms))).hasSize(50);
        long afresh = scripts() - before;
        System.out.printf("[RedisPresenceTest] 1000 lists of 50 rooms with the cache: %.2f s, %d scripts; 100 lists afresh: %.2f s, %d scripts%n",
                seconds, cached, (System.nanoTime() - start) / 1e9, afresh);

        assertThat(cached).as("one per room per 2 s started").isLessThanOrEqualTo(50L * (1 + (long) (seconds / 2)));
        assertThat(afresh).isGreaterThanOrEqualTo(100L * 50);
    }

    /** Scripts Redis has run so far (INFO commandstats: EVAL and EVALSHA). */
    private static long scripts() {
        try (RedisClient admin = RedisClient.create(redis.url()); StatefulRedisConnection<String, String> c = admin.connect()) {
            long n = 0;
            for (String line : c.sync().info("commandstats").split("\r?\n")) {
                if (line.startsWith("cmdstat_eval:") || line.startsWith("cmdstat_evalsha:")) {
                    String calls = line.substring(line.indexOf("calls=") + 6);
                    n += Long.parseLong(calls.substring(0, calls.indexOf(',')));
                }
            }
            return n;
        }
    }
}
