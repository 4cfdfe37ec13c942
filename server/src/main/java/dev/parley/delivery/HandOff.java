package dev.parley.delivery;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The writes one thread makes in one go (a group commit's messages, an event from Redis, a gap
 * filled from the store, a join's replay), handed to each event loop as one task when
 * {@link #release()} is called, instead of one task per connection. {@link Delivery} opens one per
 * such batch and passes it down to every {@link Subscriber} it delivers to; a connection's outbox
 * asks it to run the outbox's write on its event loop.
 *
 * <p>Why: a task handed to a sleeping event loop wakes it with a system call, and on a busy core
 * the woken loop runs at once: it wrote the one connection it was given and went back to sleep
 * before the next offer woke it again. A commit to a room of 100 members cost 100 wake-ups; JFR put
 * a third of the writer thread's time in them. Handed over together, it costs one per event loop.
 *
 * <p>Tasks run in the order they were added. One thread uses a HandOff: it is not thread-safe.
 */
public final class HandOff {
    private static final Logger log = LoggerFactory.getLogger(HandOff.class);

    /** Runs each task on its event loop at once: for the rare write that belongs to no batch. */
    public static final HandOff NONE = new HandOff(true);

    private final boolean direct;
    private final List<Executor> loops = new ArrayList<>(4);
    private final List<List<Runnable>> tasks = new ArrayList<>(4);

    private HandOff(boolean direct) {
        this.direct = direct;
    }

    /** A new batch; the caller releases it when its deliveries are done. */
    public static HandOff open() {
        return new HandOff(false);
    }

    /** Runs {@code deliveries} in a batch of their own, released whatever happens: what was queued gets written. */
    public static void run(Consumer<HandOff> deliveries) {
        HandOff handOff = open();
        try {
            deliveries.accept(handOff);
        } finally {
            handOff.release();
        }
    }

    /** The same, for deliveries that answer something. */
    public static <T> T call(Function<HandOff, T> deliveries) {
        HandOff handOff = open();
        try {
            return deliveries.apply(handOff);
        } finally {
            handOff.release();
        }
    }

    /** Runs {@code task} on {@code loop} when this batch is released (at once for {@link #NONE}). */
    public void execute(Executor loop, Runnable task) {
        if (direct) {
            loop.execute(task);
            return;
        }
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

    /** Hands every event loop its tasks, as one task each. */
    public void release() {
        for (int i = 0; i < loops.size(); i++) {
            List<Runnable> mine = tasks.get(i);
            try {
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
            } catch (RejectedExecutionException e) {
                // That event loop is shut down (a commit finishing during a node's stop): its
                // connections are gone; the other loops still get theirs.
                log.debug("an event loop refused its deliveries: {}", e.toString());
            }
        }
        loops.clear();
        tasks.clear();
    }
}
