package dev.parley.chat;

import java.util.function.LongSupplier;

/**
 * A token bucket: {@code rate} tokens a second, at most {@code burst} saved up. Not thread-safe:
 * each connection owns its own and uses it on its event loop.
 */
public final class RateLimiter {
    private final double ratePerNano;
    private final double burst;
    private double tokens;
    private long last;
    private final LongSupplier nanoClock;

    public RateLimiter(double ratePerSecond, int burst) {
        this(ratePerSecond, burst, System::nanoTime);
    }

    /** With a clock of nanoseconds of its own: a test's, which moves only when the test says. */
    public RateLimiter(double ratePerSecond, int burst, LongSupplier nanoClock) {
        this.ratePerNano = ratePerSecond / 1e9;
        this.burst = burst;
        this.tokens = burst;
        this.nanoClock = nanoClock;
        this.last = nanoClock.getAsLong();
    }

    public boolean tryAcquire() {
        long now = nanoClock.getAsLong();
        tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
        last = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
