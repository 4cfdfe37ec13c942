package dev.parley.event;

import org.junit.jupiter.api.Test;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class MentionsTest {
    @Test
    void each_at_name_is_a_mention_once_in_order_of_first_appearance() {
        assertThat(Mentions.of("@bob hi, @Alice and @bob again, @ALICE")).containsExactly("bob", "Alice");
        assertThat(Mentions.of("(@carol.x) @d_1-2:")).containsExactly("carol.x", "d_1-2");
    }

    @Test
    void an_email_address_a_lone_at_and_punctuation_after_a_name_mention_nobody_more() {
        assertThat(Mentions.of("write to me@example.com")).isEmpty();
        assertThat(Mentions.of("@ and @@ and @.")).isEmpty();
        assertThat(Mentions.of("thanks @alice. and @bob-")).containsExactly("alice", "bob");
        assertThat(Mentions.of("no one")).isEmpty();
    }

    @Test
    void at_most_twenty_names_are_listed_and_a_name_longer_than_a_username_is_none() {
        String many = IntStream.range(0, 30).mapToObj(i -> "@user" + i).collect(Collectors.joining(" "));
        assertThat(Mentions.of(many)).hasSize(Mentions.MAX).startsWith("user0").endsWith("user19");
        assertThat(Mentions.of("@" + "a".repeat(65))).isEmpty();
        assertThat(Mentions.of("@" + "a".repeat(64))).hasSize(1);
    }

    @Test
    void a_room_event_mentions_nobody() {
        Message event = new Message("r", 1, "id", "alice", "alice added @bob", 0, "event-id", RoomChange.of(RoomChange.MEMBER_ADDED, "bob", "alice"));
        assertThat(event.mentions()).isEmpty();
        assertThat(new Message("r", 2, "id2", "alice", "hi @bob", 0, "c").mentions()).containsExactly("bob");
    }
}
