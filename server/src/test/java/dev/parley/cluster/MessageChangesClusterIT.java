package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The changes of a message across nodes (PROTOCOL.md, issue 21): an edit, a reply, a reaction and a
 * deletion made on one node reach a member on another live (through Redis, and from PostgreSQL while
 * Redis is down), each once and in the room's order, and a client resuming with {@code since} on
 * either node gets them, and history there shows the message's current state. Two nodes on real
 * PostgreSQL and Redis; everything is asserted as a client sees it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MessageChangesClusterIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(2);

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final String THUMBS = "\uD83D\uDC4D";

    private static ParleyServer a() {
        return cluster.node(1);
    }

    private static ParleyServer b() {
        return cluster.node(2);
    }

    private static String room(String base) {
        return "mcc-" + base + "-" + IDS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    private static JsonNode answer(WsClient ws, Object... kv) {
        String ref = "r" + IDS.incrementAndGet();
        Object[] all = new Object[kv.length + 2];
        System.arraycopy(kv, 0, all, 0, kv.length);
        all[kv.length] = "ref";
        all[kv.length + 1] = ref;
        ws.send(all);
        JsonNode a = ws.await(f -> ref.equals(f.path("ref").asText()), WAIT, "an answer to " + ref);
        return a;
    }

    private static long acked(JsonNode a) {
        assertThat(a.path("type").asText()).as(a.toString()).isIn("ack", "joined");
        return a.path("seq").asLong();
    }

    private static JsonNode awaitEvent(WsClient ws, String room, String type, Predicate<JsonNode> also) {
        return ws.await(f -> "message".equals(f.path("type").asText()) && room.equals(f.path("room").asText())
                && type.equals(f.path("event").path("type").asText()) && also.test(f), WAIT, type + " in " + room);
    }

    private static List<Long> seqs(WsClient ws, String room) {
        return ws.messages(room).stream().map(m -> m.get("seq").asLong()).toList();
    }

    private static long lastSeq(ParleyServer node, String token, String room) {
        return node.http().get("/api/rooms/" + room, token).json().get("lastSeq").asLong();
    }

    private static JsonNode stored(ParleyServer node, String token, String room, long seq) {
        return node.http().get("/api/rooms/" + room + "/messages?after=" + (seq - 1) + "&limit=1", token).json().get("messages").get(0);
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    @Order(1)
    void an_edit_a_reply_a_reaction_and_a_deletion_on_one_node_reach_the_other_live_and_on_resume() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = a().http().register(alice), tb = a().http().register(bob);
        String room = room("live");
        long since;
        long target, reply, reaction, deletion;
        try (WsClient onA = a().connect(ta); WsClient onB = b().connect(tb)) {
            acked(answer(onA, "type", "join", "room", room));
            acked(answer(onB, "type", "join", "room", room));
            Await.until("2 subscriptions to " + room, () -> cluster.subscribers(room) == 2);
            target = acked(answer(onA, "type", "send", "room", room, "text", "on node one", "clientId", "c1"));
            onB.awaitMessages(room, 1, WAIT);
            since = target;

            acked(answer(onA, "type", "edit", "room", room, "seq", target, "text", "on node one, edited"));
            JsonNode edited = awaitEvent(onB, room, "edited", f -> true);
            assertThat(edited.get("event").get("text").asText()).isEqualTo("on node one, edited");

            reply = acked(answer(onB, "type", "send", "room", room, "text", "from node two", "clientId", "c2", "replyTo", target));
            JsonNode replied = onA.await(f -> "message".equals(f.path("type").asText()) && f.path("seq").asLong() == reply, WAIT, "the reply on A");
            assertThat(replied.get("replyTo").asLong()).isEqualTo(target);

            reaction = acked(answer(onB, "type", "react", "room", room, "seq", target, "emoji", THUMBS, "on", true));
            JsonNode reacted = awaitEvent(onA, room, "reaction", f -> true);
            assertThat(reacted.get("event").get("user").asText()).isEqualTo(bob);

            JsonNode notHers = answer(onA, "type", "delete", "room", room, "seq", reply);
            assertThat(notHers.path("code").asText()).as("a room made by a join has no moderators: " + notHers).isEqualTo("forbidden");
            deletion = acked(answer(onB, "type", "delete", "room", room, "seq", reply));
            awaitEvent(onA, room, "deleted", f -> f.path("event").path("seq").asLong() == reply);

            long last = lastSeq(a(), ta, room);
            assertThat(seqs(onB, room)).as("each seq once, in order, on node two").isEqualTo(range(target, last));
            assertThat(seqs(onA, room)).as("and on node one").isEqualTo(range(target, last));
        }

        // bob resumes on node one, alice on node two
        long last = lastSeq(b(), tb, room);
        for (var who : List.of(new Object[]{a(), tb}, new Object[]{b(), ta})) {
            try (WsClient ws = ((ParleyServer) who[0]).connect((String) who[1])) {
                JsonNode joined = answer(ws, "type", "join", "room", room, "since", since);
                assertThat(joined.get("recovered").asBoolean()).isTrue();
                List<JsonNode> replay = ws.awaitMessages(room, (int) (last - since), WAIT);
                assertThat(replay.stream().map(m -> m.get("seq").asLong()).toList()).isEqualTo(range(since + 1, last));
                assertThat(replay.stream().map(m -> m.path("event").path("type").asText()).toList())
                        .containsExactly("edited", "", "reaction", "deleted");
            }
        }
        JsonNode now = stored(b(), tb, room, target);
        assertThat(now.get("text").asText()).isEqualTo("on node one, edited");
        assertThat(now.get("reactions").get(0).get("emoji").asText()).isEqualTo(THUMBS);
        assertThat(now.get("lastChange").asLong()).isEqualTo(reaction);
        JsonNode gone = stored(a(), ta, room, reply);
        assertThat(gone.get("deleted").asBoolean()).isTrue();
        assertThat(gone.get("replyTo").asLong()).isEqualTo(target);
        assertThat(gone.get("lastChange").asLong()).isEqualTo(deletion);
    }

    @Test
    @Order(2)
    void with_redis_down_a_change_on_one_node_reaches_the_other_from_the_store() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = a().http().register(alice), tb = a().http().register(bob);
        String room = room("outage");
        try (WsClient onA = a().connect(ta); WsClient onB = b().connect(tb)) {
            acked(answer(onA, "type", "join", "room", room));
            acked(answer(onB, "type", "join", "room", room));
            Await.until("2 subscriptions to " + room, () -> cluster.subscribers(room) == 2);
            long target = acked(answer(onB, "type", "send", "room", room, "text", "before the outage", "clientId", "c1"));
            onA.awaitMessages(room, 1, WAIT);

            cluster.redis().stop();
            try {
                acked(answer(onA, "type", "react", "room", room, "seq", target, "emoji", THUMBS, "on", true));
                acked(answer(onB, "type", "edit", "room", room, "seq", target, "text", "during the outage"));
                awaitEvent(onB, room, "reaction", f -> true);
                awaitEvent(onA, room, "edited", f -> true);
            } finally {
                cluster.redis().start();
            }
            assertThat(seqs(onA, room)).isEqualTo(range(target, target + 2));
            Await.until("node two has every seq once", () -> seqs(onB, room).equals(range(target, target + 2)));
        }
    }
}
