package dev.parley.chat;

import dev.parley.config.ChatConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The rules of new names beyond the operator's pattern (Unicode TS #39), and the look-alike key. */
class NamesTest {
    /** The default rules: ASCII names. */
    private static final Limits ASCII = new Limits(ChatConfig.defaults());
    /** An operator who admits the letters and digits of every script: TS #39 is what keeps them apart. */
    private static final Limits ANY_SCRIPT = new Limits(ChatConfig.load(Map.of(
            "CHAT_USERNAME_PATTERN", "^[\\p{L}\\p{M}\\p{N}\\p{Cf}\\p{Co}\\p{Zs}_.-]{2,32}$",
            "CHAT_ROOM_PATTERN", "^.{1,64}$"), Map.of()));

    @ParameterizedTest(name = "{0} looks like {1}")
    @CsvSource({
            "aIice, alice",          // capital I for small L: the issue's own example
            "AIice, alice",          // and in another case
            "Alice, alice",          // the same name in another case
            "bob1, bobl",            // digit one and small L
            "b0b, bob",              // digit zero and small O
            "rnary, mary",           // r n for m
            "раураl, paypal",        // Cyrillic р, а, у with Latin l: whole-script look-alikes
            "ѕсоре, scope",          // all Cyrillic
            "ｐａｒｌｅｙ, parley",   // fullwidth forms
            "ℌello, Hello",          // a mathematical letter
    })
    void names_that_look_alike_have_the_same_key(String one, String other) {
        assertThat(Names.key(one)).isEqualTo(Names.key(other));
    }

    @ParameterizedTest(name = "{0} does not look like {1}")
    @CsvSource({"alice, alicia", "bob, rob", "carol, caro", "ops, op", "Иван, Ivan", "dm-ops, ops", "team-1, team-2"})
    void names_that_differ_to_the_eye_have_different_keys(String one, String other) {
        assertThat(Names.key(one)).isNotEqualTo(Names.key(other));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "alice\u202E",        // RIGHT-TO-LEFT OVERRIDE
            "\u2067alice\u2069",  // RIGHT-TO-LEFT ISOLATE ... POP
            "ali\u200Bce",        // ZERO WIDTH SPACE
            "ali\u200Dce",        // ZERO WIDTH JOINER
            "ali\u200Ece",        // LEFT-TO-RIGHT MARK
            "\uFEFFalice",        // ZERO WIDTH NO-BREAK SPACE (byte order mark)
            "ali\u00ADce",        // SOFT HYPHEN
            "ali\u2060ce",        // WORD JOINER
            "alice\uFE0F",        // VARIATION SELECTOR-16
            "al\u3164ice",        // HANGUL FILLER, a letter nobody sees
            "ali\u00A0ce",        // NO-BREAK SPACE
            "ali\uE000ce",        // private use
    })
    void invisible_and_bidi_characters_are_refused_whatever_the_pattern_admits(String name) {
        assertThat(ANY_SCRIPT.username(name)).as("the pattern itself admits it").isEqualTo(name);
        assertThatThrownBy(() -> ANY_SCRIPT.newUsername(name)).isInstanceOfSatisfying(ChatException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
            assertThat(e.getMessage()).startsWith("username must not contain U+");
        });
        assertThatThrownBy(() -> ANY_SCRIPT.newRoom(name)).isInstanceOfSatisfying(ChatException.class,
                e -> assertThat(e.getMessage()).startsWith("room must not contain U+"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"раypal", "Ivan_Иван", "Ελένηx", "alice_שלום"})
    void names_that_mix_scripts_are_refused(String name) {
        assertThatThrownBy(() -> ANY_SCRIPT.newUsername(name)).isInstanceOfSatisfying(ChatException.class,
                e -> assertThat(e.getMessage()).contains("mixes scripts"));
    }

    @Test
    void digits_of_two_number_systems_and_marks_nobody_sees_are_refused() {
        assertThatThrownBy(() -> ANY_SCRIPT.newUsername("٣٤5")).hasMessageContaining("number systems");
        assertThatThrownBy(() -> ANY_SCRIPT.newUsername("ali\u0301\u0301ce")).hasMessageContaining("combining mark");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "alice", "Bob_99", "jean-luc.picard",  // ASCII
            "José", "Zoë", "Łukasz", "Ærøskøbing",  // Latin with accents
            "Иван", "Ελένη", "דוד", "محمد", "अनुराग", "สมชาย", "ნინო", "Արամ",  // one script each
            "王小明", "さくら", "김서연", "山田さくら", "Tanaka_太郎",  // Han with kana or Hangul, or with Latin
    })
    void ordinary_names_of_many_scripts_are_accepted(String name) {
        assertThat(ANY_SCRIPT.newUsername(name)).isEqualTo(name);
        assertThat(ANY_SCRIPT.newRoomKey(name)).isEqualTo(Names.key(name));
    }

    @Test
    void the_default_rules_still_admit_every_ascii_name_they_admitted() {
        for (String name : new String[]{"alice", "Bob_99", "a.b-c", "x".repeat(32), "ops", "lobby-2"}) {
            if (name.matches("[a-z0-9][a-z0-9_-]*")) assertThat(ASCII.newRoom(name)).isEqualTo(name);
            assertThat(ASCII.newUsername(name)).isEqualTo(name);
        }
        assertThatThrownBy(() -> ASCII.newUsername("ali\u202Ece")).hasMessageStartingWith("username must match");
        // A direct room's name is the server's, and needs no look-alike check.
        assertThat(ASCII.newRoom("dm-abcdefghijklmnopqrstuvwxyz")).isEqualTo("dm-abcdefghijklmnopqrstuvwxyz");
    }

    @Test
    void a_name_taken_before_these_rules_is_still_referred_to_by_its_pattern_only() {
        String old = "ali\u200Dce"; // made when only the pattern was checked
        assertThat(ANY_SCRIPT.username(old)).isEqualTo(old);
        assertThat(ANY_SCRIPT.room(old)).isEqualTo(old);
    }
}
