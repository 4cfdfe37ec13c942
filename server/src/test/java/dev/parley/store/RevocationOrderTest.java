package dev.parley.store;

import dev.parley.testing.Await;
import dev.parley.testing.Postgres;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On PostgreSQL revocations commit in the order of their ids: nodes read them by increasing id,
 * and one committing after a higher id was read would never be read by that node.
 */
class RevocationOrderTest {
    @Test
    void a_revocation_stored_while_another_is_uncommitted_waits_for_it_and_gets_the_higher_id() throws Exception {
        try (Database db = new Database(Postgres.shared().newDatabase(), "postgres", "postgres", 4)) {
            RevocationStore store = new RevocationStore(db);
            try (Connection first = db.connection()) {
                first.setAutoCommit(false);
                long firstId = RevocationStore.insert(first, row("alice"));

                CompletableFuture<Long> second = CompletableFuture.supplyAsync(() -> store.add(row("bob")));
                // While the first is uncommitted the second waits (for the lock that orders them)
                // instead of taking an id and committing past it.
                Await.until("the second revocation to wait for the first", Duration.ofSeconds(10), () -> waitingForALock(db));
                assertThat(second).as("stored past an uncommitted revocation").isNotDone();

                first.commit();
                long secondId = second.get(10, TimeUnit.SECONDS);
                assertThat(secondId).isGreaterThan(firstId);
            }
            assertThat(store.after(0, 10)).extracting(RevocationStore.Revocation::username).containsExactly("alice", "bob");
        }
    }

    private static boolean waitingForALock(Database db) {
        try (Connection c = db.connection();
             var ps = c.prepareStatement("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
             var rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1) > 0;
        } catch (java.sql.SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static RevocationStore.Revocation row(String user) {
        return new RevocationStore.Revocation(0, "token", user, "t-" + user, null, 1, System.currentTimeMillis() + 60_000);
    }
}
