package dev.parley.chat;

import dev.parley.auth.TokenService;
import dev.parley.store.RevocationStore;
import dev.parley.store.RevocationStore.Revocation;
import dev.parley.store.UserStore;
import dev.parley.work.Blocking;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Which verified tokens are still good: every revocation (logout, log out everywhere, password
 * change, disabled or deleted account) kept in memory, so that checking a token costs no database
 * read. The store ({@link RevocationStore}) is the source of truth: a node loads what has not
 * expired when it starts, applies its own revocations at once, and reads the rows other nodes
 * added every {@link #POLL_MILLIS} ms. That reaches every node within a second without the broker,
 * so revocations keep working while Redis is down.
 *
 * <p>Rows are read by increasing id. Ids are handed out when a row is inserted, not when it is
 * committed, so a row may become visible after one with a higher id: an id missing below one
 * already read is waited for, up to {@link #GAP_WAIT_NANOS}, before reading goes on past it (a
 * sequence may also skip an id for good, after a rollback).
 */
public final class Sessions {
    private static final Logger log = LoggerFactory.getLogger(Sessions.class);
    static final long POLL_MILLIS = 250;
    static final long GAP_WAIT_NANOS = 5_000_000_000L;
    private static final int POLL_LIMIT = 1000;
    /** Ticks between two clean-ups of what has expired, in memory and in the store (about a minute). */
    private static final int CLEANUP_TICKS = 240;

    static final String TOKEN = "token", SESSIONS = "sessions", DISABLE = "disable", ENABLE = "enable", DELETE = "delete";

    private final Vertx vertx;
    private final RevocationStore store;
    private final LongSupplier clock;
    /** Revoked token ids, with the expiry after which the token is refused anyway. */
    private final Map<String, Long> revokedTokens = new ConcurrentHashMap<>();
    /** Per user (lowercase): tokens issued before the cutoff are revoked, but the one kept. */
    private final Map<String, Cutoff> cutoffs = new ConcurrentHashMap<>();
    /**
     * Accounts (lowercase) disabled or deleted, and enabled again: every token of a refused one is
     * refused, whenever issued. The latest change wins, by its time and then its id, whatever order
     * the rows are applied in (this node's own and the poll's may cross).
     */
    private final Map<String, Refusal> refused = new ConcurrentHashMap<>();
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

    // Catch-up state, under this object's lock: the poll and local revocations both touch it.
    private long watermark; // every id up to here is applied or given up on
    private final TreeSet<Long> appliedAbove = new TreeSet<>();
    private final Map<Long, Long> gapSince = new HashMap<>();

    /** How long a missing id is waited for; tests shorten it. */
    long gapWaitNanos = GAP_WAIT_NANOS;
    private long timer = -1;
    private volatile boolean polling;
    private int ticks;
    private boolean storeDown;

    /** Tokens issued before {@code cutoff}, or under a sessions epoch below {@code epoch}, are refused; but {@code keepTokenId}. */
    private record Cutoff(long cutoff, String keepTokenId, long expiresAt, long epoch) {
        Cutoff merge(Cutoff other) {
            Cutoff later = cutoff >= other.cutoff ? this : other;
            return new Cutoff(later.cutoff, later.keepTokenId, Math.max(expiresAt, other.expiresAt), Math.max(epoch, other.epoch));
        }
    }

    private record Refusal(boolean refused, long at, long id) {
        /**
         * The one that happened last: by id, which for one account is commit order (the account's row
         * is locked from its UPDATE to the commit that inserts the row), never by the nodes' clocks.
         */
        Refusal later(Refusal other) {
            return id >= other.id ? this : other;
        }
    }

    public Sessions(Vertx vertx, RevocationStore store, LongSupplier clock) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.store = requireNonNull(store, "store");
        this.clock = requireNonNull(clock, "clock");
    }

    /**
     * Loads the disabled accounts and the revocations that still matter (blocking: call it before
     * the node serves), then reads new rows every {@link #POLL_MILLIS} ms.
     */
    public void start(UserStore users) {
        // The last id first: a revocation committed after it is read by the poll, one committed
        // before it is in what is read next (an account's flag and its row commit together).
        long last = store.lastId();
        for (String user : users.refused()) refused.put(user, new Refusal(true, 0, 0)); // older than any row the poll reads
        for (Revocation r : store.unexpired(clock.getAsLong())) apply(r, false);
        synchronized (this) {
            watermark = last;
        }
        timer = vertx.setPeriodic(POLL_MILLIS, id -> tick());
    }

    public void close() {
        if (timer >= 0) vertx.cancelTimer(timer);
    }

    /** Called with the user (lowercase) whose sessions a revocation touched, on any thread. */
    public void onRevoked(Consumer<String> listener) {
        listeners.add(listener);
    }

    /** Whether a verified token is still good. No I/O: it runs for every request and every WebSocket upgrade. */
    public boolean valid(TokenService.Identity id) {
        String user = id.username().toLowerCase(Locale.ROOT);
        Refusal r = refused.get(user);
        if (r != null && r.refused()) return false;
        if (!id.tokenId().isEmpty() && revokedTokens.containsKey(id.tokenId())) return false;
        if (!id.sessionId().isEmpty() && revokedTokens.containsKey(sessionKey(id.sessionId()))) return false;
        Cutoff c = cutoffs.get(user);
        if (c == null || id.tokenId().equals(c.keepTokenId())) return true;
        // The epoch, not the clock, decides for a login that raced a password change: it read the old
        // hash, so it carries the old epoch, whenever its token was issued.
        return id.issuedAtMillis() >= c.cutoff() && id.sessionEpoch() >= c.epoch();
    }

    /** Stores a revocation and applies it on this node at once (blocking). */
    void revoke(Revocation r) {
        applied(r.withId(store.add(r)));
    }

    /** A revocation stored (by {@link UserStore}, with an account change): applies it on this node at once. */
    void applied(Revocation stored) {
        apply(stored, true);
        synchronized (this) {
            if (stored.id() > watermark) appliedAbove.add(stored.id());
        }
    }

    private void apply(Revocation r, boolean live) {
        switch (r.kind()) {
            case TOKEN -> revokedTokens.merge(r.tokenId(), r.expiresAt(), Math::max);
            case ENABLE -> {
                if (live) refused.merge(r.username(), new Refusal(false, r.cutoff(), r.id()), Refusal::later);
            }
            default -> { // SESSIONS, DISABLE, DELETE
                cutoffs.merge(r.username(), new Cutoff(r.cutoff(), r.keepTokenId(), r.expiresAt(), r.epoch()), Cutoff::merge);
                // At start the accounts' own flags say who is refused: an old 'disable' row may
                // have been followed by an 'enable' that expired sooner.
                if (live && !SESSIONS.equals(r.kind())) refused.merge(r.username(), new Refusal(true, r.cutoff(), r.id()), Refusal::later);
            }
        }
        if (live) {
            for (Consumer<String> l : listeners) {
                try {
                    l.accept(r.username());
                } catch (RuntimeException e) {
                    log.error("a revocation listener failed", e);
                }
            }
        }
    }

    private void tick() {
        if (polling) return; // the previous read is still running (a slow or unreachable store)
        polling = true;
        boolean cleanup = ++ticks % CLEANUP_TICKS == 0;
        long after;
        synchronized (this) {
            after = watermark;
        }
        Blocking.run(vertx, () -> {
            List<Revocation> rows = store.after(after, POLL_LIMIT);
            caughtUp(rows);
            if (cleanup) cleanup();
            return rows.size();
        }).onComplete(ar -> {
            polling = false;
            if (ar.failed() && !storeDown) {
                storeDown = true;
                log.warn("cannot read revocations from the store; retrying every {} ms: {}", POLL_MILLIS, ar.cause().toString());
            } else if (ar.succeeded() && storeDown) {
                storeDown = false;
                log.info("reading revocations from the store again");
            }
        });
    }

    /** Every id up to this one is applied or given up on: the next read starts after it. */
    synchronized long watermark() {
        return watermark;
    }

    /** Applies the rows not applied yet and moves the watermark over what is contiguous (or waited for long enough). */
    void caughtUp(List<Revocation> rows) {
        for (Revocation r : rows) {
            boolean fresh;
            synchronized (this) {
                fresh = r.id() > watermark && appliedAbove.add(r.id());
            }
            if (fresh) apply(r, true);
        }
        long now = System.nanoTime();
        synchronized (this) {
            while (!appliedAbove.isEmpty()) {
                long next = watermark + 1;
                if (appliedAbove.remove(next)) {
                    watermark = next;
                    gapSince.remove(next);
                    continue;
                }
                long since = gapSince.computeIfAbsent(next, k -> now);
                if (now - since < gapWaitNanos) break;
                watermark = next; // an id skipped for good
                gapSince.remove(next);
            }
        }
    }

    /** Forgets what has expired, here and in the store (any node may purge; a row purged twice is no harm). */
    void cleanup() {
        long now = clock.getAsLong();
        revokedTokens.values().removeIf(exp -> exp < now);
        cutoffs.values().removeIf(c -> c.expiresAt() < now);
        int purged = store.purge(now - 60_000);
        if (purged > 0) log.debug("purged {} expired revocations", purged);
    }

    /**
     * A browser session's revocation is kept as a revoked token id with a colon, which no token id
     * is (TokenService.tokenId: ours are UUIDs, and any other with a colon is hashed).
     */
    static String sessionKey(String sessionId) {
        return "sid:" + sessionId;
    }

    /** Lowercase, as the maps are keyed. */
    static String key(String username) {
        return username.toLowerCase(Locale.ROOT);
    }
}
