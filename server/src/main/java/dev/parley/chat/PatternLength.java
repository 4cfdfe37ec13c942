package dev.parley.chat;

/**
 * The longest string a regular expression can match, in characters, for the limits a server
 * advertises: an operator sets the room-name rule as a pattern, and a client wants its maximum length
 * too. Reads the usual syntax (literals, escapes, classes, groups, alternatives, quantifiers,
 * anchors, lookarounds, inline flags); anything it cannot bound, such as {@code *}, {@code +} or a
 * back reference, is {@link #UNBOUNDED}. The pattern has been compiled already, so it is well formed.
 */
final class PatternLength {
    static final int UNBOUNDED = Integer.MAX_VALUE;

    private final String p;
    private int i;

    private PatternLength(String pattern) {
        this.p = pattern;
    }

    static int max(String pattern) {
        PatternLength parser = new PatternLength(pattern);
        try {
            long n = parser.alternatives();
            return parser.i < pattern.length() || n >= UNBOUNDED ? UNBOUNDED : (int) n;
        } catch (RuntimeException e) {
            return UNBOUNDED; // a construct this reader does not know: no bound claimed
        }
    }

    private long alternatives() {
        long best = sequence();
        while (i < p.length() && p.charAt(i) == '|') {
            i++;
            best = Math.max(best, sequence());
        }
        return best;
    }

    private long sequence() {
        long total = 0;
        while (i < p.length() && p.charAt(i) != '|' && p.charAt(i) != ')') {
            long atom = atom();
            total = add(total, quantified(atom));
        }
        return total;
    }

    private long atom() {
        char c = p.charAt(i++);
        switch (c) {
            case '^', '$':
                return 0;
            case '[':
                skipClass();
                return 1;
            case '\\':
                return escape();
            case '(':
                return group();
            default:
                return 1;
        }
    }

    private long group() {
        boolean empty = false; // a lookaround matches no characters of its own
        if (p.startsWith("?", i)) {
            i++;
            if (p.startsWith("=", i) || p.startsWith("!", i) || p.startsWith("<=", i) || p.startsWith("<!", i)) {
                empty = true;
                i += p.charAt(i) == '<' ? 2 : 1;
            } else if (p.startsWith("<", i)) {
                i = p.indexOf('>', i) + 1; // a named group
            } else if (p.startsWith(">", i) || p.startsWith(":", i)) {
                i++;
            } else {
                // Inline flags: (?i) alone, or (?i:...) around a group.
                while (i < p.length() && (Character.isLetter(p.charAt(i)) || p.charAt(i) == '-')) i++;
                if (p.charAt(i++) == ')') return 0;
            }
        }
        long inner = alternatives();
        if (p.charAt(i++) != ')') throw new IllegalArgumentException("unclosed group");
        return empty ? 0 : inner;
    }

    private long escape() {
        char c = p.charAt(i++);
        switch (c) {
            case 'b', 'B', 'A', 'z', 'Z', 'G':
                return 0;
            case 'Q': {
                int end = p.indexOf("\\E", i);
                int stop = end < 0 ? p.length() : end;
                long n = p.codePointCount(i, stop);
                i = end < 0 ? p.length() : end + 2;
                return n;
            }
            case 'p', 'P':
                if (p.startsWith("{", i)) i = p.indexOf('}', i) + 1;
                else i++;
                return 1;
            case 'x':
                if (p.startsWith("{", i)) i = p.indexOf('}', i) + 1;
                else i += 2;
                return 1;
            case 'u':
                i += 4;
                return 1;
            case 'c':
                i++;
                return 1;
            case '0':
                while (i < p.length() && p.charAt(i) >= '0' && p.charAt(i) <= '7') i++;
                return 1;
            case 'k':
                throw new IllegalArgumentException("back reference");
            default:
                if (Character.isDigit(c)) throw new IllegalArgumentException("back reference");
                return 1;
        }
    }

    /** Past a character class, nested classes ({@code [a-z&&[^x]]}) and escapes included. */
    private void skipClass() {
        int depth = 1;
        if (p.startsWith("^", i)) i++;
        if (p.startsWith("]", i)) i++; // a ] first is a literal
        while (depth > 0) {
            char c = p.charAt(i++);
            if (c == '\\') {
                i++;
            } else if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            }
        }
    }

    private long quantified(long atom) {
        if (i >= p.length()) return atom;
        char c = p.charAt(i);
        long times;
        if (c == '?') {
            i++;
            times = 1;
        } else if (c == '*' || c == '+') {
            i++;
            times = UNBOUNDED;
        } else if (c == '{') {
            int close = p.indexOf('}', i);
            String[] range = p.substring(i + 1, close).split(",", -1);
            i = close + 1;
            String upper = range[range.length - 1].trim();
            times = upper.isEmpty() ? UNBOUNDED : Long.parseLong(upper);
        } else {
            return atom;
        }
        if (i < p.length() && (p.charAt(i) == '?' || p.charAt(i) == '+')) i++; // lazy or possessive
        if (atom == 0) return 0;
        return times >= UNBOUNDED || atom >= UNBOUNDED ? UNBOUNDED : Math.min(UNBOUNDED, atom * times);
    }

    private static long add(long a, long b) {
        return a >= UNBOUNDED || b >= UNBOUNDED ? UNBOUNDED : Math.min(UNBOUNDED, a + b);
    }
}
