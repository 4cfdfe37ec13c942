package dev.parley.ws;

import dev.parley.delivery.HandOff;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;

import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * A connection's bounded outgoing queue (PROTOCOL.md guarantee 8). Any thread may offer a frame;
 * the connection's event loop writes queued frames to the Netty channel without flushing and then
 * flushes once, so a burst costs one socket write per connection instead of one per frame. The
 * frames of one write are copied into one buffer from the channel's pool (those below
 * {@link #MAX_GATHERED_FRAME}; a bigger one goes as it is): Netty then holds one entry for them
 * until the socket takes them, not one per frame, and a frame encoded for this connection alone (a
 * join's replay) is garbage as soon as it is copied (BENCHMARKS.md entry 58).
 *
 * <p>The queue is bounded in frames and in bytes. Past half the frames, droppable frames (typing,
 * presence) are refused; when either bound is reached the connection is too slow and
 * {@code onOverflow} runs on the event loop (it closes with 4002). The bound in bytes is what keeps a
 * client that asks for history pages (up to 100 messages each) and reads none from holding a
 * node's heap: by frames alone one connection could pin gigabytes. Frames
 * are held back while the channel is not writable (the peer is not reading), so a stalled reader
 * fills this queue, which is bounded, and not Netty's buffer, which is not.
 *
 * <p>Flushes are paced: a connection flushed less than {@code flushIntervalNanos} ago is flushed
 * again when that interval has passed, not at once. A socket write costs about as much as the
 * frames it carries several times over, so a busy connection (a big room) gets several frames per
 * write, each delayed by at most the interval; a quiet connection, whose last flush is older than
 * the interval, is flushed at once and pays nothing.
 *
 * <p>A client that reads nothing must not hold the node's memory however it behaves (issue 20): the
 * socket staying unwritable for {@code unwritableTimeoutNanos} gives up on the connection even if the
 * queue never fills (a client that only pings fills it slowly, or not at all); a pong offered while
 * the socket is unwritable is held, the latest one only, instead of queued; and every outbox counts
 * its bytes in the node's {@link OutboxBudget}, which {@link WsEndpoint} keeps by closing the
 * connections that hold the most.
 *
 * <p>A little over 400 lines: the queue, its writes and what holds them back (the bounds, the socket's
 * writability, the pacing, the node's budget) read and write the same few fields.
 */
final class Outbox implements Runnable {
    private static final int MAX_FRAMES_PER_FLUSH = 512;
    /** Frames below this size are copied into one buffer per write (see {@link #write}); bigger ones go as they are. */
    static final int MAX_GATHERED_FRAME = 16 << 10;
    /** The most one gathered buffer holds: Netty's high water mark, past which the socket is unwritable anyway. */
    private static final int MAX_GATHERED_BYTES = 64 << 10;
    /**
     * Frames queued in the high bits, their bytes in the low {@value #BYTE_BITS}: one atomic add per
     * frame keeps both, as one counter did before there were two bounds.
     */
    private static final int BYTE_BITS = 40;
    private static final long ONE_FRAME = 1L << BYTE_BITS;
    private static final long BYTE_MASK = ONE_FRAME - 1;

    /** Why an outbox gave up on its connection: each closes with 4002, with its own reason and metric. */
    enum Overflow {
        /** The queue is full, in frames or in bytes. */
        FULL(CloseCode.TOO_SLOW, "outbox_full"),
        /** The socket took nothing for the unwritable timeout. */
        UNWRITABLE(CloseCode.TOO_SLOW_UNWRITABLE, "unwritable"),
        /** The node's outboxes together hold more than their budget, and this one is among the biggest. */
        BUDGET(CloseCode.TOO_SLOW_BUDGET, "budget");

        final CloseCode close;
        /** The {@code reason} tag of the slow-consumer metric. */
        final String metric;

        Overflow(CloseCode close, String metric) {
            this.close = close;
            this.metric = metric;
        }
    }

    private final ChannelHandlerContext ctx;
    private final int capacity;
    private final Consumer<Overflow> onOverflow;
    private final long maxBytes;
    private final OutboxBudget budget;
    private final long unwritableTimeoutNanos;
    private final Queue<ByteBuf> queue;
    private final AtomicLong queued = new AtomicLong();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final long flushIntervalNanos;
    private volatile boolean closed;
    private int framesAtOverflow;
    private long bytesAtOverflow;
    private volatile boolean urgent; // a reply ({@code joined}) was queued from a batch: its write is not paced
    private long lastFlushNanos; // event loop only
    private boolean flushPending; // event loop only
    private ByteBuf heldPong; // event loop only: the latest pong offered while the socket was not writable
    private io.netty.util.concurrent.ScheduledFuture<?> unwritableTimer; // event loop only: runs while the socket is not writable
    private final Runnable flushTask = () -> {
        if (flushPending) flush(System.nanoTime());
    };

    /** An outbox of its own budget and no unwritable timeout (tests and benchmarks of the queue alone). */
    Outbox(ChannelHandlerContext ctx, int capacity, long maxBytes, long flushIntervalNanos, Runnable onOverflow) {
        this(ctx, capacity, maxBytes, flushIntervalNanos, 0, new OutboxBudget(Long.MAX_VALUE), why -> onOverflow.run());
        requireNonNull(onOverflow, "onOverflow");
    }

    /**
     * @param unwritableTimeoutNanos how long the socket may stay unwritable before the outbox gives up; 0 for never
     * @param onOverflow runs once, on the event loop, when the outbox gives up (the connection closes with 4002)
     */
    Outbox(ChannelHandlerContext ctx, int capacity, long maxBytes, long flushIntervalNanos, long unwritableTimeoutNanos,
           OutboxBudget budget, Consumer<Overflow> onOverflow) {
        this.ctx = requireNonNull(ctx, "ctx");
        this.capacity = capacity;
        if (maxBytes <= 0 || maxBytes > BYTE_MASK) throw new IllegalArgumentException("maxBytes " + maxBytes);
        this.maxBytes = maxBytes;
        this.flushIntervalNanos = flushIntervalNanos;
        this.unwritableTimeoutNanos = unwritableTimeoutNanos;
        this.budget = requireNonNull(budget, "budget");
        // Chunks of 16 slots: an idle connection holds one 16-slot array. newMpscQueue() would
        // allocate 1,025 slots (about 4 KiB) per connection up front, half the memory budget of an
        // idle connection; this queue still grows, chunk by chunk, to what the size counter allows.
        this.queue = PlatformDependent.newMpscQueue(16, Math.max(2 * capacity, 64));
        this.onOverflow = requireNonNull(onOverflow, "onOverflow");
        ctx.pipeline().addFirst("parley-writability", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext c) throws Exception {
                writabilityChanged(c.channel().isWritable());
                super.channelWritabilityChanged(c);
            }
        });
    }

    /**
     * On the event loop. Netty turns a channel unwritable when more than its high water mark (64 KiB)
     * waits to go into the socket, that is when the client has stopped reading; the kernel's buffers
     * are full by then.
     *
     * <p>While the channel is unwritable nothing is read from it either: TCP pushes back on the
     * client, whose frames wait in the network. A client that reads nothing then costs no more CPU
     * than it took to fill the buffers, however fast it sends (pings answered with pongs that cannot
     * leave, history pages that cannot either); a client that is merely slow for a moment has its
     * next frames read a moment later, when their answers could be written anyway.
     */
    private void writabilityChanged(boolean writable) {
        ctx.channel().config().setAutoRead(writable);
        if (writable) {
            if (unwritableTimer != null) {
                unwritableTimer.cancel(false);
                unwritableTimer = null;
            }
            schedule(HandOff.NONE);
        } else if (unwritableTimer == null && unwritableTimeoutNanos > 0 && !closed) {
            unwritableTimer = ctx.executor().schedule(() -> {
                unwritableTimer = null;
                // Whatever the client sends meanwhile (pings, frames): only reading would have helped.
                if (!ctx.channel().isWritable()) overflow(Overflow.UNWRITABLE);
            }, unwritableTimeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Queues a frame that must arrive; offered from another thread, the write on the event loop goes
     * through {@code handOff}. @return false if the outbox is closed or just overflowed
     */
    boolean offer(ByteBuf frame, HandOff handOff) {
        return offer(frame, false, handOff);
    }

    /**
     * Queues the answer to the connection's own request (an ack, an error, {@code joined}). Offered
     * on the connection's loop, it is not paced: it leaves with whatever else this turn writes, or
     * with a flush already waiting, but never waits out the interval alone. Otherwise the ack that
     * follows the sender's own copy of its message (a flush just before) waited 3 ms, and a tenth
     * of the acks of a quiet room did.
     */
    boolean offerReply(ByteBuf frame) {
        return offer(frame, true, HandOff.NONE);
    }

    /** A reply delivered as part of a batch ({@code joined}, which comes with its replay). */
    boolean offerReply(ByteBuf frame, HandOff handOff) {
        return offer(frame, true, handOff);
    }

    private boolean offer(ByteBuf frame, boolean reply, HandOff handOff) {
        if (closed) return false;
        long weight = ONE_FRAME + frame.readableBytes();
        long now = queued.addAndGet(weight);
        if (now >>> BYTE_BITS > capacity || (now & BYTE_MASK) > maxBytes) {
            queued.addAndGet(-weight);
            overflow(Overflow.FULL);
            return false;
        }
        budget.add(frame.readableBytes());
        if (!queue.offer(frame)) { // cannot happen while size <= capacity; never lose a frame silently
            queued.addAndGet(-weight);
            budget.add(-frame.readableBytes());
            overflow(Overflow.FULL);
            return false;
        }
        if (closed) {
            // Closed while this frame went in: the discard may have run already, and a frame left in a
            // closed outbox would stay counted in the node's budget for ever.
            ctx.executor().execute(this::discard);
            return false;
        }
        if (frame.readableBytes() >= OutboxBudget.BIG_FRAME_BYTES) budget.bigFrameQueued();
        if (handOff == HandOff.NONE && ctx.executor().inEventLoop()) {
            // Offered by the connection itself (an ack, a reply): written now, in this turn, so that
            // it shares the flush of whatever else this turn writes; a scheduled run writes it otherwise.
            if (!scheduled.get() && write() > 0) {
                if (reply) flushSoon();
                else flushOrDefer();
            }
        } else {
            // From a batch of deliveries (perhaps under a room's lock, perhaps on this very loop):
            // only queued now, written when the batch is handed over.
            if (reply) urgent = true;
            schedule(handOff);
        }
        return true;
    }

    /** Queues a frame that may be dropped. @return false if it was dropped */
    boolean offerDroppable(ByteBuf frame, HandOff handOff) {
        if (closed || size() >= capacity / 2) return false;
        return offer(frame, handOff);
    }

    int size() {
        return (int) (queued.get() >>> BYTE_BITS);
    }

    long bytes() {
        return queued.get() & BYTE_MASK;
    }

    /** Bytes written to the channel that the socket has not taken yet (Netty's buffer, past this queue); any thread. */
    long socketPendingBytes() {
        var buffer = ctx.channel().unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }

    /** Whether it gave up, or its connection closed: it takes no more frames and its queue is being dropped. */
    boolean closed() {
        return closed;
    }

    /**
     * Gives up on the connection, from any thread: it is closed with 4002 on its event loop. The
     * node's budget calls this for the outboxes that hold the most.
     */
    void overflow(Overflow why) {
        if (closed) return;
        closed = true;
        // What it held when it gave up, for the log: by the time the close runs, the queue may be dropped already.
        long q = queued.get();
        framesAtOverflow = (int) (q >>> BYTE_BITS);
        bytesAtOverflow = q & BYTE_MASK;
        ctx.executor().execute(() -> onOverflow.accept(why)); // the task's hand-off makes the two fields visible there
    }

    /** Frames queued when it gave up ({@link #overflow}); read on the event loop after. */
    int framesAtOverflow() {
        return framesAtOverflow;
    }

    /** Bytes queued when it gave up ({@link #overflow}); read on the event loop after. */
    long bytesAtOverflow() {
        return bytesAtOverflow;
    }

    /**
     * The answer to a ping, on the event loop. While the socket is not writable it is not queued:
     * only the latest is kept, and written once the socket takes data again (RFC 6455 section 5.5.3
     * lets an endpoint answer only the most recent of several pings). Otherwise a client that sends
     * pings and reads nothing would fill the queue with pongs.
     *
     * @return false if the outbox is closed or just overflowed
     */
    boolean offerPong(ByteBuf frame) {
        if (closed) return false;
        if (ctx.channel().isWritable()) return offerReply(frame);
        heldPong = frame;
        return true;
    }

    private void schedule(HandOff handOff) {
        if (scheduled.compareAndSet(false, true)) handOff.execute(ctx.executor(), this);
    }

    /** Writes what the channel takes, then flushes once (now or paced, but not paced if a reply is among it). Runs on the event loop. */
    @Override
    public void run() {
        boolean reply = urgent;
        urgent = false;
        if (write() > 0) {
            if (reply) flushSoon();
            else flushOrDefer();
        }
    }

    private int write() {
        scheduled.set(false);
        if (closed) {
            // The close frame is written, or about to be (an overflow closes from a task queued
            // before this run could be), and no data frame may follow it (RFC 6455 section 5.5.1).
            // A deliberate close has written what it could first (drainNow).
            discard();
            return 0;
        }
        int written = 0;
        long bytes = 0;
        ByteBuf frame;
        while (written < MAX_FRAMES_PER_FLUSH && ctx.channel().isWritable() && (frame = queue.poll()) != null) {
            bytes += taken(frame);
            written++;
            if (frame.readableBytes() >= MAX_GATHERED_FRAME) {
                // Too big to copy for nothing: a duplicate, since the same bytes may be queued on many connections at once.
                ctx.write(frame.duplicate(), ctx.voidPromise());
                continue;
            }
            // Small frames leave in one buffer of their own, up to what the socket takes before it is
            // unwritable: one entry in Netty's queue instead of one per frame, and the queued frames
            // (shared, or a join's replay) are not held until the socket takes them.
            long wanted = Math.min(Math.min(ctx.channel().bytesBeforeUnwritable(), MAX_GATHERED_BYTES), frame.readableBytes() + bytes());
            ByteBuf gathered = ctx.alloc().directBuffer((int) Math.max(frame.readableBytes(), wanted));
            gathered.writeBytes(frame, frame.readerIndex(), frame.readableBytes());
            ByteBuf next;
            while (written < MAX_FRAMES_PER_FLUSH && (next = queue.peek()) != null
                    && next.readableBytes() < MAX_GATHERED_FRAME && next.readableBytes() <= gathered.writableBytes()) {
                queue.poll();
                bytes += taken(next);
                written++;
                gathered.writeBytes(next, next.readerIndex(), next.readableBytes());
            }
            ctx.write(gathered, ctx.voidPromise());
        }
        if (bytes > 0) budget.add(-bytes); // once per run: the node's sum is shared by every thread, and read only every 100 ms
        if (heldPong != null && queue.isEmpty() && ctx.channel().isWritable()) {
            ctx.write(heldPong.duplicate(), ctx.voidPromise());
            heldPong = null;
            written++;
        }
        if (!queue.isEmpty() && ctx.channel().isWritable()) schedule(HandOff.NONE);
        return written;
    }

    /**
     * A frame left the queue: it no longer counts against the outbox's bounds. @return its bytes, which
     * the caller takes from the node's budget (once for all the frames it takes)
     */
    private long taken(ByteBuf frame) {
        // Frames are never changed once queued (they are shared), so this is the weight they were counted with.
        int bytes = frame.readableBytes();
        queued.addAndGet(-(ONE_FRAME + bytes));
        return bytes;
    }

    /**
     * A flush not paced is still not done at once but by a task at the end of the loop's queue: the
     * tasks already queued (an ack completing right after the commit that delivered the message it
     * acknowledges) write their frames first and share the write.
     */
    private void flushOrDefer() {
        long wait = lastFlushNanos + flushIntervalNanos - System.nanoTime();
        if (wait <= 0 || flushIntervalNanos == 0) {
            flushSoon();
        } else if (!flushPending) { // else a flush task or the pacer flushes this connection soon, with what was just written
            flushPending = true;
            Pacer.PER_LOOP.get().defer(this, ctx.executor(), wait);
        }
    }

    /** Flushes at the end of the loop's queue, unless a flush (paced or not) is already waiting. */
    private void flushSoon() {
        if (flushPending) return;
        flushPending = true;
        ctx.executor().execute(flushTask);
    }

    private void flush(long now) {
        flushPending = false;
        lastFlushNanos = now;
        ctx.flush();
    }

    /** Writes everything still queued, if the channel takes it, and flushes; used before a deliberate close. */
    void drainNow() {
        if (!ctx.executor().inEventLoop() || closed) return;
        // All of it, past the per-run cap and whether or not the socket takes more now: the close
        // that follows discards what is left, and the answers owed may be at the end (behind a
        // commit's worth of messages, or a join's replay). The queue is bounded in bytes, so
        // Netty's buffer can hold it until the socket takes it.
        ByteBuf frame;
        long bytes = 0;
        while ((frame = queue.poll()) != null) {
            bytes += taken(frame);
            ctx.write(frame.duplicate(), ctx.voidPromise());
        }
        if (bytes > 0) budget.add(-bytes);
        flush(System.nanoTime());
    }

    void close() {
        closed = true;
        ctx.executor().execute(this::discard);
    }

    /** On the event loop. */
    private void discard() {
        heldPong = null;
        if (unwritableTimer != null) {
            unwritableTimer.cancel(false);
            unwritableTimer = null;
        }
        ByteBuf frame;
        long bytes = 0;
        while ((frame = queue.poll()) != null) bytes += taken(frame);
        if (bytes > 0) budget.add(-bytes);
    }

    /**
     * One per event loop: flushes the connections whose flush was deferred, all at one tick. The
     * connections of a loop mostly receive the same messages at the same moments, so one timer
     * serves them all instead of one timer each.
     */
    private static final class Pacer implements Runnable {
        static final FastThreadLocal<Pacer> PER_LOOP = new FastThreadLocal<>() {
            @Override
            protected Pacer initialValue() {
                return new Pacer();
            }
        };

        private ArrayList<Outbox> waiting = new ArrayList<>();
        private ArrayList<Outbox> flushing = new ArrayList<>();
        private boolean armed;

        void defer(Outbox o, EventExecutor loop, long delayNanos) {
            waiting.add(o);
            if (!armed) {
                armed = true;
                loop.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
            }
        }

        @Override
        public void run() {
            armed = false;
            ArrayList<Outbox> due = waiting;
            waiting = flushing;
            flushing = due;
            long now = System.nanoTime();
            for (int i = 0; i < due.size(); i++) {
                Outbox o = due.get(i);
                if (o.flushPending) o.flush(now);
            }
            due.clear();
        }
    }
}
