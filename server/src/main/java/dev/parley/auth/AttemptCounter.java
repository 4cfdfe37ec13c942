package dev.parley.auth;

import java.util.concurrent.CompletionStage;

/**
 * Counts attempts (at a password, at registering) under a key, and says when the next one must
 * wait: the {@link Rule}'s first {@code free} attempts go at once, each one after that waits twice
 * as long as the one before after the last counted attempt (from {@code base} up to {@code cap}),
 * and a key left alone for {@code window} starts again from nothing. An attempt that must wait is
 * refused and not counted: refusals do not push the wait further out, so whoever keeps being
 * refused is slowed, never locked out for good.
 *
 * <p>{@link LocalAttempts} counts in this node's memory: for a single node. {@link RedisAttempts}
 * counts in Redis, where every node of a cluster counts together: choose it for a cluster, or N
 * nodes allow N times the guesses.
 */
public interface AttemptCounter {
    /** What {@link #attempt} completes with when it cannot count a new key (its table is full): refuse. */
    long FULL = -1;

    /** How many attempts go at once, and how the wait grows after them; all in milliseconds. */
    record Rule(int free, long windowMillis, long baseMillis, long capMillis) {
        /** The least time after the last counted attempt before the next may be counted, once {@code counted} were. */
        public long delayAfter(int counted) {
            if (counted < free) return 0;
            return Math.min(capMillis, baseMillis << Math.min(counted - free, 30));
        }
    }

    /**
     * Counts an attempt under {@code key}, unless it must wait.
     *
     * @return completes with 0 when the attempt is counted (it may go on), with the milliseconds
     * until one may be when it must wait, or with {@link #FULL}; never fails
     */
    CompletionStage<Long> attempt(String key, Rule rule);

    /**
     * Takes attempts under {@code key} back: all of them (the right password: the count starts again),
     * or one (an attempt that checked nothing, or a right password at an address's count).
     */
    void takeBack(String key, boolean all);
}
