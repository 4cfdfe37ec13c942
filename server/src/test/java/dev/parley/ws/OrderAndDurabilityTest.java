package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Guarantees 1 (order, exactly once, the sender included) and 2 (an ack means the message is stored). */
class OrderAndDurabilityTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.RATE_LIMIT, "10000")
            .with(Setting.RATE_BURST, "10000")
            .with(Setting.MAX_IN_FLIGHT, "100000"); // sends pipelined past the default 128 unanswered

    private static final int SENDERS = 4;
    private static final int EACH = 75;

    @Test
    void with_concurrent_senders_every_member_gets_each_message_exactly_once_in_increasing_seq() throws Exception {
        String room = Ws.room("order");
        List<WsClient> senders = new ArrayList<>();
        List<WsClient> listeners = new ArrayList<>();
        List<String> senderNames = new ArrayList<>();
        try {
            for (int i = 0; i < SENDERS; i++) {
                String name = ParleyServer.unique("sender" + i);
                senderNames.add(name);
                WsClient c = server.connect(server.http().register(name));
                Ws.join(c, room);
                senders.add(c);
            }
            for (int i = 0; i < 2; i++) {
                WsClient c = server.connect(server.newUser("listener" + i));
                Ws.join(c, room);
                listeners.add(c);
            }

            ExecutorService pool = Executors.newFixedThreadPool(SENDERS);
            List<Future<?>> sending = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                WsClient c = senders.get(s);
                int sender = s;
                sending.add(pool.submit(() -> {
                    for (int i = 1; i <= EACH; i++) {
                        c.send("type", "send", "room", room, "text", "from " + sender + " #" + i, "clientId", "s" + sender + "-" + i, "ref", "r" + i);
                    }
                }));
            }
            for (Future<?> f : sending) f.get();
            pool.shutdown();

            int total = SENDERS * EACH;
            List<Long> expected = LongStream.rangeClosed(1, total).boxed().toList();
            List<WsClient> everyone = new ArrayList<>(senders);
            everyone.addAll(listeners);
            for (WsClient c : everyone) {
                c.awaitMessages(room, total, Duration.ofSeconds(60));
                Ws.alive(c); // anything extra would have arrived by now
                assertThat(Ws.seqs(c.messages(room))).as("seqs seen by a member").containsExactlyElementsOf(expected);
            }
            // Every member saw the same message under each seq.
            List<JsonNode> reference = listeners.get(0).messages(room);
            for (WsClient c : everyone) {
                List<JsonNode> got = c.messages(room);
                for (int i = 0; i < total; i++) assertThat(got.get(i).get("id")).isEqualTo(reference.get(i).get("id"));
            }
            // Each sender's own messages are in its send order, and each has an ack matching the delivery.
            Map<String, JsonNode> byClientId = new HashMap<>();
            for (JsonNode m : reference) byClientId.put(m.get("from").asText() + "/" + m.get("clientId").asText(), m);
            assertThat(byClientId).hasSize(total);
            for (int s = 0; s < SENDERS; s++) {
                WsClient c = senders.get(s);
                awaitAcks(c, EACH);
                long previous = 0;
                for (int i = 1; i <= EACH; i++) {
                    JsonNode m = byClientId.get(senderNames.get(s) + "/s" + s + "-" + i);
                    assertThat(m).isNotNull();
                    assertThat(m.get("seq").asLong()).isGreaterThan(previous);
                    previous = m.get("seq").asLong();
                }
                for (JsonNode ack : c.frames("ack")) {
                    JsonNode m = byClientId.get(senderNames.get(s) + "/" + ack.get("clientId").asText());
                    assertThat(ack.get("seq")).isEqualTo(m.get("seq"));
                    assertThat(ack.get("id")).isEqualTo(m.get("id"));
                }
            }
            assertThat(new HashSet<>(reference.stream().map(m -> m.get("id").asText()).toList())).hasSize(total);
        } finally {
            senders.forEach(WsClient::close);
            listeners.forEach(WsClient::close);
        }
    }

    @Test
    void a_message_is_in_the_history_the_moment_its_ack_arrives() {
        String user = ParleyServer.unique("durable");
        String token = server.http().register(user);
        String room = Ws.room("durable");
        try (WsClient c = server.connect(token); WsClient other = server.connect(server.newUser("other"))) {
            Ws.join(c, room);
            Ws.join(other, room);
            for (int i = 1; i <= 30; i++) {
                // Another sender keeps the group commit busy meanwhile.
                other.send("type", "send", "room", room, "text", "noise " + i, "clientId", "n" + i);
                JsonNode ack = Ws.send(c, room, "durable " + i, "d" + i);

                long seq = ack.get("seq").asLong();
                Http.Response r = server.http().get("/api/rooms/" + room + "/messages?limit=1&before=" + (seq + 1), token);
                JsonNode stored = r.json().get("messages").get(0);
                assertThat(stored.get("seq").asLong()).isEqualTo(seq);
                assertThat(stored.get("id").asText()).isEqualTo(ack.get("id").asText());
                assertThat(stored.get("text").asText()).isEqualTo("durable " + i);
                assertThat(stored.get("ts").asText()).isEqualTo(ack.get("ts").asText());
            }
        }
    }

    @Test
    void every_acked_message_of_a_burst_is_in_the_history() {
        String token = server.newUser("burst");
        String room = Ws.room("burst");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);
            for (int i = 1; i <= 250; i++) c.send("type", "send", "room", room, "text", "b" + i, "clientId", "b" + i);
            awaitAcks(c, 250);

            List<JsonNode> history = Ws.history(server, token, room);

            Map<Long, String> stored = new HashMap<>();
            for (JsonNode m : history) stored.put(m.get("seq").asLong(), m.get("id").asText());
            for (JsonNode ack : c.frames("ack")) {
                assertThat(stored.get(ack.get("seq").asLong())).as("acked %s", ack).isEqualTo(ack.get("id").asText());
            }
        }
    }

    private static void awaitAcks(WsClient c, int n) {
        Await.until(n + " acks", Duration.ofSeconds(60), () -> c.frames("ack").size() >= n);
    }
}
