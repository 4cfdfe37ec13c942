package dev.parley.auth;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Attempts counted in this node's memory (see {@link AttemptCounter}): right for one node; in a
 * cluster each node counts on its own, which is what {@link RedisAttempts} is for (and what it
 * falls back to while Redis is unreachable).
 *
 * <p>The keys kept are bounded ({@link #MAX_KEYS}, about 25 MiB): past it, keys left alone for their
 * window are swept (at most once a second: a sweep reads every key), and if none can go a new key is
 * refused ({@link #FULL}) rather than let in uncounted. Keys are short: usernames are validated, and
 * so bounded, before they are counted.
 */
public final class LocalAttempts implements AttemptCounter {
    static final int MAX_KEYS = 100_000;
    private static final long SWEEP_EVERY_MILLIS = 1000;

    private final LongSupplier millis;
    private final int maxKeys;
    private final ConcurrentHashMap<String, Count> counts = new ConcurrentHashMap<>();
    private final AtomicLong lastSweep;

    /** {@code last}: when the last attempt was counted; {@code window}: how long after it the key is forgotten. */
    private record Count(int n, long last, long window) {}

    public LocalAttempts() {
        this(() -> System.nanoTime() / 1_000_000, MAX_KEYS);
    }

    /** @param millis a monotonic clock in milliseconds (tests move it by hand) */
    LocalAttempts(LongSupplier millis, int maxKeys) {
        this.millis = requireNonNull(millis, "millis");
        this.maxKeys = maxKeys;
        this.lastSweep = new AtomicLong(millis.getAsLong() - SWEEP_EVERY_MILLIS);
    }

    @Override
    public CompletionStage<Long> attempt(String key, Rule rule) {
        return CompletableFuture.completedFuture(count(key, rule));
    }

    /** {@link #attempt}, at once. */
    long count(String key, Rule rule) {
        long now = millis.getAsLong();
        if (!counts.containsKey(key) && counts.size() >= maxKeys) {
            sweep(now);
            if (counts.size() >= maxKeys) return FULL;
        }
        long[] wait = {0};
        counts.compute(key, (k, c) -> {
            if (c == null || now - c.last >= c.window) return new Count(1, now, rule.windowMillis());
            // Attempts race: another thread, which read the clock after this one, may have counted
            // first, leaving c.last after now. That is no wait (an attempt with no delay due was
            // once refused "for 1 ms" by it); nor is the last attempt moved back in time.
            long since = Math.max(0, now - c.last);
            long need = rule.delayAfter(c.n);
            if (since < need) {
                wait[0] = need - since;
                return c;
            }
            return new Count(c.n + 1, Math.max(now, c.last), rule.windowMillis());
        });
        return wait[0];
    }

    @Override
    public void takeBack(String key, boolean all) {
        if (all) counts.remove(key);
        else counts.computeIfPresent(key, (k, c) -> c.n <= 1 ? null : new Count(c.n - 1, c.last, c.window));
    }

    /** How many keys are kept; for tests. */
    int size() {
        return counts.size();
    }

    private void sweep(long now) {
        long last = lastSweep.get();
        if (now - last < SWEEP_EVERY_MILLIS || !lastSweep.compareAndSet(last, now)) return;
        counts.values().removeIf(c -> now - c.last >= c.window);
    }
}
