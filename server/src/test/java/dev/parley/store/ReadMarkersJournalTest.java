package dev.parley.store;

import dev.parley.testing.RoomChanges;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.ReadState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Read markers go through the group commit's writer and its journal (ReadMarkers, GroupCommitWriter):
 * with CHAT_JOURNAL_SYNC=commit a raised marker is forced to the disk before it is answered, markers
 * of the same moment share a sync, and a marker the journal holds but the database lost in a crash
 * is put back when the store opens again.
 */
class ReadMarkersJournalTest {
    @TempDir
    Path tmp;

    private String url() {
        return ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
    }

    @Test
    void a_raised_marker_is_synced_before_it_is_answered_and_a_burst_shares_syncs() throws Exception {
        try (Database db = new Database(url(), "", "", 8, true)) {
            Journal journal = Journal.open(tmp.resolve("parley.journal"), true);
            try (MessageStore store = new MessageStore(db, journal, 64, 0, m -> {}, MessageStore.BatchObserver.NONE)) {
                store.start();
                store.ensureRoom("ops");
                for (int i = 1; i <= 10; i++) store.append("ops", "alice", "c" + i, "message " + i).get(10, TimeUnit.SECONDS);

                long before = journal.forces();
                ReadState state = store.markRead("ops", "bob", 4);
                assertThat(state.seq()).isEqualTo(4);
                assertThat(journal.forces()).as("one sync for the raise, before its answer").isEqualTo(before + 1);

                // Not raised (lower than stored): nothing to write, nothing to sync.
                assertThat(store.markRead("ops", "bob", 2).seq()).isEqualTo(4);
                assertThat(journal.forces()).isEqualTo(before + 1);

                // Many readers at once: their markers share transactions and syncs.
                List<CompletableFuture<ReadState>> burst = new ArrayList<>();
                for (int u = 0; u < 200; u++) {
                    String user = "reader" + u;
                    burst.add(CompletableFuture.supplyAsync(() -> store.markRead("ops", user, 10)));
                }
                for (CompletableFuture<ReadState> f : burst) assertThat(f.get(20, TimeUnit.SECONDS).unread()).isZero();
                assertThat(journal.forces() - before - 1).isPositive().isLessThan(200);
                assertThat(marker(db, "reader199", "ops")).isEqualTo(10L);
            }
        }
    }

    @Test
    void a_marker_the_database_lost_in_a_crash_comes_back_from_the_journal() throws Exception {
        Path file = tmp.resolve("parley.journal");
        try (Database db = new Database(url(), "", "", 4)) {
            try (MessageStore store = new MessageStore(db, Journal.open(file), 64, 0, m -> {}, MessageStore.BatchObserver.NONE)) {
                store.start();
                store.ensureRoom("ops");
                for (int i = 1; i <= 5; i++) store.append("ops", "alice", "c" + i, "message " + i).get(10, TimeUnit.SECONDS);
                store.markRead("ops", "bob", 2);
            }
            // What a crash leaves: records in the journal that the database never wrote (here: a
            // raise to 4 the database does not have, and one for a room that is gone).
            try (Journal j = Journal.open(file)) {
                j.append(List.of(), List.of(new Journal.Mark("ops", "bob", 4), new Journal.Mark("gone", "bob", 9)), true);
            }
            assertThat(marker(db, "bob", "ops")).isEqualTo(2L);

            try (MessageStore again = new MessageStore(db, Journal.open(file), 64, 0, m -> {}, MessageStore.BatchObserver.NONE)) {
                again.start();
                assertThat(marker(db, "bob", "ops")).isEqualTo(4L);
                assertThat(marker(db, "bob", "gone")).isNull();
                ReadState state = again.markRead("ops", "bob", 3); // lower than the recovered marker: kept
                assertThat(state.seq()).isEqualTo(4L);
                assertThat(state.unread()).isEqualTo(1);
            }
        }
    }

    @Test
    void a_crash_puts_back_no_marker_of_a_room_deleted_and_made_again_under_its_name_since() throws Exception {
        Path file = tmp.resolve("parley.journal");
        try (Database db = new Database(url(), "", "", 4)) {
            try (MessageStore store = new MessageStore(db, Journal.open(file), 64, 0, m -> {}, MessageStore.BatchObserver.NONE)) {
                store.start();
                store.ensureRoom("ops");
                for (int i = 1; i <= 3; i++) store.append("ops", "alice", "c" + i, "old " + i).get(10, TimeUnit.SECONDS);
                store.markRead("ops", "bob", 3); // in the journal, which nothing empties before the crash
                RoomStore rooms = new RoomStore(db);
                RoomChanges.delete(rooms, "ops", "alice");
                rooms.purge("ops");
                RoomChanges.make(rooms, "ops", "carol", "public");
                for (int i = 1; i <= 3; i++) store.append("ops", "carol", "n" + i, "new " + i).get(10, TimeUnit.SECONDS);
                assertThat(marker(db, "bob", "ops")).as("the deletion took bob's marker").isNull();
                // A read of the old room that the writer raises only now (its read checked the room before the deletion).
                new GroupCommitWriterAccess(store).mark("ops", "bob", 3);
                assertThat(marker(db, "bob", "ops")).as("not raised in the room made again").isNull();
            }
            // The journal was not emptied: a crash's replay reads every record since, bob's old marker included.
            try (MessageStore again = new MessageStore(db, Journal.open(file), 64, 0, m -> {}, MessageStore.BatchObserver.NONE)) {
                again.start();
                assertThat(marker(db, "bob", "ops")).as("bob never joined the room made again").isNull();
                assertThat(again.readStates("bob", Map.of("ops", again.lastSeq("ops").orElseThrow()))).isEmpty();
            }
        }
    }

    /** Raises a marker through the store's writer directly, as a read that checked the room earlier does. */
    private record GroupCommitWriterAccess(MessageStore store) {
        void mark(String room, String user, long seq) throws Exception {
            java.lang.reflect.Field f = MessageStore.class.getDeclaredField("writer");
            f.setAccessible(true);
            ((GroupCommitWriter) f.get(store)).mark(room, user, seq).get(10, TimeUnit.SECONDS);
        }
    }

    private static Long marker(Database db, String user, String room) throws Exception {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT seq FROM read_markers WHERE user_key = ? AND room = ?")) {
            ps.setString(1, user);
            ps.setString(2, room);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }
}
