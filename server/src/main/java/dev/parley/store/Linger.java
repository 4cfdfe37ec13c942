package dev.parley.store;

/**
 * How long the group-commit writer lets appends gather before it commits ({@code CHAT_APPEND_LINGER}).
 *
 * <p>On a busy node the writer otherwise wins the race against the senders: at 10,000 sends a second
 * it committed 1.5 messages per transaction, and each commit costs a transaction, a journal write
 * and a hand-over to every event loop. Waiting until the oldest append is {@code linger} old gathers
 * ten times as many per commit. The wait is only worth it when more appends are coming: the writer
 * lingers only while the recent rate says at least {@link #MIN_GATHERED} more will arrive meanwhile,
 * so a lone send on a quiet node is committed at once.
 */
final class Linger {
    static final int MIN_GATHERED = 4;
    private static final long WINDOW_NANOS = 100_000_000L;

    private final long lingerNanos;
    private long windowStart;
    private long windowCount;
    private double perNano;

    /** @param lingerNanos 0: never wait */
    Linger(long lingerNanos, long now) {
        this.lingerNanos = lingerNanos;
        this.windowStart = now;
    }

    /**
     * How long to wait before committing a batch whose oldest append was queued at {@code oldestQueuedAt}.
     * The rate is what was committed over the last 100 ms or more, idle time included, so the first
     * append after a pause is never held.
     */
    long waitNanos(long oldestQueuedAt, long now) {
        if (lingerNanos == 0) return 0;
        long elapsed = now - windowStart;
        if (elapsed >= WINDOW_NANOS) {
            perNano = (double) windowCount / elapsed;
            windowStart = now;
            windowCount = 0;
        }
        if (perNano * lingerNanos < MIN_GATHERED) return 0;
        return Math.max(0, oldestQueuedAt + lingerNanos - now);
    }

    /** Counts the appends of a batch about to be committed. */
    void taken(int appends) {
        windowCount += appends;
    }
}
