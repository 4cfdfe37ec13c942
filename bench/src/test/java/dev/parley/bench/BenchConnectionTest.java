package dev.parley.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench's receive path, fed bytes as a server would send them, through Netty's EmbeddedChannel. */
class BenchConnectionTest {
    static final Pattern KEY = Pattern.compile("Sec-WebSocket-Key: (\\S+)");

    private final RunClock clock = new RunClock();
    private final LoopStats stats = new LoopStats();
    private BenchConnection connection;
    private EmbeddedChannel channel;

    @BeforeEach
    void upgradeAndJoin() {
        connection = new BenchConnection(new Target("http://127.0.0.1:1", "127.0.0.1", 1), "token", "room-1", stats, clock);
        channel = new EmbeddedChannel(connection);
        ByteBuf request = channel.readOutbound();
        String head = request.toString(StandardCharsets.US_ASCII);
        request.release();
        assertThat(head).startsWith("GET /ws HTTP/1.1\r\n").contains("Authorization: Bearer token\r\n");
        Matcher m = KEY.matcher(head);
        assertThat(m.find()).isTrue();
        channel.writeInbound(bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + BenchConnection.accept(m.group(1)) + "\r\n\r\n"));
        assertThat(unmask(channel.readOutbound())).isEqualTo("{\"type\":\"join\",\"room\":\"room-1\"}");
        channel.writeInbound(frame("{\"type\":\"joined\",\"room\":\"room-1\",\"lastSeq\":10,\"online\":1,\"members\":[\"a\"],\"recovered\":true}"));
        assertThat(connection.joined).isCompleted();
    }

    @Test
    void counts_messages_in_order_and_tells_duplicates_from_late_ones() {
        channel.writeInbound(frame(message(11)), frame(message(12)), frame(message(14)), frame(message(13)), frame(message(14)));
        assertThat(stats.messages).isEqualTo(5);
        assertThat(connection.distinct()).isEqualTo(4);
        assertThat(stats.gaps).isEqualTo(1);        // 12 -> 14
        assertThat(stats.outOfOrder).isEqualTo(1);  // 13 after 14
        assertThat(stats.duplicates).isEqualTo(1);  // 14 again
    }

    @Test
    void a_frame_split_across_reads_is_read_once_whole() {
        ByteBuf all = Unpooled.buffer();
        for (long seq = 11; seq <= 20; seq++) all.writeBytes(frame(message(seq)));
        while (all.isReadable()) channel.writeInbound(all.readRetainedSlice(Math.min(7, all.readableBytes())));
        all.release();
        assertThat(stats.messages).isEqualTo(10);
        assertThat(connection.distinct()).isEqualTo(10);
        assertThat(stats.gaps + stats.outOfOrder + stats.duplicates + stats.unknownFrames).isZero();
    }

    @Test
    void latency_is_taken_from_the_send_time_in_the_text_and_only_inside_the_measured_window() {
        // The run clock starts at zero when it is made: let it pass the window's start, or the
        // send time below would be negative (fresh JVMs get here within a millisecond).
        Await.until("the run clock to pass 10 ms", () -> clock.now() > 10_000_000);
        long now = clock.now();
        clock.phase(new RunClock.Phase(0, now - 3_000_000, now + 5_000_000_000L));
        String stamp = String.format("%015d", now - 2_000_000); // sent 2 ms ago, inside the window
        String after = String.format("%015d", now + 6_000_000_000L); // intended after the window: drain
        channel.writeInbound(frame(message(11, stamp + "xxxx")), frame(message(12, after + "x")));
        assertThat(stats.measuredMessages).isEqualTo(1);
        var measured = stats.latency.interval();
        assertThat(measured.getTotalCount()).isEqualTo(1);
        assertThat(measured.getMaxValue()).isBetween(2_000L, 1_000_000L); // microseconds
        assertThat(stats.latencyOutside.interval().getTotalCount()).isEqualTo(1);
    }

    @Test
    void errors_are_counted_by_code_and_a_ping_is_answered_at_once() {
        channel.writeInbound(frame("{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"slow down\"}"));
        assertThat(stats.errors).containsEntry("rate_limited", 1L);
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[]{(byte) 0x89, 2, 'h', 'b'}));
        ByteBuf pong = channel.readOutbound();
        assertThat(pong.getByte(0) & 0x0f).isEqualTo(0xA);
        assertThat(unmaskPayload(pong)).isEqualTo("hb");
    }

    @Test
    void a_close_from_the_server_is_a_disconnect() {
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[]{(byte) 0x88, 2, 0x0F, (byte) 0xA2})); // 4002
        assertThat(connection.closeCode).isEqualTo(4002);
        assertThat(stats.disconnects).isEqualTo(1);
        assertThat(stats.errors).containsEntry("closed 4002", 1L);
        assertThat(channel.isOpen()).isFalse();
    }

    static String message(long seq) {
        return message(seq, "000000000000001xxxx");
    }

    static String message(long seq, String text) {
        return "{\"type\":\"message\",\"room\":\"room-1\",\"seq\":" + seq + ",\"id\":\"01JDQ3ZK5V8W0000000000000\",\"from\":\"u1\","
                + "\"text\":\"" + text + "\",\"ts\":\"2026-11-23T15:04:05.123Z\",\"clientId\":\"7\"}";
    }

    static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    /** An unmasked server text frame. */
    static ByteBuf frame(String json) {
        byte[] p = json.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = Unpooled.buffer();
        b.writeByte(0x81);
        if (p.length < 126) b.writeByte(p.length);
        else b.writeByte(126).writeShort(p.length);
        return b.writeBytes(p);
    }

    static String unmask(ByteBuf frame) {
        assertThat(frame.getByte(0) & 0xff).isEqualTo(0x81);
        return unmaskPayload(frame);
    }

    static String unmaskPayload(ByteBuf frame) {
        int b1 = frame.getByte(1) & 0xff;
        assertThat(b1 & 0x80).as("client frames are masked").isNotZero();
        int len = b1 & 0x7f, at = 2;
        if (len == 126) {
            len = frame.getUnsignedShort(2);
            at = 4;
        }
        byte[] mask = new byte[4];
        frame.getBytes(at, mask);
        byte[] out = new byte[len];
        for (int i = 0; i < len; i++) out[i] = (byte) (frame.getByte(at + 4 + i) ^ mask[i & 3]);
        frame.release();
        return new String(out, StandardCharsets.UTF_8);
    }
}
