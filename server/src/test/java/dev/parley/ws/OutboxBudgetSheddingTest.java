package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node's outbox budget (issue 20, item 5): clients that ask for many history pages at once and
 * read nothing fill their outboxes, each within its own bound (the server reads nothing more from
 * them once their sockets are full, but answers what it read); past the node's budget the
 * connections holding the most are closed with 4002, and a client that reads is served throughout.
 */
class OutboxBudgetSheddingTest {
    /** Per outbox and for the node: the budget is passed by four outboxes long before any is full alone. */
    private static final long OUTBOX_BYTES = 8L << 20;

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.OUTBOX_BYTES, String.valueOf(OUTBOX_BYTES))
            .with(Setting.OUTBOX_BUDGET, String.valueOf(OUTBOX_BYTES))
            .with(Setting.RATE_LIMIT, "100000")
            .with(Setting.RATE_BURST, "100000");

    private static double closes(String reason) {
        return server.server().metrics().registry().get(ChatMetrics.SLOW_CONSUMER_CLOSES).tag("reason", reason).counter().count();
    }

    @Test
    void past_the_node_budget_the_connections_holding_the_most_are_closed_and_a_reader_is_served() throws Exception {
        String room = Ws.room("budget");
        String text = "h".repeat(3000);
        try (WsClient writer = server.connect(server.newUser("writer")); WsClient reader = server.connect(server.newUser("reader"))) {
            Ws.join(writer, room);
            Ws.join(reader, room);
            for (int i = 1; i <= 300; i++) {
                writer.send("type", "send", "room", room, "text", text + i, "clientId", "w" + i, "ref", "w" + i);
                if (i > 20) writer.await(Ws.is("ack", "w" + (i - 20)), Ws.T, "ack w" + (i - 20));
            }
            writer.await(Ws.is("ack", "w300"), Ws.T, "the last ack");

            double before = closes("budget");
            double full = closes("outbox_full");
            List<RawWebSocket> hoarders = new ArrayList<>();
            try {
                // Each asks for 22 pages (about 7 MB of answers, within its own 8 MiB) at once, and reads nothing.
                String ask = "{\"type\":\"history\",\"room\":\"" + room + "\",\"limit\":100}";
                for (int i = 0; i < 4; i++) {
                    RawWebSocket raw = RawWebSocket.open(server.port(), server.newUser("hoarder"), NonReadingClientTest.SMALL_BUFFER);
                    hoarders.add(raw); // not joined: only the history it asks for fills its outbox
                    for (int p = 0; p < 22; p++) raw.sendText(ask);
                }
                // Meanwhile the reader keeps being served.
                int n = 0;
                long deadline = System.nanoTime() + Ws.T.toNanos();
                while (closes("budget") == before) {
                    Ws.send(writer, room, "live " + (++n), "live" + n);
                    assertThat(System.nanoTime()).as("no connection closed for the budget").isLessThan(deadline);
                }
                reader.awaitMessages(room, 300 + n, Ws.T);
                Ws.alive(reader);
                Await.until("the outboxes back within their budget", Ws.T, () -> NonReadingClientTest.gauge(server, ChatMetrics.OUTBOX_BYTES) <= OUTBOX_BYTES);
                assertThat(closes("outbox_full")).as("no outbox filled on its own").isEqualTo(full);
            } finally {
                hoarders.forEach(RawWebSocket::close);
            }
        }
    }
}
