package dev.parley.chat;

import dev.parley.auth.TokenService;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.store.BotStore;
import dev.parley.store.Database;
import dev.parley.store.RevocationStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A revoked API key stays refused after its revocation expires, and the revocation does expire: a
 * node no longer keeps every key ever revoked, in memory and in the store, for good (found by
 * review). The key's row, revoked, refuses it once the node's cache of it has run out.
 */
class KeyRevocationTest {
    private static final TokenService.Identity ROOT = new TokenService.Identity("root", Instant.now().plusSeconds(3600));

    private final AtomicLong now = new AtomicLong(1_800_000_000_000L);
    private Vertx vertx;
    private Database db;
    private RevocationStore revocations;
    private Sessions sessions;
    private Bots bots;

    @BeforeEach
    void open() {
        vertx = Vertx.vertx();
        db = new Database("jdbc:h2:mem:key-revocation;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1", "", "", 2);
        revocations = new RevocationStore(db);
        sessions = new Sessions(vertx, revocations, now::get);
        bots = new Bots(vertx, new Limits(ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, "unused"))), new BotStore(db), sessions,
                "root"::equals, now::get);
    }

    @AfterEach
    void close() {
        db.close();
        vertx.close();
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void a_revoked_key_is_refused_after_its_revocation_has_expired_and_been_forgotten() throws Exception {
        Bots.Created made = await(bots.create(ROOT, "deploybot", bots.scope(List.of("ops"), List.of("read"))));
        String key = made.key().key();
        assertThat(await(bots.authenticate(key))).as("a fresh key").isPresent(); // now cached

        await(bots.revoke(ROOT, "deploybot", made.key().info().id(), false));
        assertThat(await(bots.authenticate(key))).as("just revoked").isEmpty();

        now.addAndGet(Bots.REVOCATION_MILLIS + 1);
        sessions.cleanup(); // forgets expired revocations, here and in the store
        assertThat(revocations.unexpired(now.get())).as("the revocation is gone from the store").isEmpty();
        assertThat(await(bots.authenticate(key))).as("still refused: by the key's row").isEmpty();
    }

    @Test
    void a_key_in_use_is_read_again_once_its_cache_runs_out() throws Exception {
        Bots.Created made = await(bots.create(ROOT, "readbot", bots.scope(List.of("ops"), List.of("read"))));
        String key = made.key().key();
        assertThat(await(bots.authenticate(key))).isPresent();
        now.addAndGet(Bots.CACHE_MILLIS + 1);
        assertThat(await(bots.authenticate(key))).as("read again, and still good").isPresent();
    }
}
