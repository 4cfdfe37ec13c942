package dev.parley.store;

import dev.parley.testing.RoomChanges;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A room made again under a deleted room's name is another room: a clientId its sender used in the
 * room deleted is no retry there, also while rows of the deleted room wait for their purge (a purge
 * under way, or one a crash right after the deletion kept from ever running). Found by review: such a
 * send was answered with the old message's ack (a seq below the new room's history start) and not
 * stored.
 */
class DeletedRoomClientIdTest {
    @TempDir
    Path tmp;

    @Test
    void a_send_with_a_clientId_of_the_deleted_room_is_stored_in_the_room_made_again_and_survives_a_crash() throws Exception {
        String url = ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
        Path journal = tmp.resolve("parley.journal");
        try (Database db = new Database(url, "", "", 4)) {
            MessageStore store = new MessageStore(db, Journal.open(journal), 64, 0, m -> {}, MessageStore.BatchObserver.NONE);
            store.start();
            store.ensureRoom("ops");
            Message old = store.append("ops", "alice", "deploy-1", "old secret").get(10, TimeUnit.SECONDS).message();
            store.append("ops", "alice", "deploy-2", "old secret 2").get(10, TimeUnit.SECONDS);
            RoomStore rooms = new RoomStore(db);
            RoomChanges.delete(rooms, "ops", "alice");
            // No purge: the node crashed right after the deletion (or the purge is still under way).
            RoomChanges.make(rooms, "ops", "alice", "public");
            long start = store.historyStart("ops");
            assertThat(start).isEqualTo(3);

            MessageStore.Appended again = store.append("ops", "alice", "deploy-1", "new deploy").get(10, TimeUnit.SECONDS);
            assertThat(again.duplicate()).as("no retry: the deleted room's message is gone").isFalse();
            assertThat(again.message().seq()).isEqualTo(5);
            assertThat(again.message().text()).isEqualTo("new deploy");
            // a retry of the new one is one
            MessageStore.Appended retry = store.append("ops", "alice", "deploy-1", "new deploy").get(10, TimeUnit.SECONDS);
            assertThat(retry.duplicate()).isTrue();
            assertThat(retry.message().seq()).isEqualTo(5);
            assertThat(store.page("ops", null, 0L, 50).messages()).extracting(Message::text)
                    .containsExactly("alice deleted the room", "alice made the public room ops", "new deploy");

            // A crash now, which H2 had not written the last commit of, while the deleted room's row was
            // on the disk: the journal's replay stores the acknowledged message all the same.
            Path crashed = tmp.resolve("crashed.journal");
            Files.copy(journal, crashed);
            store.close();
            Files.move(crashed, journal, StandardCopyOption.REPLACE_EXISTING);
            try (Connection c = db.connection()) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM messages WHERE room = 'ops' AND seq = 5")) {
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(SqlDialect.INSERT_MESSAGE)) {
                    SqlDialect.bindMessage(ps, old);
                    ps.executeUpdate();
                }
            }
            MessageStore reopened = new MessageStore(db, Journal.open(journal), 64, 0, m -> {}, MessageStore.BatchObserver.NONE);
            assertThat(reopened.page("ops", null, 0L, 50).messages()).extracting(Message::text)
                    .containsExactly("alice deleted the room", "alice made the public room ops", "new deploy");
            reopened.close();
        }
    }
}
