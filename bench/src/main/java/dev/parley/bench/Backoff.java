package dev.parley.bench;

import java.util.random.RandomGenerator;

/**
 * The reconnect rule of PROTOCOL.md section 10, which every client Parley ships follows: attempt n
 * (n = 0 for the first after a drop) waits a random time anywhere in [0, min(30 s, 1 s x 2^n)) ("full
 * jitter"); n starts again once a connection has lasted 10 s; a refused upgrade's {@code Retry-After}
 * is waited, plus under a second; 4029 and 1008 are floors of 30 s and 60 s under the draw.
 *
 * <p>The server's module has the same rule for {@code parley client} ({@code cli/Backoff.java}); the
 * bench imports nothing of the server, so it keeps this copy, and BackoffTest pins the same numbers.
 * What the bench adds is when not to come back at all ({@link #finalClose}, {@link #finalRefusal}).
 * Not thread-safe: one per connection, used on its event loop.
 */
final class Backoff {
    static final long FIRST_MILLIS = 1_000;
    static final long MAX_MILLIS = 30_000;
    /** A connection up this long was a success: the next drop starts from the first wait again. */
    static final long STABLE_MILLIS = 10_000;

    private final RandomGenerator random;
    private int attempt;

    Backoff(RandomGenerator random) {
        this.random = random;
    }

    /** The wait before the next attempt, after a close with {@code closeCode} (or -1) or a refusal with {@code retryAfterSeconds} (or 0). */
    long nextMillis(int closeCode, long retryAfterSeconds) {
        long ceiling = Math.min(MAX_MILLIS, FIRST_MILLIS << Math.min(attempt, 15));
        attempt++;
        if (retryAfterSeconds > 0) return retryAfterSeconds * 1_000 + (long) (random.nextDouble() * FIRST_MILLIS);
        long floor = switch (closeCode) {
            case 4029 -> 30_000; // the rate limits were passed again and again: wait, then send more slowly
            case 1008 -> 60_000;
            default -> 0;
        };
        return floor + (long) (random.nextDouble() * ceiling);
    }

    /** A connection ended after being up {@code millis}: long enough, and the waits start again from the first. */
    void wasUp(long millis) {
        if (millis >= STABLE_MILLIS) attempt = 0;
    }

    /**
     * Closes after which coming back cannot help (the table of PROTOCOL.md 10): a broken WebSocket
     * (1002), a policy violation (1008: the bench's frames are wrong), a frame too big (1009), a revoked
     * session (4003) or an expired token (4001: the bench has no refresh). 1000 is not among them, as it
     * is for {@code parley client}: a bench connection always wants to be online.
     */
    static boolean finalClose(int closeCode) {
        return closeCode == 1002 || closeCode == 1008 || closeCode == 1009 || closeCode == 4001 || closeCode == 4003;
    }

    /**
     * Refused upgrades that another attempt cannot fix (PROTOCOL.md 5): a bad token (401), a
     * forbidden origin (403), a request the server does not take (400, 405, 426). 429 and 503 say when
     * to come back; 502 and 504 are a proxy that found no node, which a restart is expected to give.
     */
    static boolean finalRefusal(int status) {
        return status >= 400 && status < 500 && status != 429 && status != 408;
    }
}
