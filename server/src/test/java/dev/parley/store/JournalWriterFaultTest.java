package dev.parley.store;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a user of the store sees when the journal's disk fails (JournalFaultTest covers the journal
 * itself): a send whose record could not be synced is refused, never delivered, never stored, and
 * comes back neither after a clean restart nor after a crash; a checkpoint whose clear fails keeps
 * every acknowledged message where a crash can find it. Sync per commit (CHAT_JOURNAL_SYNC=commit),
 * as the server runs by default, and the journal's channel wrapped in a {@link FaultyChannel}.
 *
 * <p>A crash is played as the other journal tests play it (DeletedRoomJournalTest): the journal file
 * as it was at the crash is put back after a clean close. The clean close has H2 write everything,
 * so what H2 would lose in a real crash (the commits since its last checkpoint) is then taken out of
 * it by hand ({@link #crashedWith}): what comes back can only come from the journal.
 */
class JournalWriterFaultTest {
    private static final String ROOM = "alpha";

    @TempDir
    Path tmp;

    private Path file;
    private Database db;
    private FaultyChannel disk;
    private Journal journal;
    /** What the commit listener saw: what was delivered live to the room. */
    private final List<Message> delivered = new CopyOnWriteArrayList<>();

    @BeforeEach
    void openDatabase() {
        file = tmp.resolve("parley.journal");
        db = newDatabase();
    }

    /** As the server opens the embedded database: synced, and refused once H2 is opened again under it. */
    private Database newDatabase() {
        return new Database(url(), "", "", 4, true, true);
    }

    private String url() {
        return ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
    }

    @AfterEach
    void closeDatabase() {
        db.close();
    }

    /** A started store whose journal fails where {@link #disk} is told to; a checkpoint once it holds {@code checkpointBytes}. */
    private MessageStore open(long checkpointBytes) throws IOException {
        journal = Journal.open(file, true, real -> disk = new FaultyChannel(real));
        MessageStore store = new MessageStore(db, journal, checkpointBytes, 64, 0, delivered::addAll, MessageStore.BatchObserver.NONE);
        store.start();
        return store;
    }

    /** A store on the journal as it is on the disk, without faults. */
    private MessageStore reopen() throws IOException {
        MessageStore store = new MessageStore(db, Journal.open(file, true), 64, 0, m -> {}, MessageStore.BatchObserver.NONE);
        store.start();
        return store;
    }

    private static MessageStore.Appended send(MessageStore store, String sender, String clientId, String text) throws Exception {
        return store.append(ROOM, sender, clientId, text).get(10, TimeUnit.SECONDS);
    }

    /** One send whose journal sync fails: it must fail with the database's "unavailable", caused by the sync. */
    private void refusedSend(MessageStore store) {
        disk.failForces(1);
        assertThat(store.append(ROOM, "alice", "c3", "refused")).failsWithin(10, TimeUnit.SECONDS)
                .withThrowableOfType(ExecutionException.class)
                .havingCause().isInstanceOf(StoreException.class).withMessage("the database is unavailable")
                .havingRootCause().withMessage("injected: sync failed");
    }

    /** The room's history as its readers see it: each message's seq and text. */
    private static List<String> history(MessageStore store) {
        return store.range(ROOM, 0, 1000).stream().map(m -> m.seq() + " " + m.text()).toList();
    }

    private Path snapshot(String name) throws IOException {
        return Files.copy(file, tmp.resolve(name));
    }

    /**
     * A crash: the journal as {@code snapshot} holds it, and H2 as if it had written the room's
     * messages up to seq {@code written} only (those of its last checkpoint).
     */
    private void crashedWith(Path snapshot, long written) throws Exception {
        Files.copy(snapshot, file, StandardCopyOption.REPLACE_EXISTING);
        lose(written);
    }

    /** Takes the room's messages past seq {@code written} out of H2, as a crash or a reopen after a fault would. */
    private void lose(long written) throws Exception {
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM messages WHERE room = '" + ROOM + "' AND seq > " + written);
            st.executeUpdate("UPDATE rooms SET last_seq = " + written + " WHERE name = '" + ROOM + "'");
        }
    }

    /**
     * PROTOCOL.md §2: seqs are 1, 2, 3, ... with no holes. The seq is taken from the room's row in the
     * transaction the failed sync rolls back (WriterSession), so the refused send's seq is not used up:
     * the next send gets it, and readers never see a hole. The refused send's retry (same clientId, as
     * PROTOCOL.md tells a client to do on `unavailable`) finds no first copy: it is stored, once.
     */
    @Test
    void a_send_whose_journal_sync_fails_is_refused_not_stored_and_the_next_send_takes_its_seq() throws Exception {
        try (MessageStore store = open(GroupCommitWriter.JOURNAL_CHECKPOINT_BYTES)) {
            assertThat(send(store, "alice", "c1", "one").message().seq()).isEqualTo(1);
            assertThat(send(store, "alice", "c2", "two").message().seq()).isEqualTo(2);

            refusedSend(store);
            assertThat(history(store)).containsExactly("1 one", "2 two");
            assertThat(store.lastSeq(ROOM)).hasValue(2);
            assertThat(delivered).extracting(Message::text).as("delivered live").containsExactly("one", "two");

            MessageStore.Appended next = send(store, "bob", "b1", "three");
            assertThat(next.duplicate()).isFalse();
            assertThat(next.message().seq()).as("the refused send's seq, not one past it").isEqualTo(3);
            MessageStore.Appended retry = send(store, "alice", "c3", "refused");
            assertThat(retry.duplicate()).as("its first copy was never stored").isFalse();
            assertThat(retry.message().seq()).isEqualTo(4);
            assertThat(history(store)).containsExactly("1 one", "2 two", "3 three", "4 refused");
            assertThat(delivered).extracting(Message::text).containsExactly("one", "two", "three", "refused");
        }
    }

    @Test
    void after_a_refused_send_a_clean_restart_shows_exactly_the_acknowledged_messages_in_order() throws Exception {
        try (MessageStore store = open(GroupCommitWriter.JOURNAL_CHECKPOINT_BYTES)) {
            send(store, "alice", "c1", "one");
            send(store, "alice", "c2", "two");
            refusedSend(store);
            send(store, "bob", "b1", "three");
        }
        try (MessageStore store = reopen()) {
            assertThat(history(store)).containsExactly("1 one", "2 two", "3 three");
            assertThat(send(store, "bob", "b2", "four").message().seq()).isEqualTo(4);
        }
    }

    /**
     * Two crashes. Right after the refusal: the refused record's bytes reached the file before its
     * sync failed, and only its zeroed length keeps a replay from storing it (at seq 3, which H2
     * never had). After the next send: that send's record was written where the refused one was, so
     * the replay reaches it; one written past the refused record would sit behind that zeroed
     * length, and an acknowledged message would be lost.
     */
    @Test
    void a_crash_after_a_refused_send_brings_back_the_acknowledged_messages_and_never_the_refused_one() throws Exception {
        Path atRefusal;
        Path afterNext;
        try (MessageStore store = open(GroupCommitWriter.JOURNAL_CHECKPOINT_BYTES)) {
            send(store, "alice", "c1", "one");
            send(store, "alice", "c2", "two");
            refusedSend(store);
            atRefusal = snapshot("at-refusal.journal");
            send(store, "bob", "b1", "three");
            afterNext = snapshot("after-next.journal");
        }

        crashedWith(atRefusal, 0);
        try (MessageStore store = reopen()) {
            assertThat(history(store)).containsExactly("1 one", "2 two");
            assertThat(store.lastSeq(ROOM)).hasValue(2);
        }
        crashedWith(afterNext, 0);
        try (MessageStore store = reopen()) {
            assertThat(history(store)).containsExactly("1 one", "2 two", "3 three");
            assertThat(send(store, "bob", "b2", "four").message().seq()).isEqualTo(4);
        }
    }

    /**
     * The writer tries a checkpoint once the journal holds {@code limit} bytes: about 44 of these
     * records (137 bytes each), so one is tried after about 44 of the 60 sends, and the next not
     * before about 88: the last send never starts one that could race the reads below. Its clear fails
     * (the new header's write at offset 0; the only write there once the store is open). The sends
     * after it go on in the kept generation, and H2 may lose them in a crash, as it may lose
     * everything written after its last successful checkpoint: here all of them, from the journal alone.
     */
    @Test
    void a_checkpoint_whose_journal_clear_fails_keeps_every_acknowledged_message_for_a_crash() throws Exception {
        long limit = 6000;
        List<String> texts = IntStream.rangeClosed(1, 60).mapToObj(i -> "message " + i + " of a journal whose clear fails").toList();
        Path atCrash;
        try (MessageStore store = open(limit)) {
            disk.failWrites(at -> at == 0, 1);
            for (int i = 0; i < texts.size(); i++) send(store, "alice", "c" + i, texts.get(i));
            // Read after the last ack, which the writer gave after the failed checkpoint: emptied, it would hold the last 16 or so records.
            assertThat(journal.size()).as("the journal, kept past its limit").isBetween(limit, 2 * limit);
            atCrash = snapshot("at-crash.journal");
        }
        try (Journal kept = Journal.open(atCrash)) {
            assertThat(kept.replay(batch -> {})).as("messages replayed from the kept journal").isEqualTo(texts.size());
        }

        crashedWith(atCrash, 0); // the checkpoint failed: H2 wrote nothing it is known to have
        try (MessageStore store = reopen()) {
            assertThat(history(store)).as("every acknowledged message, at its seq")
                    .containsExactlyElementsOf(IntStream.range(0, texts.size()).mapToObj(i -> (i + 1) + " " + texts.get(i)).toList());
        }
    }

    /**
     * A commit that fails after its record was written (GroupCommitWriter.commit writes the journal,
     * then commits; H2 shut down during the journal's sync does it) rolls the room's last seq back, so
     * the next send is stored and acknowledged at that seq too, in a later record. After a crash that
     * took both from H2, the acknowledged one must come back (Journal.recover), not the refused one.
     */
    @Test
    void a_seq_taken_again_after_a_commit_failed_past_the_journal_comes_back_as_the_acknowledged_message() throws Exception {
        try (MessageStore store = reopen()) {
            send(store, "alice", "c1", "one");
            send(store, "alice", "c2", "two");
        }
        try (Journal j = Journal.open(file)) { // the crash's journal, written as the writer would have
            j.append(List.of(new Message(ROOM, 3, "id-r", "alice", "refused", 1_700_000_000_003L, "c3")));
            j.append(List.of(new Message(ROOM, 3, "id-a", "bob", "acknowledged", 1_700_000_000_004L, "b1")));
        }
        try (MessageStore store = reopen()) {
            assertThat(history(store)).containsExactly("1 one", "2 two", "3 acknowledged");
            MessageStore.Appended retry = send(store, "alice", "c3", "refused");
            assertThat(retry.duplicate()).as("the refused send was never stored").isFalse();
            assertThat(retry.message().seq()).isEqualTo(4);
        }
    }

    /** The checkpoint at close, whose clear fails: the journal keeps what H2 holds too, and its replay stores nothing twice. */
    @Test
    void a_close_whose_journal_clear_fails_keeps_the_journal_and_a_restart_stores_nothing_twice() throws Exception {
        try (MessageStore store = open(GroupCommitWriter.JOURNAL_CHECKPOINT_BYTES)) {
            send(store, "alice", "c1", "one");
            send(store, "alice", "c2", "two");
            disk.failWrites(at -> at == 0, 1);
        }
        try (Journal kept = Journal.open(file)) {
            assertThat(kept.replay(batch -> {})).as("messages the close left in the journal").isEqualTo(2);
        }
        try (MessageStore store = reopen()) {
            assertThat(history(store)).containsExactly("1 one", "2 two");
            assertThat(send(store, "bob", "b1", "three").message().seq()).isEqualTo(3);
        }
    }

    /**
     * H2 closed by a fault while the journal syncs a commit (SHUTDOWN IMMEDIATELY: no pages written,
     * as when H2 stops on a full disk), so the commit fails after its record was written. The record
     * is taken back, and the node refuses the database the pool opens again; after a restart, which
     * restores the journal, the refused message is nowhere and its seq goes to the next send.
     */
    @Test
    void a_commit_that_fails_after_its_record_was_written_takes_the_record_back() throws Exception {
        try (MessageStore store = open(GroupCommitWriter.JOURNAL_CHECKPOINT_BYTES)) {
            send(store, "alice", "c1", "one");
            send(store, "alice", "c2", "two");
            disk.beforeNextForce(this::shutDownImmediately);
            assertThat(store.append(ROOM, "alice", "c3", "refused")).failsWithin(10, TimeUnit.SECONDS)
                    .withThrowableOfType(ExecutionException.class).havingCause().isInstanceOf(StoreException.class);
            // Read on the test's thread: the writer is idle until the next send.
            assertThat(journal.replay(batch -> {})).as("messages the journal keeps").isEqualTo(2);
        }
        restartedAfterLosingAllBut(0);
        try (MessageStore store = reopen()) {
            assertThat(history(store)).containsExactly("1 one", "2 two");
            assertThat(send(store, "bob", "b1", "three").message().seq()).isEqualTo(3);
        }
    }

    /**
     * H2 closed by a fault and opened again without the commits it had not written (made certain
     * here by taking them out by hand): the node refuses that database, every read and write and its
     * readiness check, rather than give an acknowledged message's seq to the next send; a restart
     * restores the journal first.
     */
    @Test
    void a_database_opened_again_after_a_fault_is_refused_until_a_restart_restores_the_journal() throws Exception {
        try (MessageStore store = open(GroupCommitWriter.JOURNAL_CHECKPOINT_BYTES)) {
            send(store, "alice", "c1", "one");
            send(store, "alice", "c2", "two");
            assertThat(db.healthy()).isTrue();
            shutDownImmediately();
            try (Connection c = java.sql.DriverManager.getConnection(url()); Statement st = c.createStatement()) { // opens H2 again
                st.executeUpdate("DELETE FROM messages WHERE room = '" + ROOM + "'");
                st.executeUpdate("UPDATE rooms SET last_seq = 0 WHERE name = '" + ROOM + "'");
            }
            for (int attempt = 1; attempt <= 3; attempt++) {
                assertThat(store.append(ROOM, "bob", "b1", "three")).as("send %d after the reopen", attempt).failsWithin(10, TimeUnit.SECONDS)
                        .withThrowableOfType(ExecutionException.class).havingCause().isInstanceOf(StoreException.class);
            }
            // The pool may first hand out connections to the closed H2, which fail on use and are
            // evicted; then every connection it opens is to the new H2, and refused.
            String refused = null;
            for (int i = 0; i < 10 && refused == null; i++) {
                try (Connection c = db.connection(); Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                } catch (java.sql.SQLException e) {
                    if (e.getMessage().contains("restart the node")) refused = e.getMessage();
                }
            }
            assertThat(refused).as("a connection to the H2 opened again").isNotNull();
            // Past Hikari's 500 ms without a check: the health pool tests its old connection, finds it
            // dead and opens one to the new H2, which the guard refuses (without it, that one is healthy).
            Thread.sleep(1_000);
            assertThat(db.healthy()).as("the readiness check's database").isFalse();
        }
        restartedAfterLosingAllBut(0);
        try (MessageStore store = reopen()) {
            assertThat(history(store)).containsExactly("1 one", "2 two");
            assertThat(send(store, "bob", "b1", "three").message().seq()).as("not a seq already acknowledged").isEqualTo(3);
        }
    }

    /** The node restarted: a new pool on the same file, where H2 (whatever it wrote before the fault) lacks the room's messages past {@code written}. */
    private void restartedAfterLosingAllBut(long written) throws Exception {
        db.close();
        db = newDatabase();
        lose(written);
    }

    private void shutDownImmediately() {
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.execute("SHUTDOWN IMMEDIATELY");
        } catch (java.sql.SQLException e) {
            // H2 may report its own shutdown on the statement that asked for it
        }
    }
}
