package dev.parley.delivery;

import dev.parley.event.Notice;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A big room's changes over an interval: each user's last change, at most 100 names, the rest counted. */
class PresenceBatchTest {
    @Test
    void only_each_users_last_change_counts_in_the_order_of_the_last_changes() {
        PresenceBatch b = new PresenceBatch();
        b.changed("ann", true);
        b.changed("bob", true);
        b.changed("ann", false); // came and went: gone
        b.changed("cid", false);
        b.changed("cid", true); // went and came back: here
        Notice.Summary s = b.drain(7);
        assertThat(s.joined()).containsExactly("bob", "cid");
        assertThat(s.left()).containsExactly("ann");
        assertThat(s.online()).isEqualTo(7);
        assertThat(s.more()).isZero();
        assertThat(b.isEmpty()).isTrue();
    }

    @Test
    void a_summary_names_at_most_100_users_and_counts_the_rest_in_more() {
        PresenceBatch b = new PresenceBatch();
        for (int i = 0; i < 130; i++) b.changed("u" + i, i % 3 != 0);
        Notice.Summary s = b.drain(500);
        assertThat(s.joined().size() + s.left().size()).isEqualTo(PresenceBatch.MAX_LISTED);
        assertThat(s.more()).isEqualTo(30);
        assertThat(b.drain(500).more()).as("drained").isZero();
    }
}
