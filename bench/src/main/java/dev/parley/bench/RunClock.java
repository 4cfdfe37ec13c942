package dev.parley.bench;

/**
 * Time of one bench run: nanoseconds since it started, so that send times fit the fixed-width stamp
 * written at the start of each message text. Senders and receivers are in this process, so one
 * monotonic clock serves both ends of the latency.
 */
final class RunClock {
    private final long origin = System.nanoTime();
    /** The phase being measured; replaced between saturation steps. */
    private volatile Phase phase = new Phase(0, Long.MAX_VALUE, Long.MAX_VALUE);

    long now() {
        return System.nanoTime() - origin;
    }

    Phase phase() {
        return phase;
    }

    void phase(Phase p) {
        phase = p;
    }

    /**
     * A stretch of sending: from {@code start} the senders send, messages intended from
     * {@code warmupEnd} to {@code sendEnd} are measured, and none is intended at or after {@code sendEnd}.
     */
    record Phase(long start, long warmupEnd, long sendEnd) {
        boolean measured(long intendedNanos) {
            return intendedNanos >= warmupEnd && intendedNanos < sendEnd;
        }
    }
}
