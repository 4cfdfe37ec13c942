package dev.parley.store;

import dev.parley.event.Message;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store on H2, as a single node runs it: an embedded file database with the URL ChatConfig builds. */
class H2MessageStoreTest extends MessageStoreContract {
    @TempDir
    Path tmp;

    private final AtomicInteger databases = new AtomicInteger();

    @Override
    protected Target newTarget() {
        Path dataDir = tmp.resolve("data" + databases.incrementAndGet());
        String url = ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, dataDir.toString())).databaseUrl();
        return new Target(url, "", "", dataDir.resolve("parley.journal"));
    }

    /**
     * H2 runs with a write delay and the journal makes commits durable: the commits H2 had not written
     * when the process died are in the journal only. Played here by writing them to the journal of a
     * closed database, as the writer would have, and opening the store again.
     */
    @Test
    void messages_only_the_journal_holds_are_stored_again_when_the_store_opens() throws IOException {
        Target t = newTarget();
        try (Database db = t.open(); MessageStore store = t.store(db, 64, batch -> {}, MessageStore.BatchObserver.NONE)) {
            for (int i = 1; i <= 3; i++) store.append("alpha", "alice", "c" + i, "stored " + i).join();
        }
        Message lost4 = new Message("alpha", 4, "id-4", "bob", "only in the journal 4", 1_700_000_000_004L, "b4");
        Message lost5 = new Message("alpha", 5, "id-5", "bob", "only in the journal 5", 1_700_000_000_005L, "b5");
        Message newRoom = new Message("bravo", 1, "id-b1", "carol", "a room made by the lost commit", 1_700_000_000_006L, "k1");
        try (Journal j = Journal.open(t.journal())) {
            j.append(List.of(lost4));
            j.append(List.of(lost5, newRoom));
        }

        try (Database db = t.open(); MessageStore store = t.store(db, 64, batch -> {}, MessageStore.BatchObserver.NONE)) {
            assertThat(store.range("alpha", 0, 100)).extracting(Message::text)
                    .containsExactly("stored 1", "stored 2", "stored 3", "only in the journal 4", "only in the journal 5");
            Message restored = store.range("alpha", 4, 5).get(0);
            assertThat(List.of(restored.id(), restored.from(), restored.tsMillis(), restored.clientId()))
                    .isEqualTo(List.of("id-5", "bob", 1_700_000_000_005L, "b5"));
            assertThat(store.lastSeq("alpha")).hasValue(5);
            assertThat(store.lastSeq("bravo")).hasValue(1);
            assertThat(store.range("bravo", 0, 10)).extracting(Message::text).containsExactly("a room made by the lost commit");
            // The sender of a restored message never saw its ack; its retry must find it, not store it again.
            MessageStore.Appended retry = store.append("alpha", "bob", "b5", "only in the journal 5").join();
            assertThat(retry.duplicate()).isTrue();
            assertThat(retry.message().seq()).isEqualTo(5);
            assertThat(store.append("alpha", "alice", "c6", "after").join().message().seq()).isEqualTo(6);
        }
        try (Journal j = Journal.open(t.journal())) {
            assertThat(j.size()).as("emptied once the database has it all").isZero();
        }
    }

    @Test
    void a_journal_past_its_limit_is_emptied_once_the_database_has_written_its_pages() throws IOException {
        Target t = newTarget();
        try (Database db = t.open()) {
            Journal journal = Journal.open(t.journal());
            try (MessageStore store = new MessageStore(db, journal, 2048, 64, 0, batch -> {}, MessageStore.BatchObserver.NONE)) {
                store.start();
                for (int i = 1; i <= 200; i++) {
                    store.append("alpha", "alice", "c" + i, "message number " + i + " of a journal that passes its limit").join();
                    assertThat(journal.size()).as("records after append %d", i).isLessThan(2048 + 1024);
                    assertThat(java.nio.file.Files.size(t.journal())).as("the file after append %d", i).isLessThan(2 * Journal.CHUNK);
                }
                assertThat(store.range("alpha", 0, 1000)).hasSize(200);
            }
        }
        try (Database db = t.open(); MessageStore store = t.store(db, 64, batch -> {}, MessageStore.BatchObserver.NONE)) {
            assertThat(store.range("alpha", 0, 1000)).extracting(Message::seq).hasSize(200).last().isEqualTo(200L);
        }
    }

    /**
     * A batch that cannot be written to the journal (a full disk) must not be acknowledged, and must
     * not be committed either: otherwise H2 would show a message that a crash could take back.
     */
    @Test
    void a_batch_the_journal_cannot_take_fails_and_is_not_stored() throws IOException {
        Target t = newTarget();
        try (Database db = t.open()) {
            Journal journal = Journal.open(t.journal());
            try (MessageStore store = new MessageStore(db, journal, 64, 0, batch -> {}, MessageStore.BatchObserver.NONE)) {
                store.start();
                store.append("alpha", "alice", "c1", "before").join();
                journal.close(); // every write now fails, as on a full disk
                assertThatThrownBy(() -> store.append("alpha", "alice", "c2", "not journaled").join())
                        .hasCauseInstanceOf(StoreException.class);
                assertThat(store.range("alpha", 0, 10)).extracting(Message::text).containsExactly("before");
                assertThat(store.lastSeq("alpha")).hasValue(1);
            }
        }
    }

    @Test
    void a_journal_whose_messages_the_database_has_changes_nothing() throws IOException {
        Target t = newTarget();
        List<Message> stored = new ArrayList<>();
        try (Database db = t.open(); MessageStore store = t.store(db, 64, batch -> {}, MessageStore.BatchObserver.NONE)) {
            for (int i = 1; i <= 3; i++) stored.add(store.append("alpha", "alice", "c" + i, "stored " + i).join().message());
        }
        try (Journal j = Journal.open(t.journal())) {
            j.append(stored);
            j.append(stored.subList(1, 2));
        }
        try (Database db = t.open(); MessageStore store = t.store(db, 64, batch -> {}, MessageStore.BatchObserver.NONE)) {
            assertThat(store.range("alpha", 0, 100)).extracting(Message::seq).containsExactly(1L, 2L, 3L);
            assertThat(store.lastSeq("alpha")).hasValue(3);
            assertThat(store.append("alpha", "alice", "c4", "next").join().message().seq()).isEqualTo(4);
        }
    }

    /**
     * An embedded database cannot become unreachable, so the outage is played by H2's own TCP server in
     * front of a file database: stopping it cuts every connection, as a database host going away would.
     */
    @Override
    protected Outage newOutage() {
        Path baseDir = tmp.resolve("tcp" + databases.incrementAndGet());
        int port = dev.parley.testing.Ports.free();
        String url = "jdbc:h2:tcp://127.0.0.1:" + port + "/parley;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0";
        return new Outage() {
            private Server server = startServer();

            private Server startServer() {
                try {
                    return Server.createTcpServer("-tcpPort", String.valueOf(port), "-baseDir", baseDir.toString(), "-ifNotExists").start();
                } catch (SQLException e) {
                    throw new IllegalStateException("H2 TCP server did not start", e);
                }
            }

            @Override
            public Target target() {
                return new Target(url, "", "");
            }

            @Override
            public void stop() {
                server.stop();
            }

            @Override
            public void start() {
                server = startServer();
            }

            @Override
            public void close() {
                server.stop();
            }
        };
    }
}
