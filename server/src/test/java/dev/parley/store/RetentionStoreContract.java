package dev.parley.store;

import dev.parley.event.Message;
import dev.parley.event.RoomChange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retention's sweep on a database (H2 embedded, PostgreSQL): what goes by age and by count, in
 * batches, how the room's history start moves, and what stays.
 */
abstract class RetentionStoreContract {
    private static final long DAY = 86_400_000L;
    /** Later than any message written here by more than the sweep's grace: the "now" of a sweep long after. */
    private final long later = System.currentTimeMillis() + 2 * RetentionStore.KEEP_RECENT_MILLIS;

    private Database db;
    private MessageStore store;
    private RoomStore rooms;

    /** An empty database of this kind. */
    protected abstract Database newDatabase();

    @BeforeEach
    void open() {
        db = newDatabase();
        store = new MessageStore(db, 64, m -> {}, MessageStore.BatchObserver.NONE);
        store.start();
        rooms = new RoomStore(db);
    }

    @AfterEach
    void close() {
        store.close();
        db.close();
    }

    @Test
    void by_count_the_oldest_go_in_batches_and_the_history_starts_after_them() throws Exception {
        append("count", 20);
        setRetention("count", null, 5L);
        RetentionStore sweep = new RetentionStore(db, 4);

        RetentionStore.Swept first = sweep.sweep("count", RetentionStore.Policy.NONE, later, 2);
        assertThat(first).isEqualTo(new RetentionStore.Swept(8, true)); // two transactions of 4 seqs, and more to do
        assertThat(store.historyStart("count")).isEqualTo(9);
        RetentionStore.Swept rest = sweep.sweep("count", RetentionStore.Policy.NONE, later, 100);
        // 21 seqs (the retention_set event is the 21st): the newest 5 stay
        assertThat(rest).isEqualTo(new RetentionStore.Swept(8, false));
        assertThat(store.historyStart("count")).isEqualTo(17);
        MessageStore.Page page = store.page("count", null, 0L, 50);
        assertThat(page.messages()).extracting(Message::seq).containsExactly(17L, 18L, 19L, 20L, 21L);
        assertThat(page.historyStart()).isEqualTo(17);
        assertThat(store.page("count", 17L, null, 50).messages()).isEmpty();
        assertThat(rows("count")).isEqualTo(5);
        assertThat(sweep.sweep("count", RetentionStore.Policy.NONE, later, 100)).isEqualTo(new RetentionStore.Swept(0, false));
    }

    @Test
    void by_age_what_is_older_than_the_days_goes() throws Exception {
        append("age", 10);
        age("age", 6, 3 * DAY); // seqs 1..6 are three days old
        RetentionStore sweep = new RetentionStore(db);

        assertThat(sweep.sweep("age", new RetentionStore.Policy(2, 0), System.currentTimeMillis(), 10).rows()).isEqualTo(6);
        assertThat(store.historyStart("age")).isEqualTo(7);
        assertThat(store.page("age", null, null, 50).messages()).extracting(Message::seq).containsExactly(7L, 8L, 9L, 10L);
        // a week's retention of its own would keep them, but the server's two days bind every room
        assertThat(new RetentionStore.Policy(2, 0).forRoom(7, null)).isEqualTo(new RetentionStore.Policy(2, 0));
        assertThat(new RetentionStore.Policy(0, 0).forRoom(7, null)).isEqualTo(new RetentionStore.Policy(7, 0));
    }

    @Test
    void nothing_younger_than_ten_minutes_goes_whatever_the_count() throws Exception {
        append("recent", 10);
        RetentionStore sweep = new RetentionStore(db);
        assertThat(sweep.sweep("recent", new RetentionStore.Policy(0, 2), System.currentTimeMillis(), 10).rows()).isZero();
        assertThat(store.historyStart("recent")).isEqualTo(1);
        assertThat(sweep.sweep("recent", new RetentionStore.Policy(0, 2), later, 10).rows()).isEqualTo(8);
    }

    @Test
    void only_a_prefix_goes_a_younger_message_keeps_those_after_it() throws Exception {
        append("prefix", 6);
        age("prefix", 6, 3 * DAY);
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("UPDATE messages SET ts = ? WHERE room = 'prefix' AND seq = 3")) {
            ps.setLong(1, System.currentTimeMillis()); // a node's clock ahead: seq 3 looks young
            ps.executeUpdate();
        }
        new RetentionStore(db).sweep("prefix", new RetentionStore.Policy(1, 0), System.currentTimeMillis(), 10);
        assertThat(store.historyStart("prefix")).isEqualTo(3);
        assertThat(rows("prefix")).isEqualTo(4);
    }

    @Test
    void rows_left_below_the_start_are_deleted_and_a_deleted_room_is_left_to_its_purge() throws Exception {
        append("left", 5);
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("UPDATE rooms SET first_seq = 4 WHERE name = 'left'")) {
            ps.executeUpdate(); // as a sweep that stopped between moving the start and deleting
        }
        assertThat(store.page("left", null, null, 50).messages()).extracting(Message::seq).containsExactly(4L, 5L);
        assertThat(new RetentionStore(db).sweep("left", RetentionStore.Policy.NONE, later, 10).rows()).isEqualTo(3);
        assertThat(rows("left")).isEqualTo(2);

        append("gone", 3);
        rooms.change("gone", "alice", null, s -> new RoomStore.Plan<>(List.of(
                new RoomStore.Write.Event("alice", "alice deleted the room", RoomChange.of(RoomChange.ROOM_DELETED, null, "alice")),
                new RoomStore.Write.DeleteRoom()), null));
        RetentionStore sweep = new RetentionStore(db);
        assertThat(sweep.rooms("", 100, true)).doesNotContain("gone").contains("left");
        assertThat(sweep.sweep("gone", new RetentionStore.Policy(0, 1), later, 10).rows()).isZero();
        assertThat(rows("gone")).isEqualTo(4); // the purge's, not the sweep's; the room_deleted event among them stays
    }

    @Test
    void without_a_server_default_only_rooms_with_a_retention_of_their_own_are_swept() throws Exception {
        append("plain", 1);
        append("kept", 1);
        setRetention("kept", 30, null);
        RetentionStore sweep = new RetentionStore(db);
        assertThat(sweep.rooms("", 100, false)).containsExactly("kept");
        assertThat(sweep.rooms("", 100, true)).contains("kept", "plain");
    }

    private void append(String room, int n) throws Exception {
        store.ensureRoom(room);
        for (int i = 0; i < n; i++) store.append(room, "alice", room + "-" + i, "message " + i).get(10, TimeUnit.SECONDS);
    }

    private void setRetention(String room, Integer days, Long messages) {
        rooms.change(room, "alice", null, s -> new RoomStore.Plan<>(List.of(new RoomStore.Write.SetRetention(days, messages),
                new RoomStore.Write.Event("alice", "alice set the retention", RoomChange.retention("alice", days, messages))), null));
    }

    /** Makes the room's messages up to {@code upTo} as old as {@code millis}. */
    private void age(String room, long upTo, long millis) throws Exception {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("UPDATE messages SET ts = ts - ? WHERE room = ? AND seq <= ?")) {
            ps.setLong(1, millis);
            ps.setString(2, room);
            ps.setLong(3, upTo);
            ps.executeUpdate();
        }
    }

    private int rows(String room) throws Exception {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM messages WHERE room = ?")) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
