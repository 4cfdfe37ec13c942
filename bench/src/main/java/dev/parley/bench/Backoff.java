package dev.parley.bench;

import java.util.random.RandomGenerator;

/**
 * The reconnect rule of PROTOCOL.md section 10, which every client Parley ships follows: the waits are
 * the client library's ({@link dev.parley.client.Backoff}: full jitter, Retry-After, the floors after
 * 4029 and 1008), so the bench and {@code parley client} cannot drift apart. What the bench adds is
 * when not to come back at all ({@link #finalClose}, {@link #finalRefusal}). Not thread-safe: one per
 * connection, used on its event loop.
 */
final class Backoff {
    /** A connection up this long was a success: the next drop starts from the first wait again (the library's rule). */
    static final long STABLE_MILLIS = 10_000;

    private final dev.parley.client.Backoff rule;

    Backoff(RandomGenerator random) {
        this.rule = new dev.parley.client.Backoff(random);
    }

    /** The wait before the next attempt, after a close with {@code closeCode} (or -1) or a refusal with {@code retryAfterSeconds} (or 0). */
    long nextMillis(int closeCode, long retryAfterSeconds) {
        return rule.nextMillis(closeCode, retryAfterSeconds);
    }

    /** A connection ended after being up {@code millis}: long enough, and the waits start again from the first. */
    void wasUp(long millis) {
        rule.wasUp(millis);
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
