package dev.parley.chat;

import dev.parley.auth.TokenService;
import dev.parley.store.Database;
import dev.parley.store.RevocationStore;
import dev.parley.store.RevocationStore.Revocation;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-memory side of revocations: which tokens a row refuses, and reading rows that become visible out of id order. */
class SessionsTest {
    private static final AtomicInteger DBS = new AtomicInteger();
    private static final long HOUR = 3_600_000;

    private Vertx vertx;
    private Database db;
    private Sessions sessions;
    private final List<String> notified = new ArrayList<>();

    @BeforeEach
    void open() {
        vertx = Vertx.vertx();
        db = new Database("jdbc:h2:mem:sessions-" + DBS.incrementAndGet() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1",
                "", "", 2);
        sessions = new Sessions(vertx, new RevocationStore(db), System::currentTimeMillis);
        sessions.onRevoked(notified::add);
    }

    @AfterEach
    void close() {
        db.close();
        vertx.close();
    }

    private static TokenService.Identity id(String user, String tokenId, long issuedAt) {
        return new TokenService.Identity(user, Instant.now().plusSeconds(3600), tokenId, issuedAt);
    }

    private static Revocation row(long id, String kind, String user, String tokenId, String keep, long cutoff) {
        return new Revocation(id, kind, user, tokenId, keep, cutoff, System.currentTimeMillis() + HOUR);
    }

    @Test
    void a_token_row_refuses_that_token_only() {
        sessions.caughtUp(List.of(row(1, Sessions.TOKEN, "Alice", "t1", null, 1000)));

        assertThat(sessions.valid(id("alice", "t1", 500))).isFalse();
        assertThat(sessions.valid(id("alice", "t2", 500))).isTrue();
        assertThat(notified).containsExactly("alice");
    }

    @Test
    void a_browser_sessions_row_refuses_every_token_of_that_session_and_no_other() {
        sessions.caughtUp(List.of(row(1, Sessions.TOKEN, "alice", Sessions.sessionKey("s1"), null, 1000)));

        Instant later = Instant.now().plusSeconds(600);
        assertThat(sessions.valid(new TokenService.Identity("alice", later, "access-1", 500, 0, "s1"))).isFalse();
        assertThat(sessions.valid(new TokenService.Identity("alice", later, "refresh-2", 5000, 0, "s1"))).as("issued after: the session is over").isFalse();
        assertThat(sessions.valid(new TokenService.Identity("alice", later, "access-3", 500, 0, "s2"))).isTrue();
        assertThat(sessions.valid(id("alice", "bearer", 500))).isTrue();
    }

    @Test
    void a_sessions_row_refuses_tokens_issued_before_its_cutoff_but_the_one_it_keeps_in_any_letter_case() {
        sessions.caughtUp(List.of(row(1, Sessions.SESSIONS, "alice", null, "kept", 1000)));

        assertThat(sessions.valid(id("ALICE", "old", 999))).isFalse();
        assertThat(sessions.valid(id("alice", "kept", 999))).isTrue();
        assertThat(sessions.valid(id("alice", "new", 1000))).as("issued at the cutoff: after it").isTrue();
        assertThat(sessions.valid(id("bob", "other", 1))).isTrue();
    }

    @Test
    void the_latest_cutoff_wins_whatever_order_the_rows_come_in() {
        sessions.caughtUp(List.of(row(2, Sessions.SESSIONS, "alice", null, null, 2000), row(1, Sessions.SESSIONS, "alice", null, "kept", 1000)));

        assertThat(sessions.valid(id("alice", "kept", 1500))).as("kept by the older row, revoked by the newer").isFalse();
        assertThat(sessions.valid(id("alice", "later", 2500))).isTrue();
    }

    @Test
    void a_password_changes_row_refuses_the_tokens_of_older_epochs_whenever_they_were_issued() {
        sessions.caughtUp(List.of(new Revocation(1, Sessions.SESSIONS, "alice", null, "kept", 1000, System.currentTimeMillis() + HOUR, 3)));

        assertThat(sessions.valid(new TokenService.Identity("alice", Instant.now().plusSeconds(60), "raced", 5000, 2)))
                .as("issued after the cutoff, under the old epoch").isFalse();
        assertThat(sessions.valid(new TokenService.Identity("alice", Instant.now().plusSeconds(60), "new", 5000, 3))).isTrue();
        assertThat(sessions.valid(new TokenService.Identity("alice", Instant.now().plusSeconds(60), "kept", 500, 2)))
                .as("the token the change kept").isTrue();
    }

    @Test
    void disabling_and_enabling_are_ordered_by_row_not_by_the_clocks_of_the_nodes_that_wrote_them() {
        // Enabled on a node whose clock runs 3 s ahead, then disabled on another: the later row wins.
        sessions.caughtUp(List.of(row(1, Sessions.ENABLE, "bob", null, null, 8000), row(2, Sessions.DISABLE, "bob", null, null, 5000)));

        assertThat(sessions.valid(id("bob", "t", 9000))).as("disabled: the row written last").isFalse();
    }

    @Test
    void a_disabled_account_refuses_every_token_until_it_is_enabled_and_those_revoked_stay_revoked() {
        sessions.caughtUp(List.of(row(1, Sessions.DISABLE, "alice", null, null, 1000)));
        assertThat(sessions.valid(id("alice", "later", 5000))).isFalse();

        sessions.caughtUp(List.of(row(2, Sessions.ENABLE, "alice", null, null, 2000)));
        assertThat(sessions.valid(id("alice", "later", 5000))).isTrue();
        assertThat(sessions.valid(id("alice", "old", 500))).isFalse();
    }

    @Test
    void a_row_that_becomes_visible_after_a_higher_id_is_applied_and_reading_waits_for_it() {
        sessions.caughtUp(List.of(row(1, Sessions.TOKEN, "a", "t1", null, 1), row(3, Sessions.TOKEN, "c", "t3", null, 1)));
        assertThat(sessions.watermark()).as("2 is missing: the next read starts after 1").isEqualTo(1);

        // The next read, after 1, sees 2 now, and 3 again, which is not applied twice.
        sessions.caughtUp(List.of(row(2, Sessions.TOKEN, "b", "t2", null, 1), row(3, Sessions.TOKEN, "c", "t3", null, 1)));

        assertThat(sessions.watermark()).isEqualTo(3);
        assertThat(sessions.valid(id("b", "t2", 0))).isFalse();
        assertThat(notified).containsExactly("a", "c", "b");
    }

    @Test
    void an_id_that_never_comes_is_given_up_on_after_the_wait() {
        sessions.gapWaitNanos = 0;
        sessions.caughtUp(List.of(row(2, Sessions.TOKEN, "b", "t2", null, 1)));

        assertThat(sessions.watermark()).isEqualTo(2);
    }

    @Test
    void a_revocation_stored_here_is_applied_at_once_and_not_again_when_read_back() {
        sessions.revoke(row(0, Sessions.TOKEN, "alice", "t1", null, 1));
        assertThat(sessions.valid(id("alice", "t1", 0))).isFalse();

        sessions.caughtUp(new RevocationStore(db).after(0, 100));

        assertThat(notified).containsExactly("alice");
        assertThat(sessions.watermark()).isEqualTo(1);
    }

    @Test
    void what_has_expired_is_forgotten_in_memory_and_purged_from_the_store() {
        long now = System.currentTimeMillis();
        RevocationStore store = new RevocationStore(db);
        sessions.revoke(new Revocation(0, Sessions.TOKEN, "alice", "gone", null, now - 2 * HOUR, now - HOUR));
        sessions.revoke(new Revocation(0, Sessions.TOKEN, "alice", "live", null, now, now + HOUR));
        sessions.revoke(new Revocation(0, Sessions.SESSIONS, "bob", null, null, now - 2 * HOUR, now - HOUR));

        sessions.cleanup();

        assertThat(store.after(0, 100)).extracting(Revocation::tokenId).containsExactly("live");
        // A token past its expiry is refused anyway: forgetting its revocation lets nothing in.
        assertThat(sessions.valid(id("alice", "gone", 0))).isTrue();
        assertThat(sessions.valid(id("alice", "live", 0))).isFalse();
        assertThat(sessions.valid(id("bob", "any", 0))).isTrue();
        assertThat(store.unexpired(now)).extracting(Revocation::tokenId).containsExactly("live");
    }
}
