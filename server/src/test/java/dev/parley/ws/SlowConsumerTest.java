package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 8: a client that stops reading fills only its own bounded queue and is closed with 4002;
 * the others get every message; it comes back with {@code since} and loses nothing.
 */
class SlowConsumerTest {
    private static final int OUTBOX = 64;

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.OUTBOX_FRAMES, String.valueOf(OUTBOX))
            .with(Setting.RATE_LIMIT, "100000")
            .with(Setting.RATE_BURST, "100000")
            .with(Setting.MAX_IN_FLIGHT, "100000"); // sends pipelined past the default 128 unanswered

    private static double slowCloses() {
        // Every reason: its queue full, its socket unwritable too long, or the node's budget.
        return server.server().metrics().registry().get(ChatMetrics.SLOW_CONSUMER_CLOSES).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static long usedHeapAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    @Test
    void a_client_closed_as_too_slow_goes_offline_for_the_others_at_once() {
        String room = Ws.room("slow-offline");
        String frozenUser = ParleyServer.unique("stuck");
        WsClient slow = server.connect(server.http().register(frozenUser));
        try (WsClient sender = server.connect(server.newUser("pusher"))) {
            Ws.join(sender, room);
            Ws.join(slow, room);
            sender.await(Ws.presence(room, frozenUser, "online"), Ws.T, "online");
            slow.stopReading();
            double closesBefore = slowCloses();
            String text = "push ".repeat(650); // about 3 KB a message: the socket buffers fill quickly
            for (int i = 1; slowCloses() == closesBefore; i++) {
                sender.send("type", "send", "room", room, "text", text + i, "clientId", "p" + i, "ref", "p" + i);
                sender.await(Ws.is("ack", "p" + i), Ws.T, "ack p" + i);
                assertThat(i).as("the frozen client was not closed").isLessThan(5_000);
            }

            // The frozen client answers no close frame either: it must not take the closing
            // handshake's 10 s timeout to go offline.
            sender.await(Ws.presence(room, frozenUser, "offline"), Duration.ofSeconds(5), "offline within seconds of the 4002");
        } finally {
            slow.abort();
        }
    }

    @Test
    void a_client_closed_as_too_slow_that_reads_again_and_answers_the_close_sees_the_connection_end() {
        String room = Ws.room("slow-handshake");
        try (WsClient sender = server.connect(server.newUser("pusher"));
             RawWebSocket raw = RawWebSocket.open(server.port(), server.newUser("dozy"))) {
            Ws.join(sender, room);
            raw.sendText("{\"type\":\"join\",\"room\":\"" + room + "\",\"ref\":\"j\"}");
            assertThat(raw.readText(Ws.T).text()).contains("\"joined\"");
            double closesBefore = slowCloses();
            String text = "push ".repeat(650);
            // The raw client reads nothing until the server gives up on it.
            for (int i = 1; slowCloses() == closesBefore; i++) {
                sender.send("type", "send", "room", room, "text", text + i, "clientId", "h" + i, "ref", "h" + i);
                sender.await(Ws.is("ack", "h" + i), Ws.T, "ack h" + i);
                assertThat(i).as("the dozy client was not closed").isLessThan(5_000);
            }

            ClosingHandshakeTest.answerTheCloseAndSeeTheEnd(raw, 4002);
        }
    }

    @Test
    void a_client_that_stops_reading_is_closed_with_4002_while_the_others_get_everything_and_it_resumes_losing_nothing() {
        String room = Ws.room("flood");
        String slowToken = server.newUser("frozen");
        String text = "flood ".repeat(650); // about 4 KB a message: the socket buffers fill quickly
        WsClient slow = server.connect(slowToken);
        try (WsClient sender = server.connect(server.newUser("flooder")); WsClient reader = server.connect(server.newUser("reader"))) {
            Ws.join(slow, room);
            Ws.join(sender, room);
            Ws.join(reader, room);
            slow.stopReading();
            double closesBefore = slowCloses();
            long heapBefore = usedHeapAfterGc();

            // Flood until the server gives up on the frozen client, then some more.
            int sent = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            int extra = -1;
            while (extra != 0) {
                sent++;
                sender.send("type", "send", "room", room, "text", text + sent, "clientId", "f" + sent, "ref", "f" + sent);
                if (sent > 20) sender.await(Ws.is("ack", "f" + (sent - 20)), Ws.T, "ack f" + (sent - 20));
                if (extra > 0) extra--;
                if (extra < 0 && slowCloses() > closesBefore) extra = 200;
                assertThat(System.nanoTime()).as("the frozen client was not closed after %d messages", sent).isLessThan(deadline);
            }
            int total = sent;
            sender.await(Ws.is("ack", "f" + total), Ws.T, "last ack");

            // Everyone else got every message, once, in order.
            List<Long> all = LongStream.rangeClosed(1, total).boxed().toList();
            for (WsClient c : List.of(sender, reader)) {
                c.awaitMessages(room, total, Duration.ofSeconds(60));
                Ws.alive(c);
                assertThat(Ws.seqs(c.messages(room))).containsExactlyElementsOf(all);
            }
            assertThat(slowCloses()).isEqualTo(closesBefore + 1);
            long heapAfter = usedHeapAfterGc();
            assertThat(heapAfter - heapBefore).as("heap growth after %d messages of 4 KB", total).isLessThan(64L << 20);

            // The frozen client, once it reads again, finds what was sent before the close, then 4002.
            slow.resumeReading();
            assertThat(slow.awaitClose(Duration.ofSeconds(60))).isEqualTo(4002);
            List<Long> before = Ws.seqs(slow.messages(room));
            long since = before.isEmpty() ? 0 : before.get(before.size() - 1);
            assertThat(before).containsExactlyElementsOf(LongStream.rangeClosed(1, since).boxed().toList());
            assertThat(since).as("it was closed before the end").isLessThan(total);

            // It resumes with since and, with history for what the replay did not cover, has everything.
            try (WsClient back = server.connect(slowToken)) {
                JsonNode joined = Ws.join(back, room, since);
                long lastSeq = joined.get("lastSeq").asLong();
                List<Long> replayed = new ArrayList<>();
                Await.until("the replay up to " + lastSeq + " after " + since + " (recovered " + joined.get("recovered") + "; so far "
                        + back.messages(room).size() + " messages, close " + back.closeCode() + ")", Duration.ofSeconds(60), () -> {
                    List<JsonNode> m = back.messages(room);
                    return !m.isEmpty() && m.get(m.size() - 1).get("seq").asLong() >= lastSeq;
                });
                Ws.alive(back);
                assertThat(back.isOpen()).as("closed with %s", back.closeCode()).isTrue();
                replayed.addAll(Ws.seqs(back.messages(room)));
                long firstReplayed = replayed.get(0);
                List<Long> paged = new ArrayList<>();
                if (!joined.get("recovered").asBoolean()) {
                    for (JsonNode m : Ws.history(server, slowToken, room)) {
                        if (m.get("seq").asLong() > since && m.get("seq").asLong() < firstReplayed) paged.add(m.get("seq").asLong());
                    }
                } else {
                    assertThat(firstReplayed).isEqualTo(since + 1);
                }
                List<Long> got = new ArrayList<>(before);
                got.addAll(paged);
                got.addAll(replayed);
                assertThat(got).containsExactlyElementsOf(all);
            }
        } finally {
            slow.abort();
        }
    }

    @Test
    void a_resume_that_missed_more_than_the_outbox_holds_is_not_closed_for_it_and_pages_the_rest() {
        String room = Ws.room("backlog");
        String token = server.newUser("returning");
        try (WsClient writer = server.connect(server.newUser("writer"))) {
            Ws.join(writer, room);
            for (int i = 1; i <= 5 * OUTBOX; i++) {
                writer.send("type", "send", "room", room, "text", "m" + i, "clientId", "c" + i, "ref", "r" + i);
                // A few in flight at most: with an outbox this small, acks and deliveries of a whole burst would not fit.
                if (i > 10) writer.await(Ws.is("ack", "r" + (i - 10)), Ws.T, "ack r" + (i - 10));
            }
            writer.await(Ws.is("ack", "r" + 5 * OUTBOX), Ws.T, "last ack");
        }
        try (WsClient back = server.connect(token)) {
            JsonNode joined = Ws.join(back, room, 0);
            Ws.alive(back);

            assertThat(back.isOpen()).as("closed with %s", back.closeCode()).isTrue();
            assertThat(joined.get("recovered").asBoolean()).isFalse();
            List<Long> replayed = Ws.seqs(back.messages(room));
            assertThat(replayed).isNotEmpty().hasSizeLessThan(OUTBOX);
            assertThat(replayed).containsExactlyElementsOf(LongStream.rangeClosed(5 * OUTBOX - replayed.size() + 1, 5 * OUTBOX).boxed().toList());
            assertThat(Ws.history(server, token, room)).hasSize(5 * OUTBOX);
        }
    }
}
