package dev.parley.ws;

import dev.parley.event.Message;
import dev.parley.delivery.HandOff;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * One message to N connections' {@link Outbox}es: encode once, queue a duplicate on each, then let
 * each connection's loop write and flush it. Channels are Netty EmbeddedChannels, so this is the
 * server's user-space cost of a delivery without the socket write. Score is per message; divide by
 * {@code subscribers} for the cost of one delivery.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class OutboxFanoutBenchmark {
    @Param({"10", "100"})
    int subscribers;

    EmbeddedChannel[] channels;
    Outbox[] outboxes;
    String text = "x".repeat(100);
    long seq;

    @Setup(Level.Trial)
    public void setup() {
        channels = new EmbeddedChannel[subscribers];
        outboxes = new Outbox[subscribers];
        for (int i = 0; i < subscribers; i++) {
            ChannelInboundHandlerAdapter tail = new ChannelInboundHandlerAdapter();
            channels[i] = new EmbeddedChannel(tail);
            ChannelHandlerContext ctx = channels[i].pipeline().context(tail);
            outboxes[i] = new Outbox(ctx, 1024, 1L << 30, 0, () -> { throw new IllegalStateException("overflow"); });
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (EmbeddedChannel c : channels) c.finishAndReleaseAll();
    }

    @Benchmark
    public int deliver() {
        Message m = new Message("lobby", ++seq, "01JDQ3ZK5V8W0000000000000", "alice", text, 1_795_000_000_000L, "c-1");
        ByteBuf frame = FrameCodec.message(m);
        for (Outbox o : outboxes) o.offer(frame, HandOff.NONE);
        int written = 0;
        for (EmbeddedChannel c : channels) {
            c.runPendingTasks();
            written += c.outboundMessages().size();
            c.outboundMessages().clear(); // duplicates of an unreleasable buffer: nothing to release
        }
        return written;
    }
}
