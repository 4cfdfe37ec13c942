package dev.parley.bench;

import io.netty.channel.EventLoop;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

import static java.util.Objects.requireNonNull;

/**
 * How one connection of {@code bench storm} comes back after a drop, as PROTOCOL.md 10 asks of every
 * client: waits as {@link Backoff} says (a refusal's {@code Retry-After} included), opens a new
 * socket, and, once upgraded, rejoins with {@code since} and re-sends what was not acknowledged
 * ({@link BenchConnection}, {@link Sender}). The other scenarios have none: there a drop ends the
 * connection and counts against the run.
 *
 * <p>Used on the connection's event loop; the two times are volatile, for the command's progress
 * line and report.
 */
final class Reconnect {
    /** What the reconnecting connections of a fleet share. */
    static final class Policy {
        /** ThreadLocalRandom, drawn from on whichever loop asks (it only needs {@code nextLong}). */
        static final RandomGenerator THREAD_LOCAL = () -> ThreadLocalRandom.current().nextLong();

        private final Consumer<BenchConnection> opener;
        private final RandomGenerator random;
        private final Scheduler scheduler;
        /** Run-clock time from which a drop counts as the storm's; none before the command says. */
        volatile long stormFrom = Long.MAX_VALUE;

        /** @param opener opens a new socket for the connection (on its loop) */
        Policy(Consumer<BenchConnection> opener, RandomGenerator random) {
            this(opener, random, (loop, task, millis) -> loop.schedule(task, millis, TimeUnit.MILLISECONDS));
        }

        /** @param scheduler runs the next attempt after the wait: the loop's timer, or a test's hand */
        Policy(Consumer<BenchConnection> opener, RandomGenerator random, Scheduler scheduler) {
            this.opener = requireNonNull(opener, "opener");
            this.random = requireNonNull(random, "random");
            this.scheduler = requireNonNull(scheduler, "scheduler");
        }

        void open(BenchConnection c) {
            opener.accept(c);
        }

        void schedule(EventLoop loop, Runnable attempt, long millis) {
            scheduler.schedule(loop, attempt, millis);
        }
    }

    interface Scheduler {
        void schedule(EventLoop loop, Runnable attempt, long millis);
    }

    final Policy policy;
    private final Backoff backoff;
    private long upSince = -1;
    private int refusedStatus;
    private long retryAfterSeconds;
    /** The last wait {@link #next} gave, in ms (-1: gave up); for tests. */
    long lastWaitMillis = -1;
    /** Run-clock time of the first drop at or after {@link Policy#stormFrom}, or -1. */
    volatile long droppedAt = -1;
    /** Run-clock time of the first {@code joined} after {@link #droppedAt}, or -1. */
    volatile long resumedAt = -1;
    /** The rule said not to come back (a close or refusal that another attempt cannot fix). */
    volatile boolean gaveUp;

    Reconnect(Policy policy) {
        this.policy = requireNonNull(policy, "policy");
        this.backoff = new Backoff(policy.random);
    }

    /** The upgrade went through at {@code now}. */
    void up(long now) {
        upSince = now;
    }

    /** The upgrade was answered {@code status} (not 101), with {@code Retry-After} seconds or 0. */
    void refused(int status, long retryAfter) {
        refusedStatus = status;
        retryAfterSeconds = retryAfter;
    }

    /**
     * The socket ended at {@code now}: closed with {@code closeCode} (-1: no close frame), refused, or
     * never connected. Returns the wait before the next attempt in ms, or -1 when the rule says not to
     * come back.
     */
    long next(long now, int closeCode) {
        if (upSince >= 0) backoff.wasUp((now - upSince) / 1_000_000);
        upSince = -1;
        if (droppedAt < 0 && now >= policy.stormFrom) droppedAt = now;
        boolean last = refusedStatus > 0 ? Backoff.finalRefusal(refusedStatus) : Backoff.finalClose(closeCode);
        long wait = last ? -1 : backoff.nextMillis(closeCode, retryAfterSeconds);
        refusedStatus = 0;
        retryAfterSeconds = 0;
        if (last) gaveUp = true;
        lastWaitMillis = wait;
        return wait;
    }

    /** A {@code joined} came at {@code now}: the first after the storm's drop is the resume. */
    void joined(long now) {
        if (droppedAt >= 0 && resumedAt < 0) resumedAt = now;
    }

    /** The code of an HTTP status line ({@code HTTP/1.1 503 Service Unavailable}), or 0. */
    static int statusCode(String statusLine) {
        String[] parts = statusLine.split(" ", 3);
        try {
            return parts.length < 2 ? 0 : Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The seconds of a {@code Retry-After} header in these response headers (RFC 9110 delay-seconds), or 0. */
    static long retryAfter(String head) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Retry-After")) {
                try {
                    return Math.max(0, Long.parseLong(line.substring(colon + 1).trim()));
                } catch (NumberFormatException e) {
                    return 0; // an HTTP date: the server never sends one; draw instead
                }
            }
        }
        return 0;
    }
}
