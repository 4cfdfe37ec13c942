package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Members spread over every node of a cluster, in several rooms, all sending at once; then a check
 * that every member got every message of its room exactly once, in seq order, and that the history
 * holds them all.
 */
final class Soak implements AutoCloseable {
    final Cluster cluster;
    final List<String> rooms;
    final List<Member> members = new ArrayList<>();
    final AtomicInteger sent = new AtomicInteger();

    record Member(String user, int node, String room, WsClient ws) {}

    /** Connects {@code perNodePerRoom} members to every node in every room, each a user of their own. */
    Soak(Cluster cluster, String name, int roomCount, int perNodePerRoom) {
        this.cluster = cluster;
        List<String> r = new ArrayList<>();
        for (int i = 0; i < roomCount; i++) r.add(name + "-" + i + "-" + System.nanoTime() % 100_000);
        this.rooms = List.copyOf(r);
        Http http = cluster.node(1).http();
        for (String room : rooms) {
            for (int n = 1; n <= cluster.nodes().size(); n++) {
                for (int k = 0; k < perNodePerRoom; k++) {
                    String user = ParleyServer.unique("u" + n);
                    WsClient ws = cluster.node(n).connect(http.register(user));
                    ws.send("type", "join", "room", room, "ref", "join");
                    ws.await("joined", "join");
                    members.add(new Member(user, n, room, ws));
                }
            }
        }
    }

    /** Every member sends {@code each} messages, all members at once, pausing {@code pace} between two sends. */
    void send(int each, Duration pace) {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (Member m : members) {
                all.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        String id = m.user() + "-" + i;
                        m.ws().send("type", "send", "room", m.room(), "text", "soak " + id, "clientId", id, "ref", "s:" + id);
                        sent.incrementAndGet();
                        if (!pace.isZero()) Thread.sleep(pace);
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) f.get();
        } catch (Exception e) {
            throw new AssertionError("sending failed", e);
        }
    }

    int acked() {
        return members.stream().mapToInt(m -> m.ws().frames("ack").size()).sum();
    }

    List<JsonNode> errors() {
        return members.stream().flatMap(m -> m.ws().frames("error").stream()).toList();
    }

    void awaitAcks(int n, Duration timeout) {
        Await.until(n + " acks (have " + acked() + ", errors " + errors() + ")", timeout, () -> acked() >= n || !errors().isEmpty());
        assertThat(errors()).as("error frames").isEmpty();
        assertThat(acked()).isEqualTo(n);
    }

    /** What the room's members acked: seq by clientId. */
    Map<String, Long> acks(String room) {
        Map<String, Long> out = new HashMap<>();
        for (Member m : members) {
            if (!m.room().equals(room)) continue;
            for (JsonNode a : m.ws().frames("ack")) {
                Long prior = out.put(a.get("clientId").asText(), a.get("seq").asLong());
                assertThat(prior).as("a second ack for " + a.get("clientId")).isNull();
            }
        }
        return out;
    }

    /** Waits until every member has every acked message of its room, then checks order, uniqueness and history. */
    void verify(Duration timeout) {
        for (String room : rooms) {
            Map<String, Long> acks = acks(room);
            int n = acks.size();
            assertThat(List.copyOf(acks.values().stream().sorted().toList())).as("acked seqs of " + room)
                    .isEqualTo(LongStream.rangeClosed(1, n).boxed().toList());
            for (Member m : members) {
                if (!m.room().equals(room)) continue;
                List<JsonNode> got = m.ws().awaitMessages(room, n, timeout);
                assertThat(got.stream().map(f -> f.get("seq").asLong()).toList())
                        .as(m.user() + " on n" + m.node() + " in " + room + ": each message once, in seq order")
                        .isEqualTo(LongStream.rangeClosed(1, n).boxed().toList());
                for (JsonNode f : got) assertThat(acks.get(f.get("clientId").asText())).isEqualTo(f.get("seq").asLong());
            }
            List<JsonNode> history = history(room);
            assertThat(history.stream().map(f -> f.get("seq").asLong()).toList()).isEqualTo(LongStream.rangeClosed(1, n).boxed().toList());
        }
    }

    /** The room's whole history, ascending, paged backwards from the newest through the nodes in turn. */
    List<JsonNode> history(String room) {
        List<JsonNode> out = new ArrayList<>();
        String cursor = "";
        int turn = 0;
        String token = cluster.node(1).http().login(members.getFirst().user());
        while (true) {
            Http http = cluster.nodes().get(turn++ % cluster.nodes().size()).http();
            Http.Response r = http.get("/api/rooms/" + room + "/messages?limit=100" + cursor, token);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode page = r.json();
            List<JsonNode> messages = new ArrayList<>();
            page.get("messages").forEach(messages::add);
            out.addAll(0, messages);
            if (!page.get("hasMore").asBoolean() || messages.isEmpty()) return out;
            cursor = "&before=" + messages.getFirst().get("seq").asLong();
        }
    }

    /** Messages received so far by members of other nodes than the sender's, summed. */
    int deliveries() {
        return members.stream().mapToInt(m -> m.ws().messages(m.room()).size()).sum();
    }

    @Override
    public void close() {
        members.forEach(m -> m.ws().close());
    }
}
