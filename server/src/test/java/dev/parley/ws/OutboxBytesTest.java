package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 8 in bytes: a client that asks for history pages and reads none is closed with 4002 once
 * its queue holds {@code CHAT_OUTBOX_BYTES}, long before it holds {@code CHAT_OUTBOX_FRAMES} frames.
 * Counted in frames alone, each page of 100 long messages (about 400 KB) could pin the node's heap.
 */
class OutboxBytesTest {
    private static final int MIN_OUTBOX_BYTES = 128 * 16384; // the least CHAT_OUTBOX_BYTES takes: 2 MiB

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.OUTBOX_BYTES, String.valueOf(MIN_OUTBOX_BYTES))
            .with(Setting.RATE_LIMIT, "100000")
            .with(Setting.RATE_BURST, "100000");

    private static double slowCloses() {
        // Every reason: its queue full, its socket unwritable too long, or the node's budget.
        return server.server().metrics().registry().get(ChatMetrics.SLOW_CONSUMER_CLOSES).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    @Test
    void a_client_that_hoards_history_pages_is_closed_with_4002_and_the_others_go_on() {
        String room = Ws.room("hoard");
        String text = "h".repeat(3990);
        try (WsClient writer = server.connect(server.newUser("archivist"))) {
            Ws.join(writer, room);
            for (int i = 1; i <= 100; i++) writer.send("type", "send", "room", room, "text", text + i, "clientId", "h" + i, "ref", "h" + i);
            writer.await(Ws.is("ack", "h100"), Ws.T, "ack h100");

            double closesBefore = slowCloses();
            WsClient hoarder = server.connect(server.newUser("hoarder"));
            Ws.join(hoarder, room);
            hoarder.stopReading();
            // 60 pages of about 400 KB: 24 MB, twelve times the bound in bytes, but only 60 of the
            // 2,048 frames the queue takes.
            for (int i = 0; i < 60; i++) hoarder.send("type", "history", "room", room, "limit", 100, "ref", "p" + i);

            // And a page more four times a second, within the history rate: on a loaded machine the socket's
            // buffers can take much of the first burst, and the pages refused past the rate add nothing.
            int[] more = {60};
            long[] next = {System.nanoTime()};
            Await.until("the hoarder to be closed as a slow consumer", Duration.ofSeconds(30), () -> {
                if (slowCloses() > closesBefore) return true;
                if (System.nanoTime() < next[0]) return false;
                next[0] = System.nanoTime() + 250_000_000L; // 4 a second: under the rate of 5, so none is refused
                try {
                    hoarder.send("type", "history", "room", room, "limit", 100, "ref", "p" + more[0]++);
                } catch (RuntimeException closedMeanwhile) {
                    // closed by the server since the look above: the next look sees the count
                }
                return false;
            });
            hoarder.resumeReading();
            assertThat(hoarder.awaitClose(Ws.T)).isEqualTo(4002);

            Ws.alive(writer);
            writer.send("type", "send", "room", room, "text", "after", "clientId", "after", "ref", "after");
            writer.await(Ws.is("ack", "after"), Ws.T, "ack after the hoarder's close");
        }
    }
}
