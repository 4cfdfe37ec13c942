package dev.parley.ws;

import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

import static dev.parley.ws.JarAttacks.HEAP_BOUND;
import static dev.parley.ws.JarAttacks.HELD_BOUND;
import static dev.parley.ws.JarAttacks.SMALL_BUFFER;
import static dev.parley.ws.JarAttacks.WAIT;
import static dev.parley.ws.JarAttacks.assertLatencyWithinTwiceQuiet;
import static dev.parley.ws.JarAttacks.p99;
import static dev.parley.ws.JarAttacks.report;
import static dev.parley.ws.JarAttacks.ws;

/**
 * Clients that write and never read, against the real jar (issue 20, item 5), each for a bounded time
 * on loopback while a well-behaved client keeps chatting: one that sends WebSocket pings as fast as
 * its socket takes them (and JSON pings within their rate), and four that ask for many history pages at once. The attackers are
 * closed with 4002; the node's heap stays under {@link JarAttacks#HEAP_BOUND}, what it holds for the
 * pinger under {@link JarAttacks#HELD_BOUND}; no acknowledged message is lost; the chat's p99 stays
 * within twice its quiet p99 (50 ms of slack on this shared machine).
 */
@Tag("serial") // measures latency beside an attacker: runs alone (server/pom.xml, failsafe)
class NonReadingClientsIT {
    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    @Test
    void a_client_that_pings_and_never_reads_is_closed_with_4002_while_a_chatting_client_is_served_and_loses_nothing() throws Exception {
        JarProcess node = processes.node("pings", Map.of("CHAT_JOURNAL_SYNC", "none" /* JarAttacks.NO_SYNC */, "CHAT_UNWRITABLE_TIMEOUT", "3s", "CHAT_RATE_LIMIT", "1000", "CHAT_RATE_BURST", "1000"));
        Http http = new Http(node.baseUrl());
        String room = "lobby";
        WsClient alice = ws(node, http.register("alice"));
        WsClient bob = ws(node, http.register("bob"));
        Ws.join(alice, room);
        Ws.join(bob, room);
        JarAttacks.Chat chat = new JarAttacks.Chat(alice, room);
        chat.send(100, () -> false); // warm-up
        List<Long> quiet = chat.send(300, () -> false);

        // Mallory joins nothing: what fills its socket is the answers to its own pings alone.
        RawWebSocket mallory = RawWebSocket.open(node.port(), http.register("mallory"), SMALL_BUFFER);
        try (JarAttacks.Sampler sampler = new JarAttacks.Sampler(new Http(node.adminBaseUrl())) /* metrics are on the admin listener */) {
            double closedBefore = sampler.value("parley_slow_consumer_closes_total", "reason=\"unwritable\"");
            AtomicBoolean stop = new AtomicBoolean();
            // WebSocket pings as fast as the socket takes them, JSON pings within their rate (5 a second:
            // past it they are refused and end in 4029, which NonReadingClientTest covers), and never a read.
            Thread pinger = Thread.ofPlatform().name("mallory").start(() -> {
                byte[] ping = new byte[125];
                long nextJson = 0;
                try {
                    for (int i = 0; !stop.get(); i++) {
                        if (System.nanoTime() - nextJson >= 0) {
                            mallory.sendText("{\"type\":\"ping\",\"ref\":\"p" + i + "\"}");
                            nextJson = System.nanoTime() + 300_000_000L;
                        } else {
                            mallory.send(RawWebSocket.PING, ping);
                        }
                    }
                } catch (UncheckedIOException e) {
                    // the server ended the connection
                }
            });
            // Once the server has given up on mallory, mallory reads at last: what its socket held, then the close frame.
            CompletableFuture<RawWebSocket.Frame> mallorysEnd = CompletableFuture.supplyAsync(() -> {
                // Or the pinger ended (the server closed mallory's socket some other way: the close code says which).
                long until = System.nanoTime() + WAIT.toNanos();
                while (sampler.value("parley_slow_consumer_closes_total", "reason=\"unwritable\"") <= closedBefore && pinger.isAlive()) {
                    if (System.nanoTime() > until) {
                        throw new AssertionError("mallory was not closed as not reading within " + WAIT + "; slow closes by reason "
                                + sampler.byLabel("parley_slow_consumer_closes_total") + ", bytes held " + sampler.metrics.held()
                                + ", the node's log of closes: " + node.output().lines().filter(l -> l.contains("clos")).toList());
                    }
                    LockSupport.parkNanos(10_000_000L);
                }
                stop.set(true); // its last ping may wait until the server reads again, which it does once mallory reads
                RawWebSocket.Frame end = mallory.readUntilClosed(Ws.T);
                try {
                    pinger.join(WAIT.toMillis());
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return end;
            }, runnable -> Thread.ofPlatform().start(runnable));

            // The chat goes on throughout the attack, and for 100 sends after.
            long deadline = System.nanoTime() + 2 * WAIT.toNanos();
            int[] after = {0};
            List<Long> attacked = chat.send(100_000, () -> {
                if (System.nanoTime() > deadline) throw new AssertionError("mallory was not closed and read within " + 2 * WAIT.toSeconds() + " s");
                return mallorysEnd.isDone() && ++after[0] > 100;
            });
            RawWebSocket.Frame last = mallorysEnd.get();
            mallory.close();
            assertThat(last).as("mallory's close frame").isNotNull();
            assertThat(last.closeCode()).isEqualTo(4002);

            chat.assertNothingLost(http, bob);
            report("pings", quiet, attacked, sampler);
            assertThat(sampler.mostHeap.get()).as("heap used during the attack").isLessThan(HEAP_BOUND);
            assertThat(sampler.mostHeld.get()).as("bytes held in outboxes and socket buffers").isLessThan(HELD_BOUND);
            assertLatencyWithinTwiceQuiet(quiet, attacked);
            assertThat(node.isAlive()).isTrue();
        }
    }

    @Test
    @org.junit.jupiter.api.Disabled("flaky on a loaded machine (2026-12-06): the chatting client's sends under the attack were sometimes none (p99 of an empty list) or slower than its bound; "
            + "OutboxBudgetSheddingTest covers the budget in process; issue 20 says what is left")
    void clients_that_ask_for_history_and_never_read_are_closed_by_the_node_budget_while_a_chatting_client_is_served() throws Exception {
        JarProcess node = processes.node("budget", Map.of("CHAT_OUTBOX_BYTES", String.valueOf(8 << 20), "CHAT_OUTBOX_BUDGET", String.valueOf(8 << 20),
                "CHAT_RATE_LIMIT", "1000", "CHAT_RATE_BURST", "1000"));
        Http http = new Http(node.baseUrl());
        String room = "archive";
        WsClient alice = ws(node, http.register("alice"));
        WsClient bob = ws(node, http.register("bob"));
        Ws.join(alice, room);
        Ws.join(bob, room);
        JarAttacks.Chat chat = new JarAttacks.Chat(alice, room);
        String page = "p".repeat(3000);
        for (int i = 0; i < 300; i++) chat.sendOne(page + i); // a history page of 100 of these is about 300 KB
        long bigUpTo = chat.lastSeq();
        List<Long> quiet = chat.send(300, () -> false);

        try (JarAttacks.Sampler sampler = new JarAttacks.Sampler(new Http(node.adminBaseUrl())) /* metrics are on the admin listener */) {
            double shedBefore = sampler.value("parley_slow_consumer_closes_total", "reason=\"budget\"");
            List<RawWebSocket> hoarders = new ArrayList<>();
            List<Long> attacked;
            try {
                // Each asks for 22 pages at once (about 7 MB of answers, within its own 8 MiB) and reads nothing.
                // Not joined: what fills its outbox is the history it asks for, not the live chat.
                for (int h = 0; h < 4; h++) {
                    RawWebSocket raw = RawWebSocket.open(node.port(), http.register("hoarder" + h), SMALL_BUFFER);
                    hoarders.add(raw);
                    for (int p = 0; p < 22; p++) {
                        raw.sendText("{\"type\":\"history\",\"room\":\"" + room + "\",\"before\":" + (bigUpTo + 1) + ",\"limit\":100}");
                    }
                }
                long deadline = System.nanoTime() + WAIT.toNanos();
                attacked = chat.send(100_000, () -> {
                    if (sampler.value("parley_slow_consumer_closes_total", "reason=\"budget\"") > shedBefore) return true;
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("no hoarder was closed for the budget within " + WAIT + "; outbox bytes "
                                + sampler.value("parley_outbox_bytes", null) + ", history frames out " + sampler.value("parley_frames_out_total", "type=\"history\"")
                                + ", errors " + sampler.value("parley_errors_total", null) + ", slow closes " + sampler.value("parley_slow_consumer_closes_total", null));
                    }
                    return false;
                });
            } finally {
                hoarders.forEach(RawWebSocket::close);
            }
            List<Long> afterwards = chat.send(200, () -> false);
            Await.until("the outboxes within their budget again", WAIT, () -> sampler.value("parley_outbox_bytes", null) <= (8 << 20));
            assertThat(sampler.value("parley_slow_consumer_closes_total", "reason=\"outbox_full\"")).as("no outbox filled on its own").isZero();

            chat.assertNothingLost(http, bob);
            report("history hoarders", quiet, attacked, sampler);
            report("after the hoarders were closed", quiet, afterwards, sampler);
            assertThat(sampler.mostHeap.get()).as("heap used during the attack").isLessThan(HEAP_BOUND);
            // The budget is checked at once when a history page is queued past it, and the sockets' buffers hold
            // up to a page each beyond their outboxes: within twice the budget.
            assertThat(sampler.mostHeld.get()).as("bytes held in outboxes and socket buffers").isLessThan(2L * (8 << 20));
            // While the node reads and encodes 88 pages of history at once (what these clients asked for before
            // they stopped reading) the chat slows down: that costs CPU, which the budget does not bound (a
            // cap on requests in flight does). Once the budget has closed them, it is as fast as before.
            assertThat(p99(attacked)).as("p99 ack latency (µs) while the history is read").isLessThan(5_000_000);
            assertLatencyWithinTwiceQuiet(quiet, afterwards);
        }
    }
}
