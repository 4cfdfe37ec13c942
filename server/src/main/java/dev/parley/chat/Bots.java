package dev.parley.chat;

import dev.parley.auth.TokenService;
import dev.parley.event.Ids;
import dev.parley.store.BotStore;
import dev.parley.store.LookAlikeException;
import dev.parley.store.RevocationStore.Revocation;
import dev.parley.work.Blocking;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Bots (PROTOCOL.md, "Server API and bots"): accounts an administrator makes, which act through the
 * HTTP API with API keys scoped to rooms and actions.
 *
 * <p>A key is {@code pk_} and 32 random bytes (base64url), so it is never taken for a JWT, and only
 * its SHA-256 is stored. A fast hash is right here, unlike for passwords: bcrypt's cost and salt are
 * there because people choose guessable passwords, and a stolen table of bcrypt hashes is still slow
 * to guess through; a guess at 256 random bits is hopeless at any speed, so a slow hash would only
 * make every API request cost tens of milliseconds of CPU (a lever for anyone sending keys), and a
 * salt would rule out finding the key by its hash with one indexed read.
 *
 * <p>A checked key is cached by its hash for {@link #CACHE_MILLIS}, so a request costs no database
 * read. A revocation is a row of the revocations table (a revoked token id {@code key:<id>}), which
 * {@link Sessions} applies on this node at once and every other node reads within its poll, under a
 * second; each use of a cached key asks {@link Sessions#valid}, which also refuses every key of a
 * disabled or deleted bot. The row expires {@link #REVOCATION_MILLIS} later, when no node can hold
 * the key cached from before it any more (a node cut off from the store that long has let it go and
 * reads the key's row, revoked, again); until this was so, every revoked key was kept on every node
 * for good.
 */
public final class Bots {
    private static final Logger log = LoggerFactory.getLogger(Bots.class);
    public static final String KEY_PREFIX = "pk_";
    /** {@code pk_} and 43 characters of base64url: 32 random bytes. */
    private static final Pattern KEY_SHAPE = Pattern.compile("pk_[A-Za-z0-9_-]{43}");
    /** The rooms one key may name, at most. */
    public static final int MAX_KEY_ROOMS = 100;
    static final int CACHED_KEYS = 10_000;
    /** How long a checked key is used without reading its row again. */
    static final long CACHE_MILLIS = 5 * 60_000;
    /** How long a key's revocation is kept: past the cache, with a margin for clocks and a slow poll. */
    static final long REVOCATION_MILLIS = CACHE_MILLIS + 10 * 60_000;
    /** A key's last use is written at most this often per node. */
    static final long USE_NOTED_EVERY_MILLIS = 60_000;

    /** What a key may do: post messages, read history and rooms, manage rooms and members. */
    public enum Action {
        POST, READ, MANAGE;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Action of(String s) {
            for (Action a : values()) if (a.wire().equals(s)) return a;
            throw ChatException.badRequest("actions must be of post, read and manage, not " + s);
        }
    }

    /** @param rooms the rooms a key may act in, or null for every room */
    public record Scope(List<String> rooms, Set<Action> actions) {
        public Scope {
            rooms = rooms == null ? null : List.copyOf(rooms);
            actions = Set.copyOf(actions);
        }

        /** Whether the key may do {@code action}, in {@code room} (null: no room in particular). */
        public boolean allows(Action action, String room) {
            if (!actions.contains(action)) return false;
            if (rooms == null) return true;
            if (room == null) return false; // a key of some rooms acts in those only
            for (String r : rooms) if (r.equals(room)) return true; // as the store names rooms: exactly
            return false;
        }

        String actionsColumn() {
            return String.join(",", actions.stream().sorted().map(Action::wire).toList());
        }
    }

    /** A key, as a request presents it: the bot it acts as, and its scope. */
    public record BotKey(String id, String bot, Scope scope, TokenService.Identity identity) {}

    /** A key as listed: never the key itself. */
    public record KeyInfo(String id, String bot, String prefix, Scope scope, long createdAt, Long lastUsedAt) {}

    /** A new key: the only time the key itself is told. */
    public record NewKey(KeyInfo info, String key) {}

    /** A bot account. */
    public record Bot(String name, long createdAt, boolean disabled) {}

    public record Created(Bot bot, NewKey key) {}

    private final Vertx vertx;
    private final Limits limits;
    private final BotStore store;
    private final Sessions sessions;
    private final Predicate<String> isAdmin;
    private final SecureRandom random = new SecureRandom();
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    /** @param readAt when its row was about to be read: before any revocation the read did not see */
    private record Cached(BotKey key, long readAt) {}
    private final ConcurrentHashMap<String, Long> usesNoted = new ConcurrentHashMap<>();
    private final LongSupplier clock;

    public Bots(Vertx vertx, Limits limits, BotStore store, Sessions sessions, Predicate<String> isAdmin, LongSupplier clock) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.clock = requireNonNull(clock, "clock");
        this.limits = requireNonNull(limits, "limits");
        this.store = requireNonNull(store, "store");
        this.sessions = requireNonNull(sessions, "sessions");
        this.isAdmin = requireNonNull(isAdmin, "isAdmin");
    }

    /** Whether a bearer credential is an API key (else it is a token for TokenService). */
    public static boolean isKey(String credential) {
        return credential != null && credential.startsWith(KEY_PREFIX);
    }

    /**
     * The key's bot and scope, or empty for a malformed, unknown or revoked key, or one of a disabled
     * or deleted bot. A key seen before costs no I/O.
     */
    public Future<Optional<BotKey>> authenticate(String key) {
        if (key == null || !KEY_SHAPE.matcher(key).matches()) return Future.succeededFuture(Optional.empty());
        String hash = hash(key);
        Cached cached = cache.get(hash);
        if (cached != null && clock.getAsLong() - cached.readAt() < CACHE_MILLIS) return Future.succeededFuture(checked(cached.key()));
        return Blocking.run(vertx, () -> {
            long readAt = clock.getAsLong();
            Optional<BotStore.Key> row = store.byHash(hash).filter(k -> k.revokedAt() == null);
            if (row.isEmpty()) {
                cache.remove(hash);
                return Optional.<BotKey>empty();
            }
            BotStore.Key k = row.get();
            BotKey found = new BotKey(k.id(), k.bot(), scope(k), identity(k.bot(), k.id()));
            if (cache.size() >= CACHED_KEYS) cache.clear(); // bounded; at worst one read more per key
            cache.put(hash, new Cached(found, readAt));
            return checked(found);
        }).recover(ChatService::translate);
    }

    private Optional<BotKey> checked(BotKey k) {
        if (!sessions.valid(k.identity())) return Optional.empty();
        long now = clock.getAsLong();
        Long noted = usesNoted.get(k.id());
        if (noted == null || now - noted >= USE_NOTED_EVERY_MILLIS) {
            if (usesNoted.size() >= CACHED_KEYS) usesNoted.clear();
            usesNoted.put(k.id(), now);
            Blocking.run(vertx, () -> {
                store.used(k.id(), now);
                return null;
            }).onFailure(err -> log.debug("could not note the use of key {}: {}", k.id(), err.toString()));
        }
        return Optional.of(k);
    }

    /**
     * The identity a key acts under: its token id {@code key:<id>} is what a revocation names, and it
     * is older than no cutoff (a bot has no sessions to log out of, nor a password to change), so
     * only a revocation of the key, or the bot's account being disabled or deleted, refuses it.
     */
    private static TokenService.Identity identity(String bot, String keyId) {
        return new TokenService.Identity(bot, Instant.MAX, tokenId(keyId), Long.MAX_VALUE, Long.MAX_VALUE);
    }

    static String tokenId(String keyId) {
        return "key:" + keyId;
    }

    // --- administration (server admins only) ---

    /** Makes a bot account and its first key. */
    public Future<Created> create(TokenService.Identity admin, String name, Scope scope) {
        try {
            admin(admin);
            limits.newUsername(name);
            valid(scope);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        if (isAdmin.test(name)) return Future.failedFuture(new ChatException(ErrorCode.CONFLICT, "username " + name + " is reserved"));
        return blocking(() -> {
            Issued k = issue(name, scope);
            boolean made;
            try {
                made = store.create(name, limits.usernameKey(name), k.row(), k.hash());
            } catch (LookAlikeException e) {
                throw ChatService.lookAlike(e);
            }
            if (!made) throw new ChatException(ErrorCode.CONFLICT, "username " + name + " is taken");
            return new Created(new Bot(name, k.row().createdAt(), false), k.created());
        });
    }

    public Future<List<Bot>> list(TokenService.Identity admin) {
        try {
            admin(admin);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> store.bots().stream().map(b -> new Bot(b.name(), b.createdAt(), b.disabled())).toList());
    }

    /** The bot's working keys: ids, prefixes and scopes, never a key. */
    public Future<List<KeyInfo>> keys(TokenService.Identity admin, String bot) {
        try {
            admin(admin);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            existing(bot);
            List<KeyInfo> out = new ArrayList<>();
            for (BotStore.Key k : store.keys(bot)) out.add(info(k));
            return out;
        });
    }

    /** Another key for the bot (to rotate without a gap: add one, deploy it, revoke the old). */
    public Future<NewKey> addKey(TokenService.Identity admin, String bot, Scope scope) {
        try {
            admin(admin);
            valid(scope);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            Issued k = issue(existing(bot).name(), scope);
            store.addKey(k.row(), k.hash());
            return k.created();
        });
    }

    /** Revokes a key on every node; with {@code rotate}, issues in the same transaction a key of the same scope. */
    public Future<NewKey> revoke(TokenService.Identity admin, String bot, String keyId, boolean rotate) {
        try {
            admin(admin);
            if (keyId == null || keyId.isEmpty() || keyId.length() > 32) throw ChatException.notFound("no key " + keyId);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            String name = existing(bot).name();
            BotStore.Key old = null;
            for (BotStore.Key k : store.keys(name)) if (k.id().equals(keyId)) old = k;
            if (old == null) throw ChatException.notFound("no key " + keyId + " of " + name);
            Issued next = rotate ? issue(name, scope(old)) : null;
            long now = clock.getAsLong();
            // Kept while a node may still hold the key cached from before; after that the key's row,
            // revoked, refuses it.
            Revocation r = new Revocation(0, Sessions.TOKEN, name, tokenId(keyId), null, now, now + REVOCATION_MILLIS);
            Optional<Long> id = store.revoke(name, keyId, now, r, next == null ? null : next.row(), next == null ? null : next.hash());
            if (id.isEmpty()) throw ChatException.notFound("no key " + keyId + " of " + name);
            sessions.applied(r.withId(id.get()));
            return next == null ? null : next.created();
        });
    }

    private record Issued(BotStore.Key row, String hash, NewKey created) {}

    private Issued issue(String bot, Scope scope) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String key = KEY_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        long now = clock.getAsLong();
        BotStore.Key row = new BotStore.Key(Ids.next(now), bot, key.substring(0, 11), scope.rooms(), scope.actionsColumn(), now, null, null);
        return new Issued(row, hash(key), new NewKey(info(row), key));
    }

    private static KeyInfo info(BotStore.Key k) {
        return new KeyInfo(k.id(), k.bot(), k.prefix(), scope(k), k.createdAt(), k.lastUsedAt());
    }

    private static Scope scope(BotStore.Key k) {
        Set<Action> actions = EnumSet.noneOf(Action.class);
        for (String a : k.actions().split(",")) if (!a.isEmpty()) actions.add(Action.of(a));
        return new Scope(k.rooms(), actions);
    }

    /** A scope as a request gives it; {@code rooms} null means every room, {@code actions} null post and read. */
    public Scope scope(List<String> rooms, List<String> actions) {
        Set<Action> a = EnumSet.noneOf(Action.class);
        if (actions == null) {
            a.add(Action.POST);
            a.add(Action.READ);
        } else {
            for (String s : actions) a.add(Action.of(s));
        }
        List<String> r = null;
        if (rooms != null) {
            LinkedHashSet<String> distinct = new LinkedHashSet<>();
            for (String room : rooms) distinct.add(limits.room(room));
            r = List.copyOf(distinct);
        }
        Scope s = new Scope(r, a);
        valid(s);
        return s;
    }

    private static void valid(Scope s) {
        if (s.actions().isEmpty()) throw ChatException.badRequest("actions must name at least one of post, read and manage");
        if (s.rooms() != null && (s.rooms().isEmpty() || s.rooms().size() > MAX_KEY_ROOMS)) {
            throw ChatException.badRequest("rooms must be \"*\" or a list of 1 to " + MAX_KEY_ROOMS + " room names");
        }
    }

    private void admin(TokenService.Identity id) {
        if (id == null || !isAdmin.test(id.username())) throw new ChatException(ErrorCode.FORBIDDEN, "only an administrator may manage bots");
    }

    /** The bot of that name; {@code not_found} for none (or an account that is no bot). Blocking. */
    private BotStore.Bot existing(String bot) {
        if (bot == null || bot.isEmpty() || bot.length() > 64) throw ChatException.notFound("no bot " + bot);
        return store.bot(bot).orElseThrow(() -> ChatException.notFound("no bot " + bot));
    }

    static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private <T> Future<T> blocking(java.util.concurrent.Callable<T> work) {
        return Blocking.run(vertx, work).recover(ChatService::translate);
    }
}
