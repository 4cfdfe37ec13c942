package dev.parley.delivery;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** What a join is told is present once a room's book has started: the book and the joining user, sorted, at most the limit. */
class PresenceBookTest {
    private static List<String> users(int n) {
        return IntStream.range(0, n).mapToObj(i -> String.format("u%04d", i)).toList();
    }

    @Test
    void the_joining_user_is_listed_in_order_and_counted_once() {
        PresenceBook book = new PresenceBook();
        book.seen(List.of("bob", "dave"));

        assertThat(book.listing("carol", 500)).isEqualTo(new PresenceBook.Listing(3, List.of("bob", "carol", "dave")));
        assertThat(book.listing("alice", 500).names()).containsExactly("alice", "bob", "dave");
        assertThat(book.listing("erin", 500).names()).containsExactly("bob", "dave", "erin");
        assertThat(book.listing("bob", 500)).isEqualTo(new PresenceBook.Listing(2, List.of("bob", "dave")));
    }

    @Test
    void a_big_room_lists_the_first_names_and_counts_them_all() {
        PresenceBook book = new PresenceBook();
        book.seen(users(10_000));

        PresenceBook.Listing inside = book.listing("u0100", 500);
        assertThat(inside.count()).isEqualTo(10_000);
        assertThat(inside.names()).isEqualTo(users(500));

        // a newcomer sorted among the first names pushes the last one out
        PresenceBook.Listing early = book.listing("u0009x", 500);
        assertThat(early.count()).isEqualTo(10_001);
        List<String> expected = new ArrayList<>(users(499));
        expected.add(10, "u0009x");
        assertThat(early.names()).isEqualTo(expected);

        // one sorted after them is counted, not listed
        assertThat(book.listing("zed", 500)).isEqualTo(new PresenceBook.Listing(10_001, users(500)));
    }

    @Test
    void changes_after_the_first_read_are_in_the_listing_and_those_before_it_are_applied_over_it() {
        PresenceBook book = new PresenceBook();
        book.changed("carol", true); // before the first join's read was handed over
        book.changed("bob", false);
        book.seen(List.of("alice", "bob"));
        book.changed("dave", true);

        assertThat(book.listing("erin", 500)).isEqualTo(new PresenceBook.Listing(4, List.of("alice", "carol", "dave", "erin")));
        assertThat(book.listing("erin", 2).names()).containsExactly("alice", "carol");
    }

    @Test
    void a_limit_reached_by_the_joining_user_ends_the_list() {
        PresenceBook book = new PresenceBook();
        book.seen(List.of("b", "c"));

        assertThat(book.listing("a", 1)).isEqualTo(new PresenceBook.Listing(3, List.of("a")));
        assertThat(book.listing("d", 2)).isEqualTo(new PresenceBook.Listing(3, List.of("b", "c")));
    }
}
