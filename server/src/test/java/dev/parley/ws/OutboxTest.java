package dev.parley.ws;

import dev.parley.delivery.HandOff;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Outbox's flush pacing on Netty's EmbeddedChannel: what reaches the socket, in how many
 * writes, and when. A flush here is one socket write on a real channel.
 */
class OutboxTest {
    private static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(40);

    private final List<List<String>> writes = new ArrayList<>();
    private final List<String> unflushed = new ArrayList<>();
    private EmbeddedChannel channel;
    private boolean overflowed;

    private Outbox outbox(long intervalNanos) {
        channel = new EmbeddedChannel();
        return outboxOn(channel, writes, unflushed, intervalNanos);
    }

    /**
     * An Outbox on {@code ch}, behind a stand-in socket that records the frames of each flush in
     * {@code flushed}, the way the socket would receive them ({@code unflushed}: written, not yet flushed).
     */
    private Outbox outboxOn(io.netty.channel.Channel ch, List<List<String>> flushed, List<String> unflushed, long intervalNanos) {
        return outboxOn(ch, flushed, unflushed, intervalNanos, 64, () -> overflowed = true);
    }

    private Outbox outboxOn(io.netty.channel.Channel ch, List<List<String>> flushed, List<String> unflushed, long intervalNanos,
                            int capacity, Runnable onOverflow) {
        ch.pipeline().addLast("socket", new ChannelDuplexHandler() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
                ByteBuf b = (ByteBuf) msg;
                unflushed.add(b.toString(StandardCharsets.UTF_8));
                b.release();
            }

            @Override
            public void flush(ChannelHandlerContext ctx) {
                if (!unflushed.isEmpty()) flushed.add(List.copyOf(unflushed));
                unflushed.clear();
            }
        });
        ch.pipeline().addLast("connection", new ChannelInboundHandlerAdapter());
        return new Outbox(ch.pipeline().context("connection"), capacity, 1 << 20, intervalNanos, onOverflow);
    }

    @AfterEach
    void close() {
        if (channel != null) channel.finishAndReleaseAll();
    }

    private static ByteBuf frame(String text) {
        return Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    @Test
    void a_deliberate_close_writes_everything_queued_first_even_past_what_one_run_writes() {
        channel = new EmbeddedChannel();
        Outbox o = outboxOn(channel, writes, unflushed, INTERVAL_NANOS, 2048, () -> overflowed = true);
        HandOff batch = HandOff.open(); // not released yet: the frames are only queued
        for (int i = 1; i <= 600; i++) o.offer(frame("m" + i), batch);
        o.offerReply(frame("ack")); // behind them, as an ack owed before a close would be

        o.drainNow(); // what Connection does before its close frame
        o.close();
        batch.release();
        channel.runPendingTasks();

        List<String> written = new ArrayList<>();
        writes.forEach(written::addAll);
        written.addAll(unflushed);
        assertThat(written).hasSize(601).endsWith("ack");
    }

    @Test
    void a_frame_to_a_quiet_connection_is_written_at_once() {
        Outbox o = outbox(INTERVAL_NANOS);
        o.offer(frame("a"), HandOff.NONE);
        channel.runPendingTasks();
        assertThat(writes).containsExactly(List.of("a"));
    }

    @Test
    void frames_within_the_interval_travel_together_in_one_write_after_it() throws InterruptedException {
        Outbox o = outbox(INTERVAL_NANOS);
        o.offer(frame("a"), HandOff.NONE);
        channel.runPendingTasks();
        long firstWrite = System.nanoTime();

        o.offer(frame("b"), HandOff.NONE);
        channel.runPendingTasks();
        o.offer(frame("c"), HandOff.NONE);
        channel.runPendingTasks();
        assertThat(writes).as("b and c wait for the interval").containsExactly(List.of("a"));

        while (writes.size() < 2 && System.nanoTime() - firstWrite < TimeUnit.SECONDS.toNanos(5)) {
            Thread.sleep(2);
            channel.runScheduledPendingTasks();
            channel.runPendingTasks();
        }
        assertThat(writes).containsExactly(List.of("a"), List.of("b", "c"));
        assertThat(System.nanoTime() - firstWrite).as("no sooner than the interval").isGreaterThanOrEqualTo(INTERVAL_NANOS);
        assertThat(o.size()).isZero();
        assertThat(overflowed).isFalse();
    }

    @Test
    void after_a_quiet_interval_the_next_frame_is_written_at_once_again() throws InterruptedException {
        Outbox o = outbox(INTERVAL_NANOS);
        o.offer(frame("a"), HandOff.NONE);
        channel.runPendingTasks();
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(INTERVAL_NANOS) + 5);
        o.offer(frame("b"), HandOff.NONE);
        channel.runPendingTasks();
        assertThat(writes).containsExactly(List.of("a"), List.of("b"));
    }

    @Test
    void with_no_interval_every_turn_writes() {
        Outbox o = outbox(0);
        for (String s : List.of("a", "b", "c")) {
            o.offer(frame(s), HandOff.NONE);
            channel.runPendingTasks();
        }
        assertThat(writes).containsExactly(List.of("a"), List.of("b"), List.of("c"));
    }

    @Test
    void a_reply_right_after_a_flush_is_written_at_once_not_after_the_interval() {
        Outbox o = outbox(TimeUnit.SECONDS.toNanos(10));
        o.offer(frame("own message"), HandOff.NONE);
        channel.runPendingTasks();
        o.offerReply(frame("ack"));
        channel.runPendingTasks();
        assertThat(writes).containsExactly(List.of("own message"), List.of("ack"));
    }

    @Test
    void a_reply_rides_with_a_paced_flush_that_is_already_waiting() throws InterruptedException {
        Outbox o = outbox(INTERVAL_NANOS);
        o.offer(frame("a"), HandOff.NONE);
        channel.runPendingTasks();
        long firstWrite = System.nanoTime();
        o.offer(frame("b"), HandOff.NONE);
        o.offerReply(frame("ack"));
        channel.runPendingTasks();
        assertThat(writes).as("the reply does not pull b forward").containsExactly(List.of("a"));
        while (writes.size() < 2 && System.nanoTime() - firstWrite < TimeUnit.SECONDS.toNanos(5)) {
            Thread.sleep(2);
            channel.runScheduledPendingTasks();
            channel.runPendingTasks();
        }
        assertThat(writes).containsExactly(List.of("a"), List.of("b", "ack"));
    }

    @Test
    void a_deliberate_close_writes_what_waits_without_waiting_for_the_interval() {
        Outbox o = outbox(TimeUnit.SECONDS.toNanos(10));
        o.offer(frame("a"), HandOff.NONE);
        channel.runPendingTasks();
        o.offer(frame("b"), HandOff.NONE);
        channel.runPendingTasks();
        assertThat(writes).containsExactly(List.of("a"));
        channel.eventLoop().execute(o::drainNow);
        channel.runPendingTasks();
        assertThat(writes).containsExactly(List.of("a"), List.of("b"));
    }

    @Test
    void the_frames_of_a_batch_leave_in_one_buffer_in_order_and_a_big_frame_goes_on_its_own() {
        Outbox o = outbox(0);
        String big = "b".repeat(Outbox.MAX_GATHERED_FRAME);
        HandOff handOff = HandOff.open(); // a batch of deliveries: queued, written when it is handed over
        for (String f : List.of("m1", "m2", big, "m3", "m4")) assertThat(o.offer(frame(f), handOff)).isTrue();
        handOff.release();
        channel.runPendingTasks();

        assertThat(writes).containsExactly(List.of("m1m2", big, "m3m4"));
        assertThat(o.size()).isZero();
        assertThat(o.bytes()).isZero();
    }

    @Test
    void a_gathered_buffer_holds_no_more_than_the_socket_takes_before_it_is_unwritable() {
        Outbox o = outbox(0);
        channel.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(8, 16));
        HandOff handOff = HandOff.open();
        for (String f : List.of("aaaa", "bbbb", "cccc", "dddd", "eeee", "ffff")) o.offer(frame(f), handOff);
        handOff.release();
        channel.runPendingTasks();

        assertThat(writes).containsExactly(List.of("aaaabbbbccccdddd", "eeeeffff"));
    }

    /**
     * The writer thread delivers a message and then completes its ack, which the connection queues
     * from its own event loop. On a real loop (EmbeddedChannel runs everything in the caller's
     * thread) both must leave in one write: before, the message was flushed alone and the ack
     * waited out the interval, which put the sender's ack 2 ms behind everyone's delivery.
     */
    @Test
    void an_ack_queued_by_the_connection_right_after_a_delivery_shares_its_write() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            LocalChannel ch = new LocalChannel();
            loop.register(ch).sync();
            List<List<String>> flushed = new java.util.concurrent.CopyOnWriteArrayList<>();
            Outbox o = outboxOn(ch, flushed, new ArrayList<>(), INTERVAL_NANOS);

            CountDownLatch hold = new CountDownLatch(1);
            loop.execute(() -> {
                try {
                    hold.await(); // the loop is busy while the writer thread queues both
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            o.offer(frame("message"), HandOff.NONE);             // from the writer thread: schedules the outbox
            loop.execute(() -> o.offer(frame("ack"), HandOff.NONE)); // the ack, queued on the connection's loop
            hold.countDown();

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (flushed.isEmpty() && System.nanoTime() < deadline) Thread.sleep(1);
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(INTERVAL_NANOS) * 2); // a paced second write would come by now
            assertThat(flushed).containsExactly(List.of("message", "ack"));
            ch.close().sync();
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * The writer thread fills a connection's outbox past its bound within one hand-off: the overflow
     * close (4002) goes to the event loop at once, the outbox's run only when the hand-off ends,
     * after it. That run must not write the queued frames after the close frame (RFC 6455 section
     * 5.5.1: nothing follows a close frame).
     */
    @Test
    void no_frame_follows_the_close_frame_of_an_overflow_not_even_from_a_run_queued_before_it() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        LocalAddress address = new LocalAddress("outbox-" + System.nanoTime());
        try {
            Channel peer = new ServerBootstrap().group(loop).channel(LocalServerChannel.class)
                    .childHandler(new ChannelInboundHandlerAdapter()).bind(address).sync().channel();
            Channel ch = new Bootstrap().group(loop).channel(LocalChannel.class)
                    .handler(new ChannelInboundHandlerAdapter()).connect(address).sync().channel();
            List<List<String>> flushed = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<String> unflushed = new java.util.concurrent.CopyOnWriteArrayList<>();
            Outbox[] outbox = new Outbox[1];
            outbox[0] = outboxOn(ch, flushed, unflushed, 0, 4, () -> {
                // What Connection.tooSlow does: the close frame, through the same context, and the outbox closed.
                ch.pipeline().context("connection").writeAndFlush(frame("close"));
                outbox[0].close();
            });

            CountDownLatch hold = new CountDownLatch(1);
            loop.execute(() -> {
                try {
                    hold.await(); // the loop is busy while the writer thread hands its deliveries over
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            HandOff handOff = HandOff.open();
            for (int i = 1; i <= 5; i++) outbox[0].offer(frame("m" + i), handOff); // the fifth overflows
            handOff.release();
            hold.countDown();
            loop.submit(() -> { }).sync(); // after the close and the run queued behind it
            loop.submit(() -> { }).sync(); // and whatever they queued
            List<String> written = new ArrayList<>(); // in write order, flushed or not
            flushed.forEach(written::addAll);
            written.addAll(unflushed);

            assertThat(written).as("the frames written, in order").contains("close");
            // What the slow-consumer log reports: the four frames it held when it gave up, not what is left after the close.
            assertThat(outbox[0].framesAtOverflow()).isEqualTo(4);
            assertThat(outbox[0].bytesAtOverflow()).isPositive();
            assertThat(written.subList(written.indexOf("close") + 1, written.size())).as("written after the close frame").isEmpty();
            ch.close().sync();
            peer.close().sync();
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
