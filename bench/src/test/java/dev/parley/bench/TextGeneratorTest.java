package dev.parley.bench;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class TextGeneratorTest {
    private static final int MESSAGES = 50_000;
    private static final java.util.regex.Pattern NOT_LETTERS = java.util.regex.Pattern.compile("[^\\p{L}]+");

    /** The words of a text as search sees them: runs of letters, in lower case. */
    private static List<String> words(String text) {
        return Arrays.stream(NOT_LETTERS.split(text.toLowerCase(java.util.Locale.ROOT))).filter(w -> !w.isEmpty()).toList();
    }

    @Test
    void a_text_depends_only_on_the_seed_and_the_message_number() {
        TextGenerator a = new TextGenerator(7), b = new TextGenerator(7), other = new TextGenerator(8);
        // b is asked in another order: the loader writes room by room.
        for (long n = 999; n >= 0; n--) assertThat(b.text(n)).isEqualTo(a.text(n));
        int differ = 0;
        for (long n = 0; n < 1000; n++) if (!other.text(n).equals(a.text(n))) differ++;
        assertThat(differ).isGreaterThan(990);
        assertThat(a.text(12_345_678_901L)).isEqualTo(b.text(12_345_678_901L));
    }

    @Test
    void each_marker_is_in_exactly_the_messages_its_frequency_says() {
        TextGenerator g = new TextGenerator(1);
        Map<String, Long> found = new HashMap<>();
        List<String> wrong = new java.util.ArrayList<>();
        for (long n = 0; n < MESSAGES; n++) {
            String text = g.text(n);
            Set<String> words = new HashSet<>(words(text));
            for (TextGenerator.Marker m : TextGenerator.MARKERS) {
                boolean expected = n % m.every() == m.offset();
                if (words.contains(m.word()) != expected) wrong.add(n + ": " + text);
                if (words.contains(m.word())) found.merge(m.word(), 1L, Long::sum);
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(found.get("quasar")).isEqualTo(MESSAGES / 10).isEqualTo(TextGenerator.occurrences(TextGenerator.COMMON, MESSAGES));
        assertThat(found.get("zeppelin")).isEqualTo(MESSAGES / 1000).isEqualTo(TextGenerator.occurrences(TextGenerator.UNCOMMON, MESSAGES));
        assertThat(found.get("quokka")).isEqualTo(1).isEqualTo(TextGenerator.occurrences(TextGenerator.RARE, MESSAGES));
    }

    @Test
    void occurrences_counts_from_the_marker_offset() {
        TextGenerator.Marker m = new TextGenerator.Marker("x", 10, 3);
        assertThat(TextGenerator.occurrences(m, 0)).isZero();
        assertThat(TextGenerator.occurrences(m, 3)).isZero();
        assertThat(TextGenerator.occurrences(m, 4)).isEqualTo(1);
        assertThat(TextGenerator.occurrences(m, 13)).isEqualTo(1);
        assertThat(TextGenerator.occurrences(m, 14)).isEqualTo(2);
        assertThat(TextGenerator.occurrences(TextGenerator.RARE, 30_000_000)).isEqualTo(300);
    }

    @Test
    void words_follow_a_zipf_distribution_and_no_ordinary_word_is_a_marker() {
        TextGenerator g = new TextGenerator(1);
        Map<String, Integer> counts = new HashMap<>();
        long total = 0, length = 0;
        for (long n = 0; n < MESSAGES; n++) {
            String text = g.text(n);
            length += text.length();
            for (String w : words(text)) {
                counts.merge(w, 1, Integer::sum);
                total++;
            }
        }
        Set<String> markers = new HashSet<>();
        for (TextGenerator.Marker m : TextGenerator.MARKERS) markers.add(m.word());
        // Ranks 1, 10 and 100: about 1/1, 1/10 and 1/100 of the first's count (Zipf with exponent 1).
        double first = counts.get(g.word(0));
        assertThat(first / total).isBetween(0.07, 0.11); // 1 / H(50,000) = 0.088
        assertThat(counts.get(g.word(9)) / first).isBetween(0.08, 0.12);
        assertThat(counts.get(g.word(99)) / first).isBetween(0.007, 0.013);
        // A long tail: most of the vocabulary appears, most of it rarely.
        long seldom = counts.entrySet().stream().filter(e -> !markers.contains(e.getKey()) && e.getValue() <= 5).count();
        assertThat(counts.size()).isGreaterThan(15_000);
        assertThat(seldom).isGreaterThan(10_000);
        for (int k = 0; k < TextGenerator.DEFAULT_VOCABULARY; k++) assertThat(markers).doesNotContain(g.word(k));
        // Chat lines: about 10 words, some 45 characters.
        assertThat((double) total / MESSAGES).isBetween(9.0, 12.0);
        assertThat((double) length / MESSAGES).isBetween(35.0, 70.0);
    }
}
