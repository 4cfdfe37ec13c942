package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that write and never read (issue 20, item 5): whatever they send, their socket stays
 * unwritable and they are closed with 4002, and their pongs are not queued meanwhile. In process, for
 * the metrics; the same attacks run against the jar in {@code NonReadingClientsIT}.
 */
class NonReadingClientTest {
    /** The attacker's receive buffer: a slow link's, so that the server's side fills in kilobytes. */
    static final int SMALL_BUFFER = 16 * 1024;

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.UNWRITABLE_TIMEOUT, "1s");

    private static double closes(String reason) {
        return server.server().metrics().registry().get(ChatMetrics.SLOW_CONSUMER_CLOSES).tag("reason", reason).counter().count();
    }

    static long gauge(ParleyServer server, String name) {
        return (long) server.server().metrics().registry().get(name).gauge().value();
    }

    /**
     * Sends {@code frame} over and over from a thread of its own, {@code pauseMillis} apart (0: as fast
     * as the socket takes them), reading nothing, until closed; notes the most the server held for its
     * connections' sockets and outboxes meanwhile.
     */
    static final class Flood implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong mostHeld = new AtomicLong();
        final Thread thread;

        Flood(RawWebSocket raw, int opcode, byte[] frame, long pauseMillis) {
            thread = Thread.ofPlatform().name("flood").start(() -> {
                try {
                    while (!stop.get()) {
                        raw.send(opcode, frame);
                        if (pauseMillis > 0) Thread.sleep(pauseMillis); // the attacker's pace, not a synchronisation
                    }
                } catch (UncheckedIOException | InterruptedException e) {
                    // the server ended the connection, or the test did
                }
            });
        }

        void sample(ParleyServer server) {
            mostHeld.accumulateAndGet(gauge(server, ChatMetrics.SOCKET_PENDING_BYTES) + gauge(server, ChatMetrics.OUTBOX_BYTES), Math::max);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(Ws.T.toMillis());
        }
    }

    @Test
    void a_client_that_sends_websocket_pings_and_reads_nothing_is_closed_with_4002_holding_little_meanwhile() throws Exception {
        try (RawWebSocket raw = RawWebSocket.open(server.port(), server.newUser("pinger"), SMALL_BUFFER)) {
            double before = closes("unwritable");
            try (Flood flood = new Flood(raw, RawWebSocket.PING, new byte[125], 0)) {
                Await.until("the pinger closed as not reading", Ws.T, () -> {
                    flood.sample(server);
                    return closes("unwritable") > before;
                });
                flood.stop.set(true);
                // Netty's buffer stops at its high water mark (64 KiB) plus what one write adds; nothing is queued.
                assertThat(flood.mostHeld.get()).as("bytes held for the pinger").isLessThan(1 << 20);

                // Reading at last (while its last ping may still wait for the server to read again), it
                // finds the pongs the socket held, then the close frame.
                RawWebSocket.Frame last = raw.readUntilClosed(Ws.T);
                assertThat(last).as("a close frame").isNotNull();
                assertThat(last.closeCode()).isEqualTo(4002);
                raw.close(); // its last ping, blocked while the server read nothing, fails now
            }
        }
    }

    /**
     * JSON pings past their rate (5 a second after 10, PROTOCOL.md section 12) are refused, and the
     * refusals close the flood with 4029 long before its socket could fill; were its socket to fill
     * first, it would be closed with 4002. Either way no pong piles up for it.
     */
    @Test
    void a_client_that_floods_json_pings_and_reads_nothing_is_closed_holding_little_and_gets_no_queued_pongs() throws Exception {
        try (RawWebSocket raw = RawWebSocket.open(server.port(), server.newUser("app-pinger"), SMALL_BUFFER)) {
            double full = closes("outbox_full");
            byte[] ping = "{\"type\":\"ping\",\"ref\":\"flood\"}".getBytes(StandardCharsets.UTF_8);
            try (Flood flood = new Flood(raw, RawWebSocket.TEXT, ping, 0)) {
                Await.until("the app pinger's connection ended by the server", Ws.T, () -> {
                    flood.sample(server);
                    return !flood.thread.isAlive();
                });
                assertThat(flood.mostHeld.get()).as("bytes held for the app pinger").isLessThan(1 << 20);
                RawWebSocket.Frame last = raw.readUntilClosed(Ws.T);
                assertThat(last).as("a close frame").isNotNull();
                assertThat(last.closeCode()).isIn(4002, 4029);
                raw.close();
            }
            assertThat(closes("outbox_full")).as("its pongs never filled its queue").isEqualTo(full);
        }
    }
}
