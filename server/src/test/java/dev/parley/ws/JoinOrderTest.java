package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.Limits;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Frames are handled in the order a connection sent them, although a join completes later: a leave
 * or a join sent before the previous join's {@code joined} waits for it. And a connection that joins
 * a room it is in goes on from what it has, repeating and skipping nothing (guarantee 1).
 */
class JoinOrderTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.RATE_LIMIT, "10000")
            .with(Setting.RATE_BURST, "10000");

    @Test
    void joins_and_leaves_sent_at_once_are_answered_in_order_and_the_last_one_counts() {
        String room = Ws.room("switch");
        String alice = ParleyServer.unique("switcher");
        String aliceToken = server.http().register(alice);
        try (WsClient c = server.connect(aliceToken); WsClient bob = server.connect(server.newUser("bystander"))) {
            Ws.join(bob, room);

            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 10; i++) {
                c.send("type", "join", "room", room, "ref", "j" + i);
                c.send("type", "leave", "room", room, "ref", "l" + i);
                expected.append("joined:j").append(i).append(" left:l").append(i).append(' ');
            }
            c.await(Ws.is("left", "l9"), Ws.T, "the last left");

            StringBuilder got = new StringBuilder();
            for (JsonNode f : c.frames()) {
                if (f.path("ref").isMissingNode()) continue; // broadcasts (presence) are not answers
                got.append(f.get("type").asText()).append(':').append(f.path("ref").asText()).append(' ');
            }
            assertThat(got.toString()).isEqualTo(expected.toString());

            // Left for good: not present, and bob's message does not reach it.
            Await.until("the presence route to forget " + alice, Ws.T, () -> !server.http()
                    .get("/api/rooms/" + room + "/presence", server.newUser("asker")).body().contains(alice));
            Ws.send(bob, room, "anyone?", "b1");
            Ws.alive(c);
            assertThat(c.messages(room)).isEmpty();
        }
    }

    @Test
    void a_send_after_a_leave_that_waits_for_a_join_is_refused_as_not_joined() {
        String room = Ws.room("late-send");
        try (WsClient c = server.connect(server.newUser("hasty"))) {
            c.send("type", "join", "room", room, "ref", "j");
            c.send("type", "leave", "room", room, "ref", "l");
            c.send("type", "send", "room", room, "text", "too late", "clientId", "x", "ref", "s");

            assertThat(c.await(Ws.is("error", "s"), Ws.T, "error for the send").get("code").asText()).isEqualTo("not_joined");
            assertThat(c.frames("ack")).isEmpty();
            assertThat(Ws.history(server, server.newUser("reader"), room)).isEmpty();
        }
    }

    /** A join and {@code sends} sends of its room, all in one write: the sends arrive before the join can complete. */
    private static List<String> joinAndSends(String room, int sends) {
        List<String> frames = new ArrayList<>();
        frames.add("{\"type\":\"join\",\"room\":\"" + room + "\",\"ref\":\"j\"}");
        for (int i = 1; i <= sends; i++) frames.add("{\"type\":\"send\",\"room\":\"" + room + "\",\"text\":\"m\",\"clientId\":\"c" + i + "\",\"ref\":\"s" + i + "\"}");
        return frames;
    }

    @Test
    void past_the_frames_that_may_wait_for_one_join_a_frame_is_refused_as_rate_limited_and_the_others_are_taken() throws Exception {
        String room = Ws.room("eager");
        int over = 5;
        try (RawWebSocket ws = RawWebSocket.open(server.port(), server.newUser("eager"))) {
            ws.sendTextsAtOnce(joinAndSends(room, JoinWaits.MAX_WAITING + over));

            List<String> refused = new ArrayList<>(), acked = new ArrayList<>();
            while (acked.size() < JoinWaits.MAX_WAITING) {
                RawWebSocket.Frame f = ws.readText(Ws.T);
                assertThat(f).as("acked %s, refused %s", acked, refused).isNotNull();
                JsonNode n = Http.JSON.readTree(f.text());
                String type = n.get("type").asText();
                if (type.equals("error")) {
                    assertThat(n.get("code").asText()).as(f.text()).isEqualTo("rate_limited"); // a good frame, only early
                    refused.add(n.get("ref").asText());
                } else if (type.equals("ack")) {
                    acked.add(n.get("ref").asText());
                }
            }
            List<String> late = new ArrayList<>();
            for (int i = JoinWaits.MAX_WAITING + 1; i <= JoinWaits.MAX_WAITING + over; i++) late.add("s" + i);
            assertThat(refused).isEqualTo(late);
            assertThat(acked).hasSize(JoinWaits.MAX_WAITING).doesNotContainAnyElementsOf(late);
        }
    }

    @Test
    void a_flood_of_frames_past_those_that_may_wait_for_one_join_closes_with_4029() {
        String room = Ws.room("flood");
        try (RawWebSocket ws = RawWebSocket.open(server.port(), server.newUser("flooder"))) {
            ws.sendTextsAtOnce(joinAndSends(room, JoinWaits.MAX_WAITING + Limits.REFUSALS_BEFORE_CLOSE + 1));

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);
            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.closeCode()).as("rate limit exceeded repeatedly").isEqualTo(4029);
        }
    }

    @Test
    void joining_a_room_again_repeats_nothing_and_skips_nothing() {
        String room = Ws.room("again");
        try (WsClient c = server.connect(server.newUser("rejoiner")); WsClient bob = server.connect(server.newUser("talker"))) {
            Ws.join(c, room);
            Ws.join(bob, room);
            for (int i = 1; i <= 5; i++) bob.send("type", "send", "room", room, "text", "m" + i, "clientId", "m" + i, "ref", "m" + i);
            c.awaitMessages(room, 5, Ws.T);

            // Again with a since it has long passed, while bob goes on; then again without since.
            c.send("type", "join", "room", room, "since", 2, "ref", "again");
            for (int i = 6; i <= 10; i++) bob.send("type", "send", "room", room, "text", "m" + i, "clientId", "m" + i, "ref", "m" + i);
            c.send("type", "join", "room", room, "ref", "again2");
            for (int i = 11; i <= 15; i++) bob.send("type", "send", "room", room, "text", "m" + i, "clientId", "m" + i, "ref", "m" + i);
            c.await(Ws.is("joined", "again"), Ws.T, "joined again");
            c.await(Ws.is("joined", "again2"), Ws.T, "joined again, without since");
            bob.await(Ws.is("ack", "m15"), Ws.T, "ack m15");

            List<JsonNode> got = c.awaitMessages(room, 15, Ws.T);
            Ws.alive(c);
            assertThat(Ws.seqs(c.messages(room))).containsExactlyElementsOf(LongStream.rangeClosed(1, 15).boxed().toList());
            List<String> texts = new ArrayList<>();
            for (JsonNode m : got) texts.add(m.get("text").asText());
            assertThat(texts).doesNotHaveDuplicates();
            assertThat(c.frames("error")).isEmpty();
        }
    }
}
