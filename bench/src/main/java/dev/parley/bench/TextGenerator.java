package dev.parley.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The texts of {@code bench load}: chat lines of 4 to 24 words (about 10, some 45 characters) drawn from a vocabulary with a Zipf
 * distribution (the word of rank k is used about 1/k as often as the first), so that a search meets
 * what a real store holds: a few words in most messages, a long tail of words in almost none. The
 * first ranks are common English words, the rest made-up words of syllables.
 *
 * <p>A few {@link #MARKERS marker words} are in messages at exactly known frequencies: message
 * {@code n} holds marker {@code m} when {@code n % m.every == m.offset}, so a test or a search
 * measurement knows how many messages hold it ({@link #occurrences}). No other word of the
 * vocabulary equals a marker: markers hold a q or a z, which no made-up word does and none of the
 * English words listed here.
 *
 * <p>Deterministic: message {@code n}'s text depends only on the seed, the vocabulary's size and
 * {@code n}, not on the order in which texts are asked for (the loader writes room by room).
 */
final class TextGenerator {
    /** A word in exactly one message in {@code every}: those whose number is {@code offset} modulo {@code every}. */
    record Marker(String word, long every, long offset) {}

    /** In 1 message in 100,000: a rare word. */
    static final Marker RARE = new Marker("quokka", 100_000, 4_321);
    /** In 1 message in 1,000. */
    static final Marker UNCOMMON = new Marker("zeppelin", 1_000, 321);
    /** In 1 message in 10: a common word. */
    static final Marker COMMON = new Marker("quasar", 10, 1);
    static final List<Marker> MARKERS = List.of(RARE, UNCOMMON, COMMON);

    static final int DEFAULT_VOCABULARY = 50_000;

    /** The most frequent ranks, as a chat would have them; none holds a q or a z (see the class comment). */
    private static final String[] ENGLISH = ("the to i you a and it is that of in for on this we be have not with"
            + " do at but are so what was can just my me if will all about get like no ok yes there out up one know"
            + " think now how they when your time then good see go by from as an or new thanks here some would could"
            + " today why work back let people make which more did well still also after test deploy build fix lunch"
            + " meeting tomorrow later review").split(" ");
    private static final String CONSONANTS = "bdfghklmnprstvw";
    private static final String VOWELS = "aeiou";
    private static final String[] END = {".", ".", "!", "?", "", "", ""};

    private final long seed;
    private final String[] words;
    /** cumulative[k]: the probability of a rank at most k. */
    private final double[] cumulative;

    TextGenerator(long seed) {
        this(seed, DEFAULT_VOCABULARY);
    }

    TextGenerator(long seed, int vocabulary) {
        if (vocabulary < ENGLISH.length) throw new IllegalArgumentException("vocabulary: at least " + ENGLISH.length + " words");
        this.seed = seed;
        this.words = new String[vocabulary];
        this.cumulative = new double[vocabulary];
        double sum = 0;
        for (int k = 0; k < vocabulary; k++) {
            words[k] = k < ENGLISH.length ? ENGLISH[k] : madeUp(k - ENGLISH.length);
            sum += 1.0 / (k + 1);
            cumulative[k] = sum;
        }
        for (int k = 0; k < vocabulary; k++) cumulative[k] /= sum;
    }

    /** The word of rank {@code k} (0: the most frequent). */
    String word(int k) {
        return words[k];
    }

    /** The text of message {@code n} (0, 1, ...). */
    String text(long n) {
        SplittableRandom r = new SplittableRandom(mix(seed ^ mix(n)));
        int count = 4 + r.nextInt(10) + (r.nextInt(3) == 0 ? r.nextInt(12) : 0); // 4 to 24, about 10
        List<String> line = new ArrayList<>(count + MARKERS.size());
        for (int i = 0; i < count; i++) line.add(words[rank(r.nextDouble())]);
        for (Marker m : MARKERS) {
            if (n % m.every() == m.offset()) line.add(r.nextInt(line.size() + 1), m.word());
        }
        StringBuilder b = new StringBuilder(count * 7);
        for (int i = 0; i < line.size(); i++) {
            if (i > 0) b.append(r.nextInt(12) == 0 ? ", " : " ");
            String w = line.get(i);
            if (i == 0) b.append(Character.toUpperCase(w.charAt(0))).append(w, 1, w.length());
            else b.append(w);
        }
        return b.append(END[r.nextInt(END.length)]).toString();
    }

    /** How many of messages 0 to {@code messages - 1} hold the marker. */
    static long occurrences(Marker m, long messages) {
        return messages <= m.offset() ? 0 : (messages - 1 - m.offset()) / m.every() + 1;
    }

    private int rank(double u) {
        int lo = 0, hi = cumulative.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] < u) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /** A made-up word for {@code i}: two syllables for the first 5,625, then three, then four; no two alike. */
    private static String madeUp(int i) {
        int syllables = CONSONANTS.length() * VOWELS.length();
        int length = 2;
        for (int span = syllables * syllables; i >= span; span *= syllables) {
            i -= span;
            length++;
        }
        StringBuilder b = new StringBuilder(length * 2);
        for (int s = 0; s < length; s++) {
            int syllable = i % syllables;
            i /= syllables;
            b.append(CONSONANTS.charAt(syllable / VOWELS.length())).append(VOWELS.charAt(syllable % VOWELS.length()));
        }
        return b.toString();
    }

    /** SplitMix64's finalizer: neighbouring message numbers get unrelated streams. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
