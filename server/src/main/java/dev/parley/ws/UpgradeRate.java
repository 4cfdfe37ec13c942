package dev.parley.ws;

import dev.parley.chat.RateLimiter;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The node's admission of WebSocket upgrades ({@code CHAT_UPGRADE_RATE}): a token bucket of that many
 * upgrades a second, holding one second's worth. Past it an upgrade is refused (503 with Retry-After)
 * before its token is verified or its handshake answered, so that the clients of a node that restarted
 * come back at a pace the node can serve (each resumes with a {@code join} and a replay per room) instead
 * of all at once, and live traffic keeps its share of the event loops meanwhile.
 *
 * <p>The Retry-After of each refusal is a turn: the refusals of one moment are told to come back over the
 * following seconds, one second's worth of the rate per second, rather than all after the same second
 * (where most of them would be refused again). A client that honours it and adds under a second of jitter
 * (PROTOCOL.md 10) then finds a token. Turns are advice only: the bucket alone decides, so a client
 * that comes back early or never costs nobody but itself.
 *
 * <p>Any thread may ask (the event loops of every connection): one lock, held for a few arithmetic steps.
 */
final class UpgradeRate {
    /** The longest wait a refusal names: past a minute, a client is better served by another node. */
    static final int MAX_RETRY_AFTER_SECONDS = 60;
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final RateLimiter bucket;
    private final long turnNanos;
    private final LongSupplier clock;
    private long lastTurn; // the latest time a refused client was told to come back

    UpgradeRate(double perSecond) {
        this(perSecond, System::nanoTime);
    }

    UpgradeRate(double perSecond, LongSupplier nanoClock) {
        if (!(perSecond > 0)) throw new IllegalArgumentException("perSecond: " + perSecond + " (expected: > 0)");
        this.clock = nanoClock;
        this.bucket = new RateLimiter(perSecond, burstOf(perSecond), nanoClock);
        this.turnNanos = Math.max(1, (long) (SECOND / perSecond));
        this.lastTurn = nanoClock.getAsLong();
    }

    /** One second's worth of the rate, at least one upgrade. */
    static int burstOf(double perSecond) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(perSecond)));
    }

    /** @return 0 if the upgrade may go on; else the seconds (1 to {@link #MAX_RETRY_AFTER_SECONDS}) to tell the client to wait */
    synchronized int admit() {
        if (bucket.tryAcquire()) return 0;
        long now = clock.getAsLong();
        // The next turn after the last one given, and never sooner than a second: Retry-After counts in whole seconds.
        long turn = Math.max(now + SECOND, lastTurn + turnNanos);
        long latest = now + MAX_RETRY_AFTER_SECONDS * SECOND;
        lastTurn = Math.min(turn, latest);
        return (int) Math.min(MAX_RETRY_AFTER_SECONDS, (lastTurn - now + SECOND - 1) / SECOND);
    }
}
