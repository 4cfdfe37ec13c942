package dev.parley.event;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whom a text mentions (PROTOCOL.md, mentions): each {@code @name} in it, where {@code name} is made
 * of the characters of a username (letters, digits, {@code _ . -}), in order of first appearance,
 * once each (in any letter case), at most {@link #MAX}. An {@code @} right after one of those
 * characters is no mention (an e-mail address mentions nobody), and a {@code .} or {@code -} at the
 * end of a name is taken for punctuation ("thanks @alice." mentions alice).
 *
 * <p>A pure function of the text, on purpose: a send is not delayed by a look-up of who exists or
 * who is a member, an edit recomputes it from the new text alone, and the list says nothing a reader
 * of the text does not see. Whether a mention counts for someone is decided where counts are read:
 * only in a room they may read, and only after their read marker.
 */
public final class Mentions {
    /** The most names one message mentions; more are not listed (nor counted). */
    public static final int MAX = 20;
    /** The longest name taken: a username is at most 64 characters. */
    static final int NAME_MAX = 64;

    private Mentions() {}

    /** The names {@code text} mentions, as written there; empty if none. */
    public static List<String> of(String text) {
        int at = text.indexOf('@');
        if (at < 0) return List.of(); // most texts: nothing more to look at
        List<String> out = null;
        List<String> keys = null;
        for (; at >= 0 && (out == null || out.size() < MAX); at = text.indexOf('@', at + 1)) {
            if (at > 0 && nameChar(text.charAt(at - 1))) continue;
            int end = at + 1;
            while (end < text.length() && nameChar(text.charAt(end))) end++;
            int stop = end;
            while (stop > at + 1 && (text.charAt(stop - 1) == '.' || text.charAt(stop - 1) == '-')) stop--;
            if (stop == at + 1 || stop - at - 1 > NAME_MAX) continue;
            String name = text.substring(at + 1, stop);
            String key = name.toLowerCase(Locale.ROOT);
            if (out == null) {
                out = new ArrayList<>(2);
                keys = new ArrayList<>(2);
            }
            if (keys.contains(key)) continue;
            keys.add(key);
            out.add(name);
        }
        return out == null ? List.of() : List.copyOf(out);
    }

    /** Whether {@code names} (as {@link #of} gives them) holds {@code user}, in any letter case. */
    public static boolean includes(List<String> names, String user) {
        for (String n : names) if (n.equalsIgnoreCase(user)) return true;
        return false;
    }

    private static boolean nameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-';
    }
}
