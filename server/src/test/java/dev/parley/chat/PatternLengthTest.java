package dev.parley.chat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The longest name a room (or user) pattern admits, as GET /api/limits advertises it. */
class PatternLengthTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = ' ', value = {
            "^[a-z0-9][a-z0-9_-]{0,63}$ 64",          // the default room pattern
            "^[A-Za-z0-9_.-]{3,32}$ 32",              // the default username pattern
            "[a-z]{5} 5",
            "^(ab|c){2,3}$ 6",
            "(?i)^[a-z]{1,10}$ 10",
            "(?i:ab)c? 3",
            "(?<word>[a-z]{4})-x 6",
            "a(?=b)[bc] 2",
            "(?<!x)abc 3",
            "\\Qa.b\\E 3",
            "[]a]{2} 2",
            "[a-z&&[^x]]{3} 3",
            "\\p{Lower}{1,8} 8",
            "\\x{1F600}\\u00e9\\t\\. 4",
            "ab|cde|f 3",
            "^$ 0",
    })
    void a_bounded_pattern_gives_its_longest_match(String pattern, int longest) {
        assertThat(PatternLength.max(pattern)).isEqualTo(longest);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ' ', value = {"^[a-z]+$", "a*", "[a-z]{2,}", "(a)\\1", "(?<n>a)\\k<n>", "(a|b+)c"})
    void a_pattern_without_a_bound_is_unbounded(String pattern) {
        assertThat(PatternLength.max(pattern)).isEqualTo(PatternLength.UNBOUNDED);
    }
}
