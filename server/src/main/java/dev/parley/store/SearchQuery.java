package dev.parley.store;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The words of a search and what they match (PROTOCOL.md 3.7), the same on H2 and PostgreSQL. A word
 * is a run of letters, digits and combining marks; everything else separates words, so that
 * {@code github} is found in {@code https://github.com/x} and {@code bar} in {@code foo_bar}. Words
 * compare in lower case. A message matches when each word of the query is a word of its text, or,
 * for a word written with a {@code *} right after it, begins one. Pure: no I/O.
 *
 * <p>PostgreSQL finds the messages through a GIN index on {@link #TSVECTOR}, the text with ASCII
 * punctuation turned into spaces before its parser sees it, so that its words are these (its parser
 * alone would keep {@code https://github.com/x} or {@code a@b.org} as one token); the
 * {@code simple} configuration lower-cases them and nothing more: no stemming and no stop words,
 * which would serve one language and mangle names and every other language of a chat.
 */
public final class SearchQuery {
    /** ASCII punctuation, each turned into a space before PostgreSQL parses a text into words. */
    static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    /**
     * The indexed expression (migration V9, db/postgresql): a query must spell it the same for
     * PostgreSQL to use the index. {@code SearchOnPostgresTest} checks that it does.
     */
    static final String TSVECTOR = "to_tsvector('simple', translate(text, '" + PUNCTUATION.replace("'", "''") + "', '"
            + " ".repeat(PUNCTUATION.length()) + "'))";

    /** One word of a query: lower case; {@code prefix} if it was written with a {@code *} after it. */
    public record Term(String word, boolean prefix) {}

    private final List<Term> terms;

    private SearchQuery(List<Term> terms) {
        this.terms = List.copyOf(terms);
    }

    /** The words of {@code q} (without repeats), each a prefix if a {@code *} follows it; possibly none. */
    public static SearchQuery parse(String q) {
        Set<Term> terms = new LinkedHashSet<>();
        int i = 0, n = q.length();
        while (i < n) {
            int cp = q.codePointAt(i);
            if (!wordChar(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int start = i;
            while (i < n && wordChar(q.codePointAt(i))) i += Character.charCount(q.codePointAt(i));
            boolean prefix = i < n && q.charAt(i) == '*';
            terms.add(new Term(q.substring(start, i).toLowerCase(Locale.ROOT), prefix));
        }
        // A word asked for whole and as a prefix: the prefix alone says as much.
        terms.removeIf(t -> !t.prefix() && terms.contains(new Term(t.word(), true)));
        return new SearchQuery(new ArrayList<>(terms));
    }

    public List<Term> terms() {
        return terms;
    }

    /** Whether each term is a word of the text, or begins one. */
    public boolean matches(String text) {
        boolean[] found = new boolean[terms.size()];
        int missing = terms.size();
        for (int[] w : words(text)) {
            String word = text.substring(w[0], w[1]).toLowerCase(Locale.ROOT);
            for (int k = 0; k < found.length; k++) {
                if (!found[k] && matches(terms.get(k), word)) {
                    found[k] = true;
                    if (--missing == 0) return true;
                }
            }
        }
        return missing == 0;
    }

    /**
     * Where the text's words that match a term are, as {@code [start, end)} offsets in UTF-16 code
     * units (JavaScript's string indexes), in order, not overlapping.
     */
    public List<int[]> highlights(String text) {
        List<int[]> out = new ArrayList<>();
        for (int[] w : words(text)) {
            String word = text.substring(w[0], w[1]).toLowerCase(Locale.ROOT);
            for (Term t : terms) {
                if (matches(t, word)) {
                    out.add(w);
                    break;
                }
            }
        }
        return out;
    }

    /** The query as PostgreSQL's {@code to_tsquery('simple', ?)} takes it: each term quoted, all required. */
    String tsquery() {
        List<String> parts = new ArrayList<>(terms.size());
        for (Term t : terms) parts.add("'" + t.word().replace("'", "''").replace("\\", "\\\\") + "'" + (t.prefix() ? ":*" : ""));
        return String.join(" & ", parts);
    }

    /**
     * For each term, a {@code LIKE} pattern that every text it matches has in lower case, to pass over
     * most of the others cheaply before {@link #matches} decides. Terms hold no {@code %} or {@code _}.
     */
    List<String> likePatterns() {
        List<String> out = new ArrayList<>(terms.size());
        for (Term t : terms) out.add("%" + t.word() + "%");
        return out;
    }

    private static boolean matches(Term t, String word) {
        return t.prefix() ? word.startsWith(t.word()) : word.equals(t.word());
    }

    /** The words of a text as {@code [start, end)} offsets in UTF-16 code units. */
    static List<int[]> words(String text) {
        List<int[]> out = new ArrayList<>();
        int i = 0, n = text.length();
        while (i < n) {
            int cp = text.codePointAt(i);
            if (!wordChar(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int start = i;
            while (i < n && wordChar(text.codePointAt(i))) i += Character.charCount(text.codePointAt(i));
            out.add(new int[] {start, i});
        }
        return out;
    }

    private static boolean wordChar(int cp) {
        if (Character.isLetterOrDigit(cp)) return true;
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK || type == Character.ENCLOSING_MARK;
    }
}
