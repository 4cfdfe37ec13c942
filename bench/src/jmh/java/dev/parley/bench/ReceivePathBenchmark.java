package dev.parley.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load generator's receive path alone: server {@code message} frames, as the server encodes
 * them, fed to a {@link BenchConnection} in reads of {@value #FRAMES_PER_READ} frames (about 50 KB,
 * a typical socket read under load). Per frame: header parse, byte scan for seq and the send time,
 * order and duplicate tracking, one HdrHistogram record. The score is nanoseconds per frame; 1e9
 * divided by it is the deliveries a second one core can take in user space (the socket reads come on
 * top).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ReceivePathBenchmark {
    static final int FRAMES_PER_READ = 256;
    static final int READS = 400; // 102,400 distinct seqs, then a fresh connection
    private static final Pattern KEY = Pattern.compile("Sec-WebSocket-Key: (\\S+)");

    ByteBuf frames;
    int[] readEnds = new int[READS];
    int read;
    EmbeddedChannel channel;
    BenchConnection connection;
    RunClock clock = new RunClock();
    LoopStats stats = new LoopStats();

    @Setup(Level.Trial)
    public void setup() {
        frames = Unpooled.directBuffer(READS * FRAMES_PER_READ * 220);
        String text = "x".repeat(100 - Scan.STAMP_DIGITS);
        long seq = 0;
        for (int r = 0; r < READS; r++) {
            for (int f = 0; f < FRAMES_PER_READ; f++) {
                seq++;
                String json = "{\"type\":\"message\",\"room\":\"abc123-r0\",\"seq\":" + seq + ",\"id\":\"01JDQ3ZK5V8W0000000000000\","
                        + "\"from\":\"babc123u7\",\"text\":\"" + String.format("%015d", seq * 1000) + text + "\","
                        + "\"ts\":\"2026-11-23T15:04:05.123Z\",\"clientId\":\"" + seq + "\"}";
                byte[] p = json.getBytes(StandardCharsets.UTF_8);
                frames.writeByte(0x81).writeByte(126).writeShort(p.length).writeBytes(p);
            }
            readEnds[r] = frames.writerIndex();
        }
        reconnect();
    }

    /** A fresh connection, upgraded and joined, so that seqs start again from 1 with nothing seen. */
    private void reconnect() {
        if (channel != null) channel.finishAndReleaseAll();
        connection = new BenchConnection(new Target("http://127.0.0.1:1", "127.0.0.1", 1), "t", "abc123-r0", stats, clock);
        channel = new EmbeddedChannel(connection);
        ByteBuf request = channel.readOutbound();
        Matcher m = KEY.matcher(request.toString(StandardCharsets.US_ASCII));
        request.release();
        if (!m.find()) throw new IllegalStateException("no key in the upgrade request");
        String response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                + BenchConnection.accept(m.group(1)) + "\r\n\r\n";
        byte[] joined = "{\"type\":\"joined\",\"room\":\"abc123-r0\",\"lastSeq\":0,\"online\":1,\"members\":[],\"recovered\":true}"
                .getBytes(StandardCharsets.UTF_8);
        channel.writeInbound(Unpooled.buffer().writeBytes(response.getBytes(StandardCharsets.US_ASCII))
                .writeByte(0x81).writeByte(joined.length).writeBytes(joined));
        if (!connection.joined.isDone()) throw new IllegalStateException("not joined");
        channel.releaseOutbound();
        read = 0;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (stats.duplicates != 0 || stats.outOfOrder != 0) throw new IllegalStateException("the benchmark fed duplicates");
        channel.finishAndReleaseAll();
        frames.release();
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES_PER_READ)
    public long receive() {
        if (read == READS) reconnect();
        int from = read == 0 ? 0 : readEnds[read - 1];
        channel.writeInbound(frames.retainedSlice(from, readEnds[read] - from));
        read++;
        return stats.messages;
    }
}
