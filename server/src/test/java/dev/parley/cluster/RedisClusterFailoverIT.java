package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import dev.parley.testing.RedisCluster;
import dev.parley.testing.WsClient;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two nodes, each the built jar run as a process, on PostgreSQL and a real Redis Cluster (three
 * primaries, a replica each): one room on each shard, members of every room on both nodes, all
 * sending; then one shard's primary is killed with SIGKILL mid-traffic.
 */
class RedisClusterFailoverIT {
    private static final int EACH = 100;
    private static final Duration PACE = Duration.ofMillis(40);

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    private record Room(String name, int slot, int port) {
        String channel() {
            return "parley:room:" + name;
        }
    }

    private record Member(String user, JarProcess node, Room room, WsClient ws) {}

    @Test
    void when_a_shards_primary_is_killed_mid_traffic_every_acked_message_arrives_once_in_order_and_delivery_through_redis_resumes_by_itself() {
        try (RedisCluster redis = RedisCluster.start(3, 1)) {
            String db = Postgres.shared().newDatabase();
            Map<String, String> settings = Map.of(
                    Setting.DATABASE_URL.env, db, Setting.DATABASE_USER.env, "postgres", Setting.DATABASE_PASSWORD.env, "postgres",
                    Setting.REDIS_URL.env, redis.url(), Setting.EVENT_LOOPS.env, "2",
                    Setting.RATE_LIMIT.env, "10000", Setting.RATE_BURST.env, "10000", Setting.MAX_IN_FLIGHT.env, "100000",
                    Setting.ROOMS_PER_HOUR.env, "0");
            // Side by side: each waits seconds for its JVM.
            CompletableFuture<JarProcess> startingB = CompletableFuture.supplyAsync(() -> processes.node("b", settings));
            JarProcess a = processes.node("a", settings), b = startingB.join();
            List<JarProcess> nodes = List.of(a, b);

            // One room per primary: rooms spread over the shards by their channels' slots.
            List<Room> rooms = new ArrayList<>();
            Set<Integer> primaries = new HashSet<>();
            String suffix = Long.toString(System.nanoTime() % 100_000);
            for (int i = 0; rooms.size() < 3; i++) {
                String name = "shard-" + i + "-" + suffix;
                int slot = SlotHash.getSlot("parley:room:" + name);
                int port = redis.ownerOf(slot).port();
                if (primaries.add(port)) rooms.add(new Room(name, slot, port));
            }

            Http http = new Http(a.baseUrl());
            List<Member> members = new ArrayList<>();
            for (Room room : rooms) {
                for (JarProcess node : nodes) {
                    String user = ParleyServer.unique("u");
                    WsClient ws = WsClient.connect(URI.create("ws://127.0.0.1:" + node.port() + "/ws?token=" + http.register(user)), Map.of());
                    ws.send("type", "join", "room", room.name(), "ref", "join");
                    ws.await("joined", "join");
                    members.add(new Member(user, node, room, ws));
                }
            }
            try {
                for (Room room : rooms) {
                    Await.until("both nodes subscribed to " + room.channel() + " at port " + room.port(), Duration.ofSeconds(10),
                            () -> redis.shardSubscribers(room.channel(), room.slot()) == 2);
                }
                int total = members.size() * EACH;
                CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> send(members, EACH, PACE));
                Await.until("a quarter acked", Duration.ofSeconds(30), () -> acked(members) >= total / 4);

                Room victim = rooms.getFirst();
                redis.kill(victim.port());
                long killed = System.nanoTime();
                RedisCluster.Node successor = redis.awaitFailover(victim.slot(), victim.port(), Duration.ofSeconds(30));
                System.out.printf("redis cluster: port %d killed, its replica on port %d took slot %d over after %.1f s%n",
                        victim.port(), successor.port(), victim.slot(), (System.nanoTime() - killed) / 1e9);

                sending.join();
                Await.until(total + " acks (have " + acked(members) + ")", Duration.ofSeconds(60), () -> acked(members) >= total || !errors(members).isEmpty());
                assertThat(errors(members)).as("error frames").isEmpty();
                verify(members, rooms);

                // By itself: each node subscribed again at the new primary, and is ready again.
                Await.until("both nodes to subscribe again at port " + successor.port(), Duration.ofSeconds(20),
                        () -> redis.shardSubscribers(victim.channel(), victim.slot()) == 2);
                for (JarProcess node : nodes) {
                    Await.until("node " + node.port() + " ready", Duration.ofSeconds(20),
                            () -> new Http(node.baseUrl()).get("/health/ready", null).status() == 200);
                }
                // And messages of the room travel through Redis again, not only through the store's repair:
                // b counts an arrival through the broker for a message a sends now.
                Member sender = members.stream().filter(m -> m.room() == victim && m.node() == a).findFirst().orElseThrow();
                Member receiver = members.stream().filter(m -> m.room() == victim && m.node() == b).findFirst().orElseThrow();
                Http bAdmin = new Http(b.adminBaseUrl());
                int[] sent = {0};
                Await.until("a message of " + victim.name() + " to reach b through Redis", Duration.ofSeconds(20), () -> {
                    double before = metric(bAdmin.get("/metrics", null).body(), "parley_broker_lag_seconds_count");
                    String id = "after-" + sent[0]++;
                    int had = receiver.ws().messages(victim.name()).size();
                    sender.ws().send("type", "send", "room", victim.name(), "text", id, "clientId", id, "ref", "s:" + id);
                    receiver.ws().awaitMessages(victim.name(), had + 1, Duration.ofSeconds(5));
                    return metric(bAdmin.get("/metrics", null).body(), "parley_broker_lag_seconds_count") > before;
                });
                Await.until("the acks after the failover", Duration.ofSeconds(10), () -> acked(members) == total + sent[0]);
                verify(members, rooms);
                assertThat(errors(members)).as("error frames").isEmpty();
            } finally {
                members.forEach(m -> m.ws().close());
            }
        }
    }

    private static void send(List<Member> members, int each, Duration pace) {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (Member m : members) {
                all.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        String id = m.user() + "-" + i;
                        m.ws().send("type", "send", "room", m.room().name(), "text", "traffic " + id, "clientId", id, "ref", "s:" + id);
                        Thread.sleep(pace);
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) f.get();
        } catch (Exception e) {
            throw new AssertionError("sending failed", e);
        }
    }

    private static int acked(List<Member> members) {
        return members.stream().mapToInt(m -> m.ws().frames("ack").size()).sum();
    }

    private static List<JsonNode> errors(List<Member> members) {
        return members.stream().flatMap(m -> m.ws().frames("error").stream()).toList();
    }

    /** Every member has every acked message of its room, each once, in seq order, as acked. */
    private static void verify(List<Member> members, List<Room> rooms) {
        for (Room room : rooms) {
            Map<String, Long> acks = new HashMap<>();
            for (Member m : members) {
                if (m.room() != room) continue;
                for (JsonNode ack : m.ws().frames("ack")) {
                    assertThat(acks.put(ack.get("clientId").asText(), ack.get("seq").asLong())).as("a second ack for " + ack.get("clientId")).isNull();
                }
            }
            int n = acks.size();
            assertThat(acks.values().stream().sorted().toList()).as("acked seqs of " + room.name()).isEqualTo(LongStream.rangeClosed(1, n).boxed().toList());
            for (Member m : members) {
                if (m.room() != room) continue;
                List<JsonNode> got = m.ws().awaitMessages(room.name(), n, Duration.ofSeconds(30));
                assertThat(got.stream().map(f -> f.get("seq").asLong()).toList())
                        .as(m.user() + " on node " + m.node().port() + " in " + room.name() + ": each message once, in seq order")
                        .isEqualTo(LongStream.rangeClosed(1, n).boxed().toList());
                for (JsonNode f : got) assertThat(acks.get(f.get("clientId").asText())).isEqualTo(f.get("seq").asLong());
            }
        }
    }

    private static double metric(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(metrics);
        double sum = 0;
        while (m.find()) sum += Double.parseDouble(m.group(2));
        return sum;
    }
}
