package dev.parley.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The background sweep of retention ({@link RetentionStore}): on a thread of its own
 * ({@code parley-retention}), never an event loop or the shared workers, each pass walks the rooms
 * that have a retention, a page of names at a time, and removes from each what it keeps no longer,
 * at most {@link #BATCHES_PER_ROOM} small transactions a room per pass. A pass that left work
 * (a room with more, after a long pause or a lowered setting) is followed by the next one a second
 * later; otherwise the next comes after {@link #INTERVAL_MILLIS}.
 *
 * <p>Every node sweeps (the sweep is idempotent, see {@link RetentionStore}); the first pass comes
 * after a random part of the interval, so that nodes started together do not sweep in step.
 */
public final class RetentionSweep implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RetentionSweep.class);
    static final long INTERVAL_MILLIS = 60_000;
    private static final long AGAIN_MILLIS = 1_000;
    static final int BATCHES_PER_ROOM = 10;
    private static final int ROOMS_PER_PAGE = 500;
    /** At most one line of info a this often: a busy sweep would say the same every second. */
    private static final long LOG_EVERY_MILLIS = 10 * 60_000;

    private final RetentionStore store;
    private final RetentionStore.Policy server;
    private final LongConsumer swept;
    private final LongSupplier clock;
    private final ScheduledExecutorService thread;
    private long unlogged;
    private long loggedAt;

    /**
     * @param server the server's retention (CHAT_RETENTION_DAYS, CHAT_RETENTION_MESSAGES)
     * @param swept  told how many messages (and room events) each pass removed: the metrics listen here
     */
    public RetentionSweep(RetentionStore store, RetentionStore.Policy server, LongConsumer swept, LongSupplier clock) {
        this.store = requireNonNull(store, "store");
        this.server = requireNonNull(server, "server");
        this.swept = requireNonNull(swept, "swept");
        this.clock = requireNonNull(clock, "clock");
        java.util.concurrent.ScheduledThreadPoolExecutor one = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "parley-retention");
            t.setDaemon(true);
            return t;
        });
        // A pass waiting for its time is dropped by close(): by default a scheduled executor runs its
        // delayed tasks after shutdown, and close() waited its 5 s for the next pass (every node stop).
        one.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.thread = one;
    }

    /** Schedules the first pass. */
    public void start() {
        schedule(ThreadLocalRandom.current().nextLong(INTERVAL_MILLIS));
    }

    /** Runs a pass now, on the sweep's thread, with {@code now} as the time (tests, to age messages without waiting). @return messages removed */
    public CompletableFuture<Long> sweepNow(long now) {
        return CompletableFuture.supplyAsync(() -> pass(now).rows(), thread);
    }

    private void schedule(long delayMillis) {
        if (thread.isShutdown()) return;
        try {
            thread.schedule(() -> {
                long next = INTERVAL_MILLIS;
                try {
                    if (pass(clock.getAsLong()).more()) next = AGAIN_MILLIS;
                } catch (RuntimeException e) {
                    log.warn("retention sweep failed (tried again in {} s): {}", INTERVAL_MILLIS / 1000, e.toString());
                }
                schedule(next);
            }, delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closed meanwhile
        }
    }

    /** One pass over every room with a retention. */
    RetentionStore.Swept pass(long now) {
        long rows = 0;
        boolean more = false;
        String after = "";
        while (!thread.isShutdown()) {
            List<String> rooms = store.rooms(after, ROOMS_PER_PAGE, !server.none());
            for (String room : rooms) {
                if (thread.isShutdown()) break;
                RetentionStore.Swept s = store.sweep(room, server, now, BATCHES_PER_ROOM);
                rows += s.rows();
                more |= s.more();
            }
            if (rooms.size() < ROOMS_PER_PAGE) break;
            after = rooms.get(rooms.size() - 1);
        }
        if (rows > 0) {
            swept.accept(rows);
            report(rows, now);
        }
        return new RetentionStore.Swept(rows, more);
    }

    private void report(long rows, long now) {
        unlogged += rows;
        if (now - loggedAt < LOG_EVERY_MILLIS) {
            log.debug("retention sweep removed {} messages", rows);
            return;
        }
        log.info("retention sweep removed {} messages and room events since it last said", unlogged);
        unlogged = 0;
        loggedAt = now;
    }

    /** Stops the sweep; a pass under way stops before its next room, and its transaction ends first. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) thread.shutdownNow();
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
