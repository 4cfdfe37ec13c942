package dev.parley.store;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What retention swept stays gone after a crash, though the journal still holds it; and where the history starts stays put. */
class RetentionJournalTest {
    @TempDir
    Path tmp;

    @Test
    void a_crash_after_a_sweep_brings_no_swept_message_back_and_keeps_the_history_start() throws Exception {
        String url = ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
        Path journal = tmp.resolve("parley.journal");
        try (Database db = new Database(url, "", "", 4)) {
            MessageStore store = new MessageStore(db, Journal.open(journal), 64, 0, m -> {}, MessageStore.BatchObserver.NONE);
            store.start();
            store.ensureRoom("ops");
            for (int i = 1; i <= 6; i++) store.append("ops", "alice", "c" + i, "message " + i).get(10, TimeUnit.SECONDS);
            long later = System.currentTimeMillis() + 2 * RetentionStore.KEEP_RECENT_MILLIS;
            assertThat(new RetentionStore(db).sweep("ops", new RetentionStore.Policy(0, 2), later, 10).rows()).isEqualTo(4);
            // A crash now: the journal still holds all six acknowledged messages.
            Path crashed = tmp.resolve("crashed.journal");
            Files.copy(journal, crashed);
            store.close();
            Files.move(crashed, journal, StandardCopyOption.REPLACE_EXISTING);

            MessageStore again = new MessageStore(db, Journal.open(journal), 64, 0, m -> {}, MessageStore.BatchObserver.NONE);
            MessageStore.Page page = again.page("ops", null, 0L, 50);
            assertThat(page.messages()).extracting(Message::text).containsExactly("message 5", "message 6");
            assertThat(page.historyStart()).isEqualTo(5);
            assertThat(again.range("ops", 0, 10)).extracting(Message::seq).containsExactly(5L, 6L);
            try (Connection c = db.connection();
                 ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM messages WHERE room = 'ops'")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2); // gone from the disk, not only hidden
            }
            again.close();
        }
    }
}
