package dev.parley.chat;

import com.ibm.icu.lang.UCharacter;
import com.ibm.icu.text.SpoofChecker;
import com.ibm.icu.text.UnicodeSet;

/**
 * The rules a new username or room name keeps besides the operator's pattern, from Unicode TS #39
 * (Unicode Security Mechanisms) as ICU's {@link SpoofChecker} implements them: names are read by
 * people, who cannot see an invisible character or tell {@code aIice} from {@code alice}.
 *
 * <ul>
 *   <li>{@link #check}: no invisible, control, format (bidi controls, zero-width characters) or
 *       private-use character, no space but U+0020; one script (or Latin with the Han, kana or
 *       Hangul that Chinese, Japanese and Korean writing mix in: TS #39's "highly restrictive"
 *       level); digits of one number system; no combining mark hidden on a letter or repeated.</li>
 *   <li>{@link #key}: what a name looks like, as TS #39's skeleton (each character mapped to the
 *       one it can be taken for: {@code I} and {@code 1} to {@code l}, Cyrillic {@code а} to Latin
 *       {@code a}), without regard to letter case since usernames are unique in any case. Two
 *       names with the same key are confusable: the store keeps each taken key once.</li>
 * </ul>
 *
 * Only new names are checked: a name already taken is referred to as it is. A name of printable
 * ASCII needs no ICU to pass {@link #check} (no ASCII character is of another script, invisible or a
 * mark), which keeps the check off the path of every frame that names a room.
 */
public final class Names {
    /** The longest key the stores keep (rooms.skeleton, users.username_skeleton): a few characters map to many. */
    static final int KEY_MAX = 512;

    /**
     * What a name may hold whatever the pattern says: no control, format, surrogate, private-use or
     * unassigned character (general category C), no separator but the space (category Z: a no-break
     * space looks like a space), and nothing default-ignorable (invisible: zero-width joiners, variation
     * selectors, the Hangul fillers, which are letters).
     */
    private static final UnicodeSet ALLOWED = new UnicodeSet("[[^[:C:][:Z:][:Default_Ignorable_Code_Point:]][\\u0020]]").freeze();

    private static final SpoofChecker CHECKER = new SpoofChecker.Builder()
            .setChecks(SpoofChecker.INVISIBLE | SpoofChecker.MIXED_NUMBERS | SpoofChecker.HIDDEN_OVERLAY)
            .setRestrictionLevel(SpoofChecker.RestrictionLevel.HIGHLY_RESTRICTIVE)
            .setAllowedChars(ALLOWED)
            .build();

    private Names() {}

    /**
     * Refuses a new name that breaks a rule of the class comment, with {@code bad_request} naming
     * {@code field} and the rule.
     */
    static void check(String field, String name) {
        if (printableAscii(name)) return;
        SpoofChecker.CheckResult r = new SpoofChecker.CheckResult();
        if (!CHECKER.failsChecks(name, r)) return;
        if ((r.checks & SpoofChecker.CHAR_LIMIT) != 0) {
            int bad = name.codePoints().filter(c -> !ALLOWED.contains(c)).findFirst().orElse(0);
            throw ChatException.badRequest(field + " must not contain U+" + String.format("%04X", bad)
                    + ": invisible, control, format (bidi, zero-width) and private-use characters, and spaces other than U+0020, are refused");
        }
        if ((r.checks & SpoofChecker.RESTRICTION_LEVEL) != 0) {
            throw ChatException.badRequest(field + " mixes scripts: a name is of one script (Latin with Han, kana or Hangul is fine)");
        }
        if ((r.checks & SpoofChecker.MIXED_NUMBERS) != 0) {
            throw ChatException.badRequest(field + " mixes digits of different number systems");
        }
        throw ChatException.badRequest(field + " has a combining mark that cannot be seen (repeated, or hidden on its letter)");
    }

    /**
     * The look-alike key of a name (see the class comment): the skeleton, case-folded, and the
     * skeleton of that. The first skeleton needs the letter case as written ({@code I} looks like
     * {@code l}, {@code i} does not); the fold makes {@code Alice} and {@code alice} one; folding
     * can give characters with a skeleton of their own, which the second skeleton maps.
     */
    public static String key(String name) {
        return CHECKER.getSkeleton(UCharacter.foldCase(CHECKER.getSkeleton(name), UCharacter.FOLD_CASE_DEFAULT));
    }

    /** The key of a new name, refused if it is too long for the store (a name of characters that each look like several). */
    static String newKey(String field, String name) {
        String key = key(name);
        if (key.length() > KEY_MAX) throw ChatException.badRequest(field + " is too long once its look-alike characters are spelled out");
        return key;
    }

    private static boolean printableAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e) return false;
        }
        return true;
    }
}
