package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
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
