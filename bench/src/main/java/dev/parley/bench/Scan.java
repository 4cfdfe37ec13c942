package dev.parley.bench;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * Byte scans of the server's JSON text frames. The receive path of the load generator reads the few
 * fields it needs ({@code seq}, the send time inside {@code text}, {@code clientId}) from the frame's
 * bytes: no String, no JSON parser, no allocation per frame. It relies on what PROTOCOL.md and
 * the server guarantee about these frames: one object, {@code type} first, the fields written as
 * {@code "name":value} without spaces, and texts the bench wrote itself (digits and letters, nothing
 * escaped).
 */
final class Scan {
    static final byte[] TYPE_PREFIX = ascii("{\"type\":\"");
    static final byte[] SEQ = ascii("\"seq\":");
    static final byte[] TEXT = ascii("\"text\":\"");
    static final byte[] CLIENT_ID = ascii("\"clientId\":\"");
    static final byte[] CODE = ascii("\"code\":\"");
    static final byte[] LAST_SEQ = ascii("\"lastSeq\":");
    static final byte[] END_OF_HEADERS = ascii("\r\n\r\n");

    /** Where the type's first letter is: {@code {"type":"m...}. */
    static final int TYPE_AT = TYPE_PREFIX.length;
    /** Width of the send time at the start of every text the bench sends: nanoseconds since the run started. */
    static final int STAMP_DIGITS = 15;

    private Scan() {}

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** @return the index just after the first {@code pattern} in {@code [from, to)}, or -1 */
    static int after(ByteBuf b, int from, int to, byte[] pattern) {
        byte first = pattern[0];
        int last = to - pattern.length;
        outer:
        for (int i = from; i <= last; i++) {
            if (b.getByte(i) != first) continue;
            for (int k = 1; k < pattern.length; k++) {
                if (b.getByte(i + k) != pattern[k]) continue outer;
            }
            return i + pattern.length;
        }
        return -1;
    }

    /** The same on an array: the receive path copies each text frame into one and scans it there. */
    static int after(byte[] a, int from, int to, byte[] pattern) {
        byte first = pattern[0];
        int last = Math.min(to, a.length) - pattern.length;
        outer:
        for (int i = Math.max(0, from); i <= last; i++) {
            if (a[i] != first) continue;
            for (int k = 1; k < pattern.length; k++) {
                if (a[i + k] != pattern[k]) continue outer;
            }
            return i + pattern.length;
        }
        return -1;
    }

    /** The non-negative decimal at {@code at} (up to the first non-digit or {@code to}); -1 if there is none. */
    static long number(byte[] a, int at, int to) {
        if (at < 0 || at >= to) return -1;
        long v = 0;
        int i = at;
        for (; i < to; i++) {
            int d = a[i] - '0';
            if (d < 0 || d > 9) break;
            v = v * 10 + d;
        }
        return i == at ? -1 : v;
    }

    /** The string value that starts at {@code at} (just after its opening quote), for the rare frames (errors). */
    static String string(byte[] a, int at, int to) {
        if (at < 0) return "?";
        int end = at;
        while (end < to && a[end] != '"') end++;
        return new String(a, at, end - at, StandardCharsets.UTF_8);
    }

    /** The string value that starts at {@code at} (just after its opening quote), for the rare frames (errors). */
    static String string(ByteBuf b, int at, int to) {
        if (at < 0) return "?";
        int end = at;
        while (end < to && b.getByte(end) != '"') end++;
        return b.toString(at, end - at, StandardCharsets.UTF_8);
    }

    /** Writes {@code v} as exactly {@code width} decimal digits, zero-padded. */
    static void writeFixed(ByteBuf out, long v, int width) {
        int at = out.writerIndex();
        out.writerIndex(at + width);
        for (int i = at + width - 1; i >= at; i--) {
            out.setByte(i, (int) ('0' + v % 10));
            v /= 10;
        }
    }

    /** Writes {@code v} in decimal, as few digits as it takes. */
    static void writeDecimal(ByteBuf out, long v) {
        if (v == 0) {
            out.writeByte('0');
            return;
        }
        int digits = 0;
        for (long x = v; x > 0; x /= 10) digits++;
        writeFixed(out, v, digits);
    }
}
