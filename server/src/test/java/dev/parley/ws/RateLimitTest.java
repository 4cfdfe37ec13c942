package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rate limit (PROTOCOL.md section 6), default 20 sends a second with bursts of 40: beyond it
 * {@code rate_limited}; Connection closes with 4029 once more than twice the burst were refused
 * within its 10-second window.
 */
class RateLimitTest {
    private static final int BURST = 40;

    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    /** Sends {@code n} messages as fast as the socket takes them; refs and clientIds are "r1".."rn". */
    private static void flood(WsClient c, String room, int n) {
        for (int i = 1; i <= n; i++) c.send("type", "send", "room", room, "text", "spam " + i, "clientId", "r" + i, "ref", "r" + i);
    }

    private static Set<String> refs(List<JsonNode> frames) {
        Set<String> out = new HashSet<>();
        for (JsonNode f : frames) out.add(f.get("ref").asText());
        return out;
    }

    @Test
    void sends_beyond_the_burst_get_rate_limited_and_only_the_acked_ones_are_stored() {
        String token = server.newUser("eager");
        String room = Ws.room("eager");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);

            flood(c, room, 100); // 60 over the burst: refused, yet not enough to be closed
            Await.until("an answer to each of 100 sends", Ws.T, () -> c.frames("ack").size() + c.frames("error").size() >= 100);
            Ws.alive(c);

            List<JsonNode> acks = c.frames("ack"), errors = c.frames("error");
            assertThat(acks.size() + errors.size()).isEqualTo(100);
            assertThat(acks.size()).as("the burst, and what refilled meanwhile").isBetween(BURST, 99);
            assertThat(errors).isNotEmpty().allSatisfy(e -> assertThat(e.get("code").asText()).isEqualTo("rate_limited"));
            Set<String> stored = new HashSet<>();
            Ws.history(server, token, room).forEach(m -> stored.add(m.get("clientId").asText()));
            assertThat(stored).isEqualTo(refs(acks));
            assertThat(stored).doesNotContainAnyElementsOf(refs(errors));
        }
    }

    @Test
    void two_hundred_rapid_sends_are_limited_and_the_sustained_abuse_closes_with_4029() {
        String token = server.newUser("abuser");
        String room = Ws.room("abuse");
        try (WsClient watcher = server.connect(server.newUser("watcher"))) {
            Ws.join(watcher, room);
            WsClient c = server.connect(token);
            Ws.join(c, room);

            try {
                flood(c, room, 200);
            } catch (RuntimeException closedMeanwhile) {
                // the server may close before the last of them is written
            }

            assertThat(c.awaitClose(Ws.T)).isEqualTo(4029);
            List<JsonNode> acks = c.frames("ack"), errors = c.frames("error");
            assertThat(errors).as("refusals answered before the close").hasSize(2 * BURST)
                    .allSatisfy(e -> assertThat(e.get("code").asText()).isEqualTo("rate_limited"));
            Set<String> stored = new HashSet<>();
            List<JsonNode> history = Ws.history(server, token, room);
            history.forEach(m -> stored.add(m.get("clientId").asText()));
            // Every send taken before the close was answered before it: an ack for each message stored
            // (and received as a message), and nothing refused is stored.
            assertThat(stored.size()).isGreaterThanOrEqualTo(BURST);
            assertThat(refs(acks)).as("acks before the close").isEqualTo(stored);
            assertThat(c.messages(room)).as("own messages before the close").hasSameSizeAs(acks);
            assertThat(stored).doesNotContainAnyElementsOf(refs(errors));
            watcher.awaitMessages(room, history.size(), Ws.T);
            Ws.alive(watcher);
            assertThat(Ws.seqs(watcher.messages(room))).isEqualTo(Ws.seqs(history));
            c.abort();
        }
    }

    @Test
    void the_limit_is_per_connection() {
        String token = server.newUser("two-tabs");
        String room = Ws.room("tabs");
        try (WsClient first = server.connect(token); WsClient second = server.connect(token)) {
            Ws.join(first, room);
            Ws.join(second, room);
            flood(first, room, 50);
            Await.until("answers to the first connection's sends", Ws.T, () -> first.frames("ack").size() + first.frames("error").size() >= 50);
            assertThat(first.frames("error")).isNotEmpty();

            for (int i = 1; i <= 10; i++) Ws.send(second, room, "calm " + i, "calm-" + i);

            assertThat(second.frames("error")).isEmpty();
        }
    }

    @Test
    void typing_is_not_a_send_and_does_not_use_up_the_send_limit() {
        String room = Ws.room("typist");
        try (WsClient c = server.connect(server.newUser("typist"))) {
            Ws.join(c, room);
            for (int i = 0; i < 100; i++) c.send("type", "typing", "room", room);

            for (int i = 1; i <= 10; i++) Ws.send(c, room, "typed " + i, "t" + i);

            Ws.alive(c);
            assertThat(c.frames("error")).isEmpty();
        }
    }
}
