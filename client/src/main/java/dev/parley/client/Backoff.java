package dev.parley.client;

import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The reconnect rule of PROTOCOL.md section 10, the one every client Parley ships follows ("full
 * jitter"): attempt n waits a random time in [0, min(30 s, 1 s x 2^n)), so that the clients of a node
 * that went down come back spread over a second, and over twice as long each time the node cannot take
 * them; n starts again once a connection has lasted 10 s. A refused upgrade's {@code Retry-After} is
 * honoured, with under a second of jitter (the server already spread its refusals over the seconds it
 * names); a close that says to stay away (4029, 1008) waits at least that long first. Not thread-safe.
 */
public final class Backoff {
    static final long FIRST_MILLIS = 1_000;
    static final long MAX_MILLIS = 30_000;
    /** A connection up this long was a success: the next drop starts from the first wait again. */
    static final long STABLE_MILLIS = 10_000;
    /** Close codes after which reconnecting cannot help (PROTOCOL.md 10): a broken client, a revoked session, a frame too big. */
    public static final Set<Integer> FINAL_CODES = Set.of(1000, 1002, 1008, 1009, 4003);

    private final RandomGenerator random;
    private int attempt;

    public Backoff(RandomGenerator random) {
        this.random = random;
    }

    /** The wait before the next attempt, after a close with {@code closeCode} (or -1) or a refusal with {@code retryAfterSeconds} (or 0). */
    public long nextMillis(int closeCode, long retryAfterSeconds) {
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
    public void wasUp(long millis) {
        if (millis >= STABLE_MILLIS) attempt = 0;
    }
}
