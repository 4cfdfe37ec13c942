package dev.parley.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;

import static dev.parley.bench.BenchConnectionTest.bytes;
import static dev.parley.bench.BenchConnectionTest.frame;
import static dev.parley.bench.BenchConnectionTest.message;
import static dev.parley.bench.BenchConnectionTest.unmask;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A connection of bench storm coming back (PROTOCOL.md 10): fed a server's bytes through Netty's
 * EmbeddedChannel, with the back-off's draw fixed at half its range, so that each wait is exact. The
 * test holds the next attempt (an EmbeddedChannel cancels its timers when it closes) and makes it;
 * each new socket is a new EmbeddedChannel around the same connection.
 */
class ReconnectTest {
    private final RunClock clock = new RunClock();
    private final LoopStats stats = new LoopStats();
    private final List<BenchConnection> opened = new ArrayList<>();
    private final List<Long> waits = new ArrayList<>();
    private final List<Runnable> attempts = new ArrayList<>();
    private final Reconnect.Policy policy = new Reconnect.Policy(opened::add, BackoffTest.drawing(0.5), (loop, attempt, millis) -> {
        waits.add(millis);
        attempts.add(attempt);
    });
    private BenchConnection connection;
    private EmbeddedChannel channel;

    @BeforeEach
    void connect() {
        connection = new BenchConnection(new Target("http://127.0.0.1:1", "127.0.0.1", 1), "token", "room-1", stats, clock);
        connection.reconnect = new Reconnect(policy);
        socket();
    }

    @Test
    void a_refused_upgrade_waits_its_retry_after_and_the_first_join_on_the_next_socket_has_no_since() {
        ByteBuf request = channel.readOutbound();
        request.release();
        channel.writeInbound(bytes("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\n{}"));
        channel.runPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        assertThat(stats.reconnects).containsEntry("refused 503", 1L);
        assertThat(connection.joined).isNotDone();
        comeBack(3_500); // Retry-After, plus the draw within a second
        assertThat(upgrade()).isEqualTo("{\"type\":\"join\",\"room\":\"room-1\"}");
        channel.writeInbound(frame(joined(10)));
        assertThat(connection.joined).isCompleted();
        assertThat(connection.reconnect.droppedAt).as("before the storm: none of its drops").isEqualTo(-1);
    }

    @Test
    void after_a_drop_it_rejoins_with_since_its_highest_seq_and_the_seam_is_counted_exactly() {
        upgradeAndJoin(10);
        channel.writeInbound(frame(message(11)), frame(message(12)));
        policy.stormFrom = clock.now();
        channel.writeInbound(close(1001)); // a node draining
        channel.runPendingTasks();
        assertThat(stats.reconnects).containsEntry("closed 1001", 1L);
        assertThat(connection.isJoined()).isFalse();
        assertThat(connection.reconnect.droppedAt).isGreaterThanOrEqualTo(policy.stormFrom);
        comeBack(500); // the first attempt: within a second
        assertThat(upgrade()).isEqualTo("{\"type\":\"join\",\"room\":\"room-1\",\"since\":12}");
        assertThat(connection.reconnect.resumedAt).isEqualTo(-1);
        // The replay after 12, then live; 14 once more, as a server that replayed and sent it live would.
        channel.writeInbound(frame(joined(14)), frame(message(13)), frame(message(14)), frame(message(14)));
        assertThat(connection.reconnect.resumedAt).isGreaterThanOrEqualTo(connection.reconnect.droppedAt);
        assertThat(connection.isJoined()).isTrue();
        assertThat(connection.distinct()).isEqualTo(4);
        assertThat(stats.duplicates).isEqualTo(1);
        assertThat(stats.outOfOrder + stats.gaps).isZero();
    }

    @Test
    void a_revoked_session_is_not_reconnected() {
        upgradeAndJoin(0);
        channel.writeInbound(close(4003));
        channel.runPendingTasks();
        assertThat(connection.reconnect.gaveUp).isTrue();
        assertThat(stats.reconnects).containsEntry("closed 4003", 1L).containsEntry("gave up", 1L);
        assertThat(attempts).isEmpty();
    }

    @Test
    void a_sender_resends_what_was_not_acked_after_the_rejoin_in_order_under_the_same_client_ids_and_counts_each_ack_once() {
        upgradeAndJoin(0);
        Pacer pacer = new Pacer(clock);
        pacer.close(); // its thread ends: the test ticks the sender itself, on the channel's loop
        Sender sender = new Sender(connection, clock, pacer, 20);
        connection.sender = sender;
        Await.until("the run clock to pass 10 ms", () -> clock.now() > 10_000_000); // send times are positive
        long from = clock.now() - 3_500_000;
        // A thousand a second, from 3.5 ms ago: four sends are due at once (more if this thread is slow).
        sender.start(new RunClock.Phase(from, from, from + 60_000_000_000L), 1000, 0);
        channel.runPendingTasks();
        sender.tick();
        List<String> first = outbound();
        assertThat(first).hasSizeGreaterThanOrEqualTo(4);
        for (int i = 0; i < first.size(); i++) assertThat(first.get(i)).contains("\"clientId\":\"" + (i + 1) + "\"");
        channel.writeInbound(frame(ack(1, 1)), frame(ack(3, 2)));
        assertThat(sender.acked).isEqualTo(2);

        channel.close(); // the node went away: no close frame
        channel.runPendingTasks();
        assertThat(stats.reconnects).containsEntry("dropped", 1L);
        comeBack(500);
        assertThat(upgrade()).isEqualTo("{\"type\":\"join\",\"room\":\"room-1\",\"since\":0}");
        channel.writeInbound(frame(joined(2)));
        List<String> again = outbound();
        List<String> unacked = new ArrayList<>(first);
        unacked.remove(2); // clientId 3
        unacked.remove(0); // clientId 1
        assertThat(again).as("2, 4... re-sent as first written").containsExactlyElementsOf(unacked);
        assertThat(sender.resent).isEqualTo(first.size() - 2);
        assertThat(sender.sent).isEqualTo(first.size());

        channel.writeInbound(frame(ack(2, 3)), frame(ack(2, 3)), frame(ack(1, 1)));
        assertThat(sender.acked).isEqualTo(3);
        assertThat(sender.repeatedAcks).isEqualTo(2);
    }

    /** A new socket around the same connection. */
    private void socket() {
        channel = new EmbeddedChannel(connection);
    }

    /** Checks that one attempt waits for its turn, {@code millis}, makes it, and opens the next socket as the client would. */
    private void comeBack(long millis) {
        assertThat(waits).containsExactly(millis);
        assertThat(opened).isEmpty();
        attempts.remove(0).run();
        waits.clear();
        assertThat(opened).containsExactly(connection);
        opened.clear();
        socket();
    }

    /** Answers the upgrade request on the current socket with 101; returns the join the connection then sent. */
    private String upgrade() {
        ByteBuf request = channel.readOutbound();
        String head = request.toString(StandardCharsets.US_ASCII);
        request.release();
        Matcher m = BenchConnectionTest.KEY.matcher(head);
        assertThat(m.find()).isTrue();
        channel.writeInbound(bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + BenchConnection.accept(m.group(1)) + "\r\n\r\n"));
        return unmask(channel.readOutbound());
    }

    private void upgradeAndJoin(long lastSeq) {
        assertThat(upgrade()).isEqualTo("{\"type\":\"join\",\"room\":\"room-1\"}");
        channel.writeInbound(frame(joined(lastSeq)));
        assertThat(connection.isJoined()).isTrue();
    }

    private List<String> outbound() {
        List<String> out = new ArrayList<>();
        for (ByteBuf f; (f = channel.readOutbound()) != null; ) out.add(unmask(f));
        return out;
    }

    private static String joined(long lastSeq) {
        return "{\"type\":\"joined\",\"room\":\"room-1\",\"lastSeq\":" + lastSeq + ",\"online\":1,\"members\":[\"a\"],\"recovered\":true}";
    }

    private static String ack(long clientId, long seq) {
        return "{\"type\":\"ack\",\"room\":\"room-1\",\"clientId\":\"" + clientId + "\",\"seq\":" + seq
                + ",\"id\":\"01JDQ3ZK5V8W0000000000000\",\"ts\":\"2026-11-23T15:04:05.123Z\"}";
    }

    private static ByteBuf close(int code) {
        return Unpooled.wrappedBuffer(new byte[]{(byte) 0x88, 2, (byte) (code >> 8), (byte) code});
    }
}
