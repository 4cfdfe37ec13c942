package dev.parley.store;

import dev.parley.testing.RoomChanges;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A room deleted just before the node stopped or crashed keeps no text on the disk: the purge that
 * follows a deletion runs after it is answered, so a crash could leave the deleted history stored
 * for good, hidden from every read but still in the file (a helper's review). A node's start
 * purges what is left.
 */
class UnpurgedRoomTest {
    @TempDir
    Path tmp;

    private static int rows(Database db, String room) throws Exception {
        try (Connection c = db.connection();
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM messages WHERE room = '" + room + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void a_start_purges_what_a_deletion_cut_short_left() throws Exception {
        String url = ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
        try (Database db = new Database(url, "", "", 4)) {
            MessageStore store = new MessageStore(db, 64, m -> {}, (n, nanos) -> {});
            store.start();
            store.ensureRoom("ops");
            store.ensureRoom("kept");
            for (int i = 0; i < 3; i++) store.append("ops", "alice", "c" + i, "secret " + i).get(10, TimeUnit.SECONDS);
            store.append("kept", "alice", "k1", "still here").get(10, TimeUnit.SECONDS);
            RoomStore rooms = new RoomStore(db);
            // The deletion commits; the node dies before its purge (Rooms.delete runs it after).
            RoomChanges.delete(rooms, "ops", "alice");
            store.close();
            assertThat(rooms.unpurged()).containsExactly("ops");
            assertThat(rows(db, "ops")).isEqualTo(4);
        }

        int mark = dev.parley.testing.CapturedLogs.mark();
        ParleyServer node = ParleyServer.create().with(Setting.DATA_DIR, tmp.toString());
        node.start();
        try {
            // The node holds the file: its log says when the purge is done.
            Await.until("the deleted room's messages purged", Duration.ofSeconds(30), () -> dev.parley.testing.CapturedLogs.since(mark).stream()
                    .anyMatch(l -> l.contains("purged 3 messages of deleted rooms")));
        } finally {
            node.stop();
        }
        try (Database db = new Database(url, "", "", 4)) {
            assertThat(rows(db, "ops")).as("only the deletion's event").isEqualTo(1);
            assertThat(rows(db, "kept")).isEqualTo(1);
        }
    }
}
