package dev.parley.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Random and malformed JSON for the fuzz tests: documents built around the fields a route or a frame
 * reads (each field sometimes right, sometimes of the wrong type, sometimes twice), strings drawn from
 * every class of code point (controls, bidi and zero-width characters, noncharacters, halves of
 * surrogate pairs spelled with escapes, characters outside the BMP), numbers too big for any type,
 * nesting deeper than any parser allows, and byte-level damage: truncation, invalid UTF-8 (overlong
 * forms, encoded surrogates, bytes that never occur, sequences cut short), stray bytes, a BOM.
 *
 * <p>Plain functions of a {@link Random}: the jqwik properties draw a seed, so a failing case is
 * reported with its bytes and can be replayed.
 */
public final class FuzzJson {
    /** A generated input: what it is meant to exercise, and its bytes. */
    public record Sample(String kind, byte[] bytes) {
        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        /** Readable in a failure report: escaped, and cut to a few hundred characters. */
        @Override
        public String toString() {
            StringBuilder b = new StringBuilder(kind).append(" (").append(bytes.length).append(" bytes): ");
            for (int i = 0; i < Math.min(bytes.length, 400); i++) {
                int c = bytes[i] & 0xff;
                if (c >= 0x20 && c < 0x7f && c != '\\') b.append((char) c);
                else b.append(String.format("\\x%02x", c));
            }
            if (bytes.length > 400) b.append("…");
            return b.toString();
        }
    }

    /** Byte sequences that are not UTF-8 (RFC 3629): a decoder must refuse or replace each, never crash. */
    private static final byte[][] INVALID_UTF8 = {
            {(byte) 0x80},                                      // a continuation byte on its own
            {(byte) 0xbf, (byte) 0x80},
            {(byte) 0xc0, (byte) 0x80},                         // overlong NUL ("modified UTF-8")
            {(byte) 0xc1, (byte) 0xbf},                         // overlong
            {(byte) 0xe0, (byte) 0x80, (byte) 0xaf},            // overlong '/'
            {(byte) 0xed, (byte) 0xa0, (byte) 0x80},            // U+D800 encoded (CESU-8)
            {(byte) 0xed, (byte) 0xbf, (byte) 0xbf},            // U+DFFF encoded
            {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
            {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // a 5-byte form
            {(byte) 0xfe}, {(byte) 0xff},                       // never in UTF-8
            {(byte) 0xc3},                                      // a 2-byte sequence cut short
            {(byte) 0xe2, (byte) 0x82},                         // a 3-byte sequence cut short
            {(byte) 0xf0, (byte) 0x9f, (byte) 0x98},            // a 4-byte sequence cut short
    };

    /** Code points of each class that has tripped up a parser, a validator or a database somewhere. */
    private static final int[] SPECIAL = {
            0x0000, 0x0001, 0x0007, 0x0008, 0x0009, 0x000a, 0x000b, 0x000c, 0x000d, 0x001b, 0x001f, 0x007f, // C0, DEL
            0x0080, 0x0085, 0x009f, 0x00a0, 0x00ad,                   // C1, NEL, no-break space, soft hyphen
            0x0301, 0x034f, 0x0600, 0x061c, 0x0e3f,                   // combining, Arabic, ALM
            0x1680, 0x180e, 0x2000, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, // spaces, zero-width, marks
            0x2028, 0x2029, 0x202a, 0x202e, 0x2060, 0x2066, 0x2069, 0x206f, // separators, bidi, invisible
            0x3000, 0xfdd0, 0xfdef, 0xfeff, 0xfff9, 0xfffc, 0xfffd, 0xfffe, 0xffff, // ideographic space, noncharacters, BOM
            0xe000, 0xf8ff,                                           // private use
            0xd800, 0xdbff, 0xdc00, 0xdfff,                           // halves of surrogate pairs, alone
            0x1f600, 0x1f1fa, 0x1d11e, 0xe0001, 0xe007f, 0xf0000, 0x10fffd, 0x10ffff, // astral, tags, private use
    };

    private FuzzJson() {}

    /**
     * Field names, each followed by its good values (a {@code List<String>} of JSON), in order: a
     * seed then always makes the same document.
     */
    @SuppressWarnings("unchecked")
    public static Map<String, List<String>> fields(Object... nameThenGood) {
        Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        for (int i = 0; i < nameThenGood.length; i += 2) out.put((String) nameThenGood[i], (List<String>) nameThenGood[i + 1]);
        return out;
    }

    /** One code point of any class: ASCII most often, then the special ones, then any at all. */
    public static int codePoint(Random r) {
        return switch (r.nextInt(6)) {
            case 0, 1 -> 0x20 + r.nextInt(0x5f);
            case 2 -> SPECIAL[r.nextInt(SPECIAL.length)];
            case 3 -> r.nextInt(0x10000);
            case 4 -> 0x10000 + r.nextInt(0x100000);
            default -> "abcxyz_.-0189ABZ".charAt(r.nextInt(16));
        };
    }

    /** A string of {@code 0..max} code points of any class; may hold half a surrogate pair. */
    public static String string(Random r, int max) {
        int n = r.nextInt(8) == 0 ? r.nextInt(max + 1) : r.nextInt(Math.min(max, 24) + 1);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.appendCodePoint(codePoint(r));
        return b.toString();
    }

    /** A string literal: escaped as JSON requires, with any other character sometimes escaped too (the only way to spell half a pair). */
    public static String literal(Random r, String s) {
        boolean escapeAll = r.nextInt(4) == 0;
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20 || Character.isSurrogate(c) && !wholePair(s, i) || escapeAll) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    private static boolean wholePair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /** A number literal: small, at the edges of int and long, fractional, or far too long for any type. */
    public static String number(Random r) {
        return switch (r.nextInt(10)) {
            case 0 -> String.valueOf(r.nextInt(200) - 100);
            case 1 -> String.valueOf(Long.MAX_VALUE);
            case 2 -> "-9223372036854775809";
            case 3 -> "2147483648";
            case 4 -> "1" + "0".repeat(20 + r.nextInt(r.nextBoolean() ? 40 : 5000)); // up to thousands of digits
            case 5 -> "1e" + (r.nextBoolean() ? "999999999" : "-999999999");
            case 6 -> "-0.0";
            case 7 -> "0." + "3".repeat(1 + r.nextInt(2000));
            case 8 -> "1.5E+308";
            default -> String.valueOf(r.nextLong());
        };
    }

    /** Any JSON value, nested up to {@code depth}. */
    public static String value(Random r, int depth) {
        int pick = r.nextInt(depth > 0 ? 8 : 5);
        return switch (pick) {
            case 0 -> "null";
            case 1 -> r.nextBoolean() ? "true" : "false";
            case 2 -> number(r);
            case 3, 4 -> literal(r, string(r, 64));
            case 5 -> {
                StringBuilder b = new StringBuilder("[");
                for (int i = 0, n = r.nextInt(4); i < n; i++) b.append(i > 0 ? "," : "").append(value(r, depth - 1));
                yield b.append(']').toString();
            }
            default -> object(r, Map.of(), depth - 1);
        };
    }

    /**
     * An object with some of the {@code fields} (each with one of its good values, as JSON, two times
     * in three, any value otherwise), random other fields, and sometimes a field twice.
     */
    public static String object(Random r, Map<String, List<String>> fields, int depth) {
        List<String> names = List.copyOf(fields.keySet());
        StringBuilder b = new StringBuilder("{");
        int n = 0;
        for (String f : names) {
            if (r.nextInt(5) == 0) continue; // missing
            List<String> good = fields.get(f);
            for (int times = r.nextInt(6) == 0 ? 2 : 1; times > 0; times--) { // sometimes a duplicate key
                b.append(n++ > 0 ? "," : "").append(literal(r, f)).append(':');
                b.append(!good.isEmpty() && r.nextInt(3) > 0 ? good.get(r.nextInt(good.size())) : value(r, depth));
            }
        }
        for (int i = 0, extra = r.nextInt(3); i < extra; i++) {
            b.append(n++ > 0 ? "," : "").append(literal(r, r.nextBoolean() && !names.isEmpty() ? names.get(r.nextInt(names.size())) : string(r, 12)))
                    .append(':').append(value(r, depth));
        }
        return b.append('}').toString();
    }

    /** {@code n} levels of arrays or objects, closed (or, sometimes, not), at a field or at the top. */
    public static String nested(Random r, int n) {
        boolean arrays = r.nextBoolean();
        StringBuilder b = new StringBuilder(n * 6);
        for (int i = 0; i < n; i++) b.append(arrays ? "[" : "{\"a\":");
        b.append(r.nextBoolean() ? "1" : "\"x\"");
        if (r.nextInt(4) > 0) for (int i = 0; i < n; i++) b.append(arrays ? ']' : '}');
        return b.toString();
    }

    /**
     * A sample for a document with these fields (each with its good values, as JSON): most often an
     * object around them (see {@link #object}), else deep nesting, a huge number, a value that is not
     * an object, or bytes damaged one of many ways.
     */
    public static Sample sample(Random r, Map<String, List<String>> fields) {
        String doc = object(r, fields, 3);
        List<String> names = List.copyOf(fields.keySet());
        return switch (r.nextInt(16)) {
            case 0, 1, 2, 3, 4, 5, 6 -> new Sample("object", utf8(doc));
            case 7 -> {
                String field = names.isEmpty() ? "a" : names.get(r.nextInt(names.size()));
                int depth = r.nextBoolean() ? 100 + r.nextInt(1500) : 1500 + r.nextInt(6000);
                String inner = nested(r, depth);
                yield new Sample("nested " + depth, utf8(r.nextBoolean() ? inner : "{" + literal(r, field) + ":" + inner + "}"));
            }
            case 8 -> {
                String field = names.isEmpty() ? "a" : names.get(r.nextInt(names.size()));
                yield new Sample("huge number", utf8("{" + literal(r, field) + ":" + number(r) + "}"));
            }
            case 9 -> new Sample("not an object", utf8(List.of("", " ", "null", "[]", "[" + doc + "]", "\"text\"", "42", "true", doc + doc, doc + " x",
                    "{", "}", "{\"a\"}", "{\"a\":}", "{,}", "{\"a\":1,}", "{'a':1}", "{a:1}", "/* */{}", "{\"a\":NaN}", "{\"a\":Infinity}",
                    "{\"a\":01}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"unterminated}").get(r.nextInt(25))));
            case 10 -> new Sample("truncated", truncate(r, utf8(doc)));
            case 11, 12 -> new Sample("invalid UTF-8", insert(r, utf8(doc), INVALID_UTF8[r.nextInt(INVALID_UTF8.length)]));
            case 13 -> new Sample("stray bytes", insert(r, utf8(doc), randomBytes(r, 1 + r.nextInt(4))));
            case 14 -> new Sample("BOM", concat(new byte[]{(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, utf8(doc)));
            default -> new Sample("random bytes", randomBytes(r, r.nextInt(200)));
        };
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] truncate(Random r, byte[] b) {
        return java.util.Arrays.copyOf(b, b.length == 0 ? 0 : r.nextInt(b.length));
    }

    /** {@code bytes} put in at a random place, which may well be inside a string. */
    private static byte[] insert(Random r, byte[] b, byte[] bytes) {
        int at = r.nextInt(b.length + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + bytes.length);
        out.write(b, 0, at);
        out.write(bytes, 0, bytes.length);
        out.write(b, at, b.length - at);
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }
}
