package dev.parley.ws;

import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands the deliveries one thread makes in one go (a group commit's messages, an event from Redis)
 * to each event loop as one task, at the end, instead of one task per connection.
 *
 * <p>A task handed to a sleeping event loop wakes it with a system call, and on a busy core the
 * woken loop runs at once: it wrote the one connection it was given and went back to sleep before
 * the next offer woke it again. A commit to a room of 100 members cost 100 wake-ups; JFR put a
 * third of the writer thread's time in them. Handed over together, it costs one per event loop.
 *
 * <p>The tasks run in the order they were added. A connection whose outbox is waiting here is
 * written when the batch is released, which is when {@link #together} returns.
 */
public final class HandOff {
    private static final Logger log = LoggerFactory.getLogger(HandOff.class);
    private static final ThreadLocal<HandOff> CURRENT = new ThreadLocal<>();

    private final List<EventExecutor> loops = new ArrayList<>(4);
    private final List<List<Runnable>> tasks = new ArrayList<>(4);

    private HandOff() {}

    /** Runs {@code deliveries}; the outbox tasks it schedules reach their event loops when it is done. */
    public static void together(Runnable deliveries) {
        if (CURRENT.get() != null) { // already inside one: the outer call releases
            deliveries.run();
            return;
        }
        HandOff batch = new HandOff();
        CURRENT.set(batch);
        try {
            deliveries.run();
        } finally {
            CURRENT.remove();
            batch.release();
        }
    }

    /** Runs {@code task} on {@code loop}: now, or with the batch of this thread if it has one. */
    static void execute(EventExecutor loop, Runnable task) {
        HandOff batch = CURRENT.get();
        if (batch == null) loop.execute(task);
        else batch.add(loop, task);
    }

    private void add(EventExecutor loop, Runnable task) {
        for (int i = 0; i < loops.size(); i++) {
            if (loops.get(i) == loop) {
                tasks.get(i).add(task);
                return;
            }
        }
        loops.add(loop);
        List<Runnable> first = new ArrayList<>();
        first.add(task);
        tasks.add(first);
    }

    private void release() {
        for (int i = 0; i < loops.size(); i++) {
            List<Runnable> mine = tasks.get(i);
            loops.get(i).execute(mine.size() == 1 ? mine.get(0) : () -> {
                for (int k = 0; k < mine.size(); k++) {
                    try {
                        mine.get(k).run();
                    } catch (RuntimeException e) {
                        // one connection's failure must not leave the others of the loop unwritten
                        log.error("an outbox task failed", e);
                    }
                }
            });
        }
    }
}
