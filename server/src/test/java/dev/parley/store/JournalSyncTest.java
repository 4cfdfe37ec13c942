package dev.parley.store;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CHAT_JOURNAL_SYNC: with {@code commit}, every group commit that stores messages forces the journal
 * to the disk before its appends complete (so before any ack), once per commit however many messages
 * it holds; with {@code none}, never. Counted by the journal itself, so what is tested is the sync
 * being done, not the setting being read.
 */
class JournalSyncTest {
    @TempDir
    Path tmp;

    private String url() {
        return ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
    }

    @Test
    void with_sync_each_commit_is_forced_to_the_disk_before_its_appends_complete() throws Exception {
        AtomicInteger commits = new AtomicInteger();
        List<Long> forcedWhenCompleted = new ArrayList<>();
        try (Database db = new Database(url(), "", "", 4, true)) {
            Journal journal = Journal.open(tmp.resolve("parley.journal"), true);
            assertThat(journal.syncs()).isTrue();
            try (MessageStore store = new MessageStore(db, journal, 64, 0, m -> {}, (size, nanos) -> commits.incrementAndGet())) {
                store.start();
                for (int i = 1; i <= 5; i++) {
                    // One at a time: each its own commit, and its force counted before it completes.
                    store.append("alpha", "alice", "c" + i, "synced " + i).get(10, TimeUnit.SECONDS);
                    forcedWhenCompleted.add(journal.forces());
                }
                assertThat(forcedWhenCompleted).containsExactly(1L, 2L, 3L, 4L, 5L);

                // Many at once share commits, and each commit is one force, not one per message.
                List<CompletableFuture<MessageStore.Appended>> burst = new ArrayList<>();
                int before = commits.get();
                for (int i = 0; i < 200; i++) burst.add(store.append("bravo", "bob", "b" + i, "burst " + i));
                for (CompletableFuture<MessageStore.Appended> f : burst) f.get(10, TimeUnit.SECONDS);
                int burstCommits = commits.get() - before;
                assertThat(journal.forces()).isEqualTo(5L + burstCommits);
                assertThat(burstCommits).isLessThan(200);

                // A retry finds its first copy and stores nothing: nothing new to journal, nothing to force.
                long forces = journal.forces();
                assertThat(store.append("alpha", "alice", "c1", "synced 1").get(10, TimeUnit.SECONDS).duplicate()).isTrue();
                assertThat(journal.forces()).isEqualTo(forces);
            }
        }
    }

    @Test
    void without_sync_nothing_is_forced() throws Exception {
        try (Database db = new Database(url(), "", "", 4)) {
            Journal journal = Journal.open(tmp.resolve("parley.journal"));
            assertThat(journal.syncs()).isFalse();
            try (MessageStore store = new MessageStore(db, journal, 64, 0, m -> {}, MessageStore.BatchObserver.NONE)) {
                store.start();
                for (int i = 1; i <= 5; i++) store.append("alpha", "alice", "c" + i, "not synced " + i).get(10, TimeUnit.SECONDS);
                assertThat(journal.forces()).isZero();
                assertThat(journal.size()).as("the messages did go to the journal").isPositive();
            }
        }
    }

    /**
     * A synced journal is emptied only after H2 has synced its own file (CHECKPOINT SYNC): the
     * checkpoint must succeed with it, or the journal would grow without end.
     */
    @Test
    void with_sync_a_journal_past_its_limit_is_still_emptied_and_nothing_is_lost() throws Exception {
        Path file = tmp.resolve("parley.journal");
        try (Database db = new Database(url(), "", "", 4, true)) {
            Journal journal = Journal.open(file, true);
            try (MessageStore store = new MessageStore(db, journal, 2048, 64, 0, m -> {}, MessageStore.BatchObserver.NONE)) {
                store.start();
                for (int i = 1; i <= 100; i++) {
                    store.append("alpha", "alice", "c" + i, "message number " + i + " of a synced journal that passes its limit").join();
                    assertThat(journal.size()).as("records after append %d", i).isLessThan(2048 + 1024);
                    assertThat(java.nio.file.Files.size(file)).as("the file after append %d", i).isLessThan(2 * Journal.CHUNK);
                }
                assertThat(journal.forces()).isEqualTo(100);
            }
        }
        try (Database db = new Database(url(), "", "", 4, true);
             MessageStore store = new MessageStore(db, Journal.open(file, true), 64, 0, m -> {}, MessageStore.BatchObserver.NONE)) {
            assertThat(store.range("alpha", 0, 1000)).extracting(Message::seq).hasSize(100).last().isEqualTo(100L);
        }
    }
}
