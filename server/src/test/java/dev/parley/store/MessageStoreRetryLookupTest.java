package dev.parley.store;

import dev.parley.testing.Postgres;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The retry lookup of a group commit finds earlier copies by (room, sender, clientId), on H2 and on
 * PostgreSQL: a retry in a later batch is the first copy; the same clientId from another sender, or
 * in another room, is a new message.
 */
class MessageStoreRetryLookupTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgresql"})
    void a_retry_in_a_later_batch_returns_the_first_copy_and_other_senders_keys_stay_distinct(String database) throws Exception {
        String url = database.equals("h2")
                ? "jdbc:h2:file:" + dir.resolve("parley") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH"
                : Postgres.shared().newDatabase();
        String user = database.equals("h2") ? "" : "postgres";
        try (Database db = new Database(url, user, user, 2);
             MessageStore store = new MessageStore(db, 512, committed -> {}, MessageStore.BatchObserver.NONE)) {
            store.start();
            List<MessageStore.Appended> first = appendAll(store, List.of(
                    new String[]{"lobby", "alice", "c-1"}, new String[]{"lobby", "alice", "c-2"}, new String[]{"lobby", "bob", "c-9"}));
            assertThat(first).extracting(MessageStore.Appended::duplicate).containsOnly(false);

            List<MessageStore.Appended> second = appendAll(store, List.of(
                    new String[]{"lobby", "alice", "c-2"},  // retry
                    new String[]{"lobby", "bob", "c-1"},    // alice's clientId, another sender
                    new String[]{"other", "alice", "c-1"},  // alice's clientId, another room
                    new String[]{"lobby", "bob", "c-9"}));  // retry

            assertThat(second.get(0).duplicate()).isTrue();
            assertThat(second.get(0).message().seq()).isEqualTo(first.get(1).message().seq());
            assertThat(second.get(1).duplicate()).isFalse();
            assertThat(second.get(1).message().seq()).isEqualTo(4);
            assertThat(second.get(2).duplicate()).isFalse();
            assertThat(second.get(2).message().seq()).isEqualTo(1);
            assertThat(second.get(3).duplicate()).isTrue();
            assertThat(second.get(3).message().id()).isEqualTo(first.get(2).message().id());
            assertThat(store.lastSeq("lobby")).hasValue(4);
        }
    }

    private static List<MessageStore.Appended> appendAll(MessageStore store, List<String[]> sends) throws Exception {
        List<CompletableFuture<MessageStore.Appended>> all = new ArrayList<>();
        for (String[] s : sends) all.add(store.append(s[0], s[1], s[2], "hello " + s[2]));
        List<MessageStore.Appended> out = new ArrayList<>();
        for (CompletableFuture<MessageStore.Appended> f : all) out.add(f.get(30, TimeUnit.SECONDS));
        return out;
    }
}
