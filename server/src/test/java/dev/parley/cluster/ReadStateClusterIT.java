package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Cluster;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Read state across nodes (PROTOCOL.md, read state; issue 21 item 6): a user's read on node A
 * reaches their connection on node B live, and B's room list and joins tell the same marker and
 * counts, read from the shared PostgreSQL. Two nodes on real PostgreSQL and Redis; asserted as the
 * user's two devices see it.
 */
class ReadStateClusterIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(2);

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final AtomicInteger IDS = new AtomicInteger();

    private static String ref(String base) {
        return base + "-" + IDS.incrementAndGet();
    }

    private static JsonNode join(WsClient c, String room) {
        String ref = ref("j");
        c.send("type", "join", "room", room, "ref", ref);
        return c.await("joined", ref);
    }

    private static long send(WsClient c, String room, String text) {
        String ref = ref("s");
        c.send("type", "send", "room", room, "text", text, "clientId", ref, "ref", ref);
        return c.await("ack", ref).get("seq").asLong();
    }

    private static JsonNode listed(ParleyServer node, String token, String room) {
        Http.Response r = node.http().get("/api/rooms?prefix=" + room, token);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        for (JsonNode n : r.json()) if (n.get("name").asText().equals(room)) return n;
        throw new AssertionError(room + " not listed: " + r.body());
    }

    @Test
    void a_read_on_one_node_reaches_the_users_connection_on_another_and_both_nodes_list_the_same_counts() {
        ParleyServer a = cluster.node(1), b = cluster.node(2);
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = a.http().register(alice), tb = a.http().register(bob);
        String room = "rs-" + IDS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        try (WsClient sender = a.connect(ta); WsClient phone = a.connect(tb); WsClient laptop = b.connect(tb)) {
            join(sender, room);
            join(phone, room);
            join(laptop, room);
            send(sender, room, "one");
            send(sender, room, "are you there @" + bob + "?");
            long last = send(sender, room, "three");
            laptop.awaitMessages(room, 3, WAIT); // B has them: its list counts what the store holds

            JsonNode before = listed(b, tb, room);
            assertThat(before.get("unread").asInt()).isEqualTo(3);
            assertThat(before.get("mentions").asInt()).isEqualTo(1);

            String ref = ref("r");
            phone.send("type", "read", "room", room, "seq", last, "ref", ref);
            JsonNode answer = phone.await("read", ref);
            assertThat(answer.get("seq").asLong()).isEqualTo(last);
            assertThat(answer.get("unread").asInt()).isZero();

            JsonNode told = laptop.await(f -> "read".equals(f.path("type").asText()) && room.equals(f.path("room").asText()), WAIT, "read on node B");
            assertThat(told.get("seq").asLong()).isEqualTo(last);
            assertThat(told.get("unread").asInt()).isZero();
            assertThat(told.get("mentions").asInt()).isZero();
            assertThat(told.has("ref")).isFalse();
            assertThat(sender.frames("read")).isEmpty();

            for (ParleyServer node : cluster.nodes()) {
                JsonNode after = listed(node, tb, room);
                assertThat(after.get("readSeq").asLong()).isEqualTo(last);
                assertThat(after.get("unread").asInt()).isZero();
                assertThat(after.get("mentions").asInt()).isZero();
            }
        }
        try (WsClient again = b.connect(tb)) {
            JsonNode joined = join(again, room);
            assertThat(joined.get("readSeq").asLong()).isEqualTo(joined.get("lastSeq").asLong());
            assertThat(joined.get("unread").asInt()).isZero();
        }
    }
}
