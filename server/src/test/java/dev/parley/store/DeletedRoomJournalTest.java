package dev.parley.store;

import dev.parley.testing.RoomChanges;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A deleted room's history stays gone after a crash, though the journal still holds it (found by review). */
class DeletedRoomJournalTest {
    @TempDir
    Path tmp;

    @Test
    void a_crash_after_a_room_was_deleted_and_made_again_brings_nothing_of_the_old_room_back() throws Exception {
        String url = ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
        Path journal = tmp.resolve("parley.journal");
        try (Database db = new Database(url, "", "", 4)) {
            MessageStore store = new MessageStore(db, Journal.open(journal), 64, 0, m -> {}, MessageStore.BatchObserver.NONE);
            store.start();
            store.ensureRoom("ops");
            store.append("ops", "alice", "c1", "old secret 1").get(10, TimeUnit.SECONDS);
            store.append("ops", "alice", "c2", "old secret 2").get(10, TimeUnit.SECONDS);
            RoomStore rooms = new RoomStore(db);
            RoomChanges.delete(rooms, "ops", "alice");
            assertThat(rooms.purge("ops")).isEqualTo(2);
            RoomChanges.make(rooms, "ops", "carol", "private");
            // A crash now: the journal still holds the two old messages.
            Path crashed = tmp.resolve("crashed.journal");
            Files.copy(journal, crashed);
            store.close();
            Files.move(crashed, journal, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

            MessageStore again = new MessageStore(db, Journal.open(journal), 64, 0, m -> {}, MessageStore.BatchObserver.NONE);
            List<Message> history = again.page("ops", null, null, 50).messages();
            assertThat(history).extracting(Message::text).containsExactly("alice deleted the room", "carol made the private room ops");
            assertThat(again.range("ops", 0, 10)).hasSize(2);
            // nor on the disk: what a deleted room said is gone, not only hidden
            try (java.sql.Connection c = db.connection();
                 java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM messages WHERE room = 'ops'")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
            again.close();
        }
    }
}
