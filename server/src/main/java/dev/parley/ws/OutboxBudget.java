package dev.parley.ws;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bytes queued in every outbox of the node, against one budget ({@code CHAT_OUTBOX_BUDGET}).
 * Each outbox is bounded on its own (16 MiB by default), but a few hundred clients that ask for
 * history and read nothing would still hold gigabytes between them: past the budget, {@link WsEndpoint}
 * closes the connections that hold the most with 4002, as too slow, rather than refuse frames (a
 * frame refused to a connection that stays open would be a message it silently misses).
 *
 * <p>Outboxes add and take their bytes on every frame, from every thread: a {@link LongAdder} keeps
 * that to an uncontended add, and the sum is read only by the periodic check and the metrics. A frame
 * shared by several connections (a room's message) counts once for each, as in each outbox's own
 * bound: what the budget bounds is what the queues could hold if none of them shared.
 *
 * <p>The check runs every 100 ms, and at once when a big frame (a history page, mostly) is queued
 * while the sum is past the budget: a few clients asking for many pages at once can queue megabytes
 * between two ticks.
 */
final class OutboxBudget {
    /** A frame at least this big makes the outbox look at the sum at once. */
    static final int BIG_FRAME_BYTES = 16 * 1024;

    private final LongAdder queued = new LongAdder();
    private final long limit;
    private final AtomicBoolean checkAsked = new AtomicBoolean();
    private volatile Runnable check = () -> {};

    OutboxBudget(long limit) {
        if (limit <= 0) throw new IllegalArgumentException("limit " + limit);
        this.limit = limit;
    }

    void add(long bytes) {
        queued.add(bytes);
    }

    /** What runs the check (on a thread of its choosing) when {@link #bigFrameQueued} finds the budget passed. */
    void onPassed(Runnable check) {
        this.check = check;
    }

    /** Asks for the check at once if the sum is past the budget; one ask at a time until {@link #checking}. Any thread. */
    void bigFrameQueued() {
        if (queued.sum() > limit && checkAsked.compareAndSet(false, true)) check.run();
    }

    /** The check is running: a big frame queued from now asks for the next one. */
    void checking() {
        checkAsked.set(false);
    }

    /** Bytes queued across the outboxes now. */
    long queued() {
        return queued.sum();
    }

    long limit() {
        return limit;
    }

    /** A connection's outbox as the check sees it. */
    record Holder<T>(T who, long bytes, boolean closing) {}

    /**
     * Which connections to close when the outboxes together hold {@code queued} bytes: none while that
     * is within the budget; past it, the biggest holders until what is left is within three quarters
     * of the budget, so that the next check does not find it just over again. Bytes of outboxes
     * already closing are about to be dropped and count as gone.
     */
    <T> List<T> toShed(long queued, List<Holder<T>> holders) {
        if (queued <= limit) return List.of();
        long left = queued;
        List<Holder<T>> open = new ArrayList<>(holders.size());
        for (Holder<T> h : holders) {
            if (h.closing()) left -= h.bytes();
            else if (h.bytes() > 0) open.add(h);
        }
        if (left <= limit) return List.of();
        long target = limit - limit / 4;
        open.sort(Comparator.comparingLong((Holder<T> h) -> h.bytes()).reversed());
        List<T> shed = new ArrayList<>();
        for (Holder<T> h : open) {
            if (left <= target) break;
            shed.add(h.who());
            left -= h.bytes();
        }
        return shed;
    }
}
