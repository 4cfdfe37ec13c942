package dev.parley.ws;

import dev.parley.event.Message;
import io.netty.buffer.ByteBuf;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The codec's share of a message's trip: decoding a client's {@code send} (once per message), and
 * encoding the {@code message} frame (once per message per node, shared by every recipient) and the
 * sender's {@code ack}. In package {@code dev.parley.ws} because FrameCodec is package-private.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameCodecBenchmark {
    @Param({"100"})
    int payload;

    String sendFrame;
    String text;
    long seq;

    @Setup
    public void setup() {
        text = "x".repeat(payload);
        sendFrame = "{\"type\":\"send\",\"room\":\"lobby\",\"clientId\":\"c-123456\",\"text\":\"" + text + "\"}";
    }

    @Benchmark
    public ClientFrame decodeSend() {
        return FrameCodec.decode(sendFrame);
    }

    /** A fresh Message each time: the encoding is memoised per Message, and the server encodes each one once. */
    @Benchmark
    public ByteBuf encodeMessage() {
        Message m = new Message("lobby", ++seq, "01JDQ3ZK5V8W0000000000000" , "alice", text, 1_795_000_000_000L, "c-123456");
        return FrameCodec.message(m);
    }

    @Benchmark
    public ByteBuf encodeAck() {
        Message m = new Message("lobby", ++seq, "01JDQ3ZK5V8W0000000000000", "alice", text, 1_795_000_000_000L, "c-123456");
        return FrameCodec.ack(null, m);
    }
}
