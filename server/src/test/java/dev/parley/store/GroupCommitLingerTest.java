package dev.parley.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code CHAT_APPEND_LINGER} in the store: on a busy store an append waits for later ones to share
 * its commit; on a quiet one it is committed at once. The lingers are long (seconds) so that what
 * the test sees does not depend on the machine's speed.
 */
class GroupCommitLingerTest {
    @TempDir
    Path dir;

    private final List<Integer> batches = Collections.synchronizedList(new ArrayList<>());

    private Database h2() {
        return new Database("jdbc:h2:file:" + dir.resolve("parley") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH", "", "", 2);
    }

    @Test
    void on_a_busy_store_a_later_append_shares_the_commit_of_one_still_lingering() throws Exception {
        try (Database db = h2();
             MessageStore store = new MessageStore(db, null, 512, TimeUnit.SECONDS.toNanos(1), c -> {}, (size, nanos) -> batches.add(size))) {
            store.start();
            List<CompletableFuture<MessageStore.Appended>> burst = new ArrayList<>();
            for (int i = 0; i < 200; i++) burst.add(store.append("lobby", "alice", "burst-" + i, "hello"));
            for (CompletableFuture<MessageStore.Appended> f : burst) f.get(30, TimeUnit.SECONDS);
            Thread.sleep(150); // past the 100 ms over which the writer measures the rate
            batches.clear();

            CompletableFuture<MessageStore.Appended> first = store.append("lobby", "alice", "a", "first");
            Thread.sleep(200);
            assertThat(first).as("still lingering").isNotDone();
            CompletableFuture<MessageStore.Appended> second = store.append("lobby", "bob", "b", "second");

            assertThat(first.get(30, TimeUnit.SECONDS).message().seq()).isEqualTo(201);
            assertThat(second.get(30, TimeUnit.SECONDS).message().seq()).isEqualTo(202);
            assertThat(batches).containsExactly(2);
        }
    }

    @Test
    void on_a_quiet_store_an_append_is_committed_at_once() throws Exception {
        // Nothing appended before: no rate says that more are coming (LingerTest covers slow rates).
        try (Database db = h2();
             MessageStore store = new MessageStore(db, null, 512, TimeUnit.SECONDS.toNanos(30), c -> {}, (size, nanos) -> batches.add(size))) {
            store.start();
            Thread.sleep(150);
            long start = System.nanoTime();
            store.append("lobby", "alice", "c-1", "hello").get(30, TimeUnit.SECONDS);
            assertThat(System.nanoTime() - start).as("against a linger of 30 s").isLessThan(TimeUnit.SECONDS.toNanos(15));
            assertThat(batches).containsExactly(1);
        }
    }
}
