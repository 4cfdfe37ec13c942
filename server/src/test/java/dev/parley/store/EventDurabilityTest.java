package dev.parley.store;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An event that takes a room's seq (a reaction here; memberships and edits go the same way,
 * {@link Database#commitDurably}) on the embedded store, whose journal holds only messages. While
 * it is written to H2's file and not yet committed, no reader sees it and the room's next message
 * waits for it; a crash at that moment (the files copied as they are then) brings it back at its
 * seq, and the next message takes the seq after it. Before, the event was committed first and
 * written after: a join's replay could read it, a message take the next seq and be acknowledged
 * from the journal, and a crash then left a hole, or gave the event's seq to another.
 */
class EventDurabilityTest {
    private static final String ROOM = "alpha";

    @TempDir
    Path tmp;

    /** A node's store on the data dir, as the server opens the embedded one: synced, with its journal. */
    private record Node(Database db, MessageStore store) implements AutoCloseable {
        static Node at(Path dir) {
            Database db = new Database(ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, dir.toString())).databaseUrl(), "", "", 4, true, true);
            try {
                MessageStore store = new MessageStore(db, Journal.open(dir.resolve("parley.journal"), true), 64, 0, m -> { }, MessageStore.BatchObserver.NONE);
                store.start();
                return new Node(db, store);
            } catch (IOException e) {
                db.close();
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            store.close();
            db.close();
        }
    }

    @Test
    void an_event_is_read_by_no_one_before_it_is_on_the_disk_and_a_crash_then_keeps_it_at_its_seq() throws Exception {
        Path live = Files.createDirectories(tmp.resolve("live"));
        Path crashed = Files.createDirectories(tmp.resolve("crashed"));
        AtomicReference<List<Message>> readWhileWriting = new AtomicReference<>();
        AtomicReference<OptionalLong> lastSeqWhileWriting = new AtomicReference<>();
        AtomicReference<CompletableFuture<MessageStore.Appended>> sentWhileWriting = new AtomicReference<>();
        AtomicReference<Boolean> sendDoneWhileWriting = new AtomicReference<>();

        Message event;
        try (Node node = Node.at(live)) {
            Database db = node.db();
            MessageStore store = node.store();
            assertThat(store.append(ROOM, "bob", "m1", "target").get(10, TimeUnit.SECONDS).message().seq()).isEqualTo(1);
            db.afterPreparedWrite(c -> {
                readWhileWriting.set(store.range(ROOM, 0, 100));
                lastSeqWhileWriting.set(store.lastSeq(ROOM));
                sentWhileWriting.set(store.append(ROOM, "bob", "m2", "while the reaction is written"));
                try {
                    Thread.sleep(200); // the send's commit would have been made by now, if it could be
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sendDoneWhileWriting.set(sentWhileWriting.get().isDone());
                copy(live, crashed); // what the disk holds at this moment: the files as a crash leaves them
            });
            event = new MessageChanges(db).react(ROOM, 1, "alice", "\uD83D\uDC4D", true, t -> { });
            db.afterPreparedWrite(c -> { });

            assertThat(event.seq()).isEqualTo(2);
            assertThat(readWhileWriting.get()).as("what a reader saw while the event was written").extracting(Message::seq).containsExactly(1L);
            assertThat(lastSeqWhileWriting.get()).as("the room's last seq while the event was written").hasValue(1);
            assertThat(sendDoneWhileWriting.get()).as("the next message answered while the event was not yet committed").isFalse();
            assertThat(sentWhileWriting.get().get(10, TimeUnit.SECONDS).message().seq()).as("the next message's seq").isEqualTo(3);
            assertThat(store.range(ROOM, 0, 100)).extracting(Message::seq).containsExactly(1L, 2L, 3L);
        }

        // The node stopped with the event written but not committed: the next start commits it.
        try (Node again = Node.at(crashed)) {
            MessageStore restarted = again.store();
            List<Message> history = restarted.range(ROOM, 0, 100);
            assertThat(history).extracting(Message::seq).containsExactly(1L, 2L);
            assertThat(history.get(1).id()).as("the event at seq 2 is the one written").isEqualTo(event.id());
            assertThat(restarted.append(ROOM, "carol", "m3", "after the restart").get(10, TimeUnit.SECONDS).message().seq())
                    .as("the seq of the first message after the restart").isEqualTo(3);
        }
    }

    @Test
    void a_change_whose_write_fails_after_its_prepare_makes_the_node_refuse_the_database_until_a_restart() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("failing"));
        try (Node node = Node.at(dir)) {
            Database db = node.db();
            MessageStore store = node.store();
            assertThat(store.append(ROOM, "bob", "m1", "target").get(10, TimeUnit.SECONDS).message().seq()).isEqualTo(1);
            db.afterPreparedWrite(c -> {
                throw new IllegalStateException("the disk's sync failed");
            });
            assertThatThrownBy(() -> new MessageChanges(db).react(ROOM, 1, "alice", "\uD83D\uDC4D", true, t -> { }))
                    .hasMessageContaining("sync failed");
            // The prepared reaction may be in the file, and a restart would commit it at seq 2: no
            // message may be given seq 2 meanwhile. Refused, as with the database down.
            assertThatThrownBy(() -> store.append(ROOM, "bob", "m2", "after").get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(StoreException.class);
            assertThat(db.healthy()).as("the readiness check's answer").isFalse();
        }
        try (Node again = Node.at(dir)) {
            MessageStore restarted = again.store();
            assertThat(restarted.range(ROOM, 0, 100)).extracting(Message::clientId).as("after a restart").startsWith("m1").doesNotContain("m2");
            long next = restarted.append(ROOM, "bob", "m3", "after the restart").get(10, TimeUnit.SECONDS).message().seq();
            assertThat(next).as("the next seq after what the disk holds").isEqualTo(restarted.lastSeq(ROOM).orElseThrow());
        }
    }

    private static void copy(Path from, Path to) {
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".mv.db") || name.endsWith(".journal")) Files.copy(f, to.resolve(name));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
