package dev.parley.event;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Message ids: 26 characters of Crockford base32, 48 bits of milliseconds then 80 random bits
 * (the ULID layout), so ids sort by time and never collide across nodes in practice.
 */
public final class Ids {
    private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

    private Ids() {}

    public static String next(long millis) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long hi = r.nextLong() & 0xFFFFL;      // 16 random bits
        long lo = r.nextLong();                 // 64 random bits
        char[] out = new char[26];
        long time = millis;
        for (int i = 9; i >= 0; i--) {
            out[i] = ALPHABET[(int) (time & 31)];
            time >>>= 5;
        }
        // 80 random bits as 16 characters
        for (int i = 25; i >= 10; i--) {
            out[i] = ALPHABET[(int) (lo & 31)];
            lo = (lo >>> 5) | ((hi & 31) << 59);
            hi >>>= 5;
        }
        return new String(out);
    }
}
