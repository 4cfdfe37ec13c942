package dev.parley.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The bench's side of the sockets: a few Netty event loops, each with its own {@link LoopStats}.
 * Connection {@code i} lives on loop {@code i % loops}; thousands of connections cost a handler and a
 * socket each, no thread.
 */
final class Client implements AutoCloseable {
    final RunClock clock;
    final Pacer pacer;
    private final MultiThreadIoEventLoopGroup group;
    private final List<EventLoop> loops = new ArrayList<>();
    private final List<LoopStats> stats = new ArrayList<>();

    private final long readEveryNanos;

    Client(int threads, RunClock clock) {
        this(threads, clock, 0);
    }

    /** @param readEveryNanos how often each connection marks its room read (0: never) */
    Client(int threads, RunClock clock, long readEveryNanos) {
        this.readEveryNanos = readEveryNanos;
        this.clock = clock;
        this.pacer = new Pacer(clock);
        this.group = new MultiThreadIoEventLoopGroup(threads, Thread.ofPlatform().name("bench-loop-", 0).daemon(true).factory(),
                NioIoHandler.newFactory());
        for (EventExecutor e : group) {
            loops.add((EventLoop) e);
            stats.add(new LoopStats());
        }
    }

    List<LoopStats> stats() {
        return stats;
    }

    /** Opens a WebSocket to {@code target}, from {@code source} if not null, and joins {@code room}. */
    BenchConnection connect(int index, Target target, InetAddress source, String token, String room) {
        return connect(index, target, source, token, room, null);
    }

    /** The same, for a connection that comes back after a drop as {@code reconnect} says (null: it does not). */
    BenchConnection connect(int index, Target target, InetAddress source, String token, String room, Reconnect.Policy reconnect) {
        int l = index % loops.size();
        BenchConnection c = new BenchConnection(target, token, room, stats.get(l), clock);
        c.readEveryNanos = readEveryNanos;
        c.loop = loops.get(l);
        c.source = source;
        if (reconnect != null) c.reconnect = new Reconnect(reconnect);
        open(c);
        return c;
    }

    /** Opens a socket for {@code c} (again, after a drop), on its loop. */
    void open(BenchConnection c) {
        ChannelFuture f = new Bootstrap()
                .group(c.loop)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(c)
                .connect(c.target.address(), c.source == null ? null : new InetSocketAddress(c.source, 0));
        f.addListener(done -> {
            if (!done.isSuccess()) c.connectFailed(c.loop, done.cause());
        });
    }

    /** Runs {@code f} on every loop and returns the results: exact, since each runs where its stats are written. */
    <T> List<T> onEachLoop(Function<LoopStats, T> f) {
        List<CompletableFuture<T>> all = new ArrayList<>();
        for (int i = 0; i < loops.size(); i++) {
            LoopStats s = stats.get(i);
            CompletableFuture<T> cf = new CompletableFuture<>();
            loops.get(i).execute(() -> {
                try {
                    cf.complete(f.apply(s));
                } catch (RuntimeException e) {
                    cf.completeExceptionally(e);
                }
            });
            all.add(cf);
        }
        List<T> out = new ArrayList<>();
        for (CompletableFuture<T> cf : all) {
            try {
                out.add(cf.get(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("an event loop did not answer", e);
            }
        }
        return out;
    }

    /** Exact totals of every loop's counters. */
    LoopStats.Counters counters() {
        LoopStats.Counters sum = LoopStats.Counters.ZERO;
        for (LoopStats.Counters c : onEachLoop(LoopStats::counters)) sum = sum.plus(c);
        return sum;
    }

    /** Approximate totals for a progress line, read without stopping the loops. */
    LoopStats.Counters countersNow() {
        LoopStats.Counters sum = LoopStats.Counters.ZERO;
        for (LoopStats s : stats) {
            sum = sum.plus(new LoopStats.Counters(s.messages, s.measuredMessages, s.duplicates, s.outOfOrder, s.gaps, s.sent,
                    s.acked, s.otherFrames, s.unknownFrames, s.disconnects, Map.of()));
        }
        return sum;
    }

    @Override
    public void close() {
        pacer.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
