package dev.parley.chat;

import dev.parley.auth.LoginThrottle;
import dev.parley.auth.PasswordHasher;
import dev.parley.auth.TokenService;
import dev.parley.store.RevocationStore.Revocation;
import dev.parley.store.UserStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * The account use cases of PROTOCOL.md 3.2: register, log in, log out (one token or all), change the
 * password, disable an account (admins), delete one's own; and the accounts of an identity
 * provider's users. Revocations go through {@link Sessions}, stored before the answer, so that every
 * node refuses the tokens within a second.
 *
 * <p>Every password is validated, then counted by the {@link LoginThrottle}, and only then checked
 * or hashed, on the password pool ({@code hashing}: a few threads and a bounded queue, which
 * refuses with {@code unavailable} when full). A flood of logins thus costs a bounded share of the
 * CPU and no memory beyond the queue, and is refused rather than queued behind everyone's joins.
 *
 * <p>An identity provider's user gets an account on their first sign-in here ({@link #linked}): a
 * row without a password, owned by the provider's issuer, which reserves the name against a local
 * registration. A provider's token for a name registered here with a password is refused: the
 * provider's user of that name is someone else.
 */
public final class Accounts {
    private static final Logger log = LoggerFactory.getLogger(Accounts.class);

    private final Vertx vertx;
    private final Limits limits;
    private final UserStore users;
    private final Sessions sessions;
    private final PasswordHasher hasher;
    private final TokenService tokens;
    private final LoginThrottle throttle;
    private final String dummyHash;
    private final Duration tokenTtl;
    private final Set<String> admins;
    private final boolean registrationOpen;
    private final Function<Callable<?>, Future<?>> blocking;
    private final Function<Callable<?>, Future<?>> hashing;
    /** Identity provider users' names (lowercase) already checked: true if linked to an account of the provider, false if the name is a local account's. */
    private final ConcurrentHashMap<String, Boolean> external = new ConcurrentHashMap<>();

    /**
     * @param blocking how JDBC work leaves the event loop (the shared worker pool)
     * @param hashing  how password work (bcrypt, with its JDBC) leaves it: the bounded password pool
     */
    Accounts(Vertx vertx, Limits limits, UserStore users, Sessions sessions, PasswordHasher hasher, TokenService tokens, LoginThrottle throttle,
             String dummyHash, Duration tokenTtl, Collection<String> admins, boolean registrationOpen,
             Function<Callable<?>, Future<?>> blocking, Function<Callable<?>, Future<?>> hashing) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.limits = requireNonNull(limits, "limits");
        this.users = requireNonNull(users, "users");
        this.sessions = requireNonNull(sessions, "sessions");
        this.hasher = requireNonNull(hasher, "hasher");
        this.tokens = requireNonNull(tokens, "tokens");
        this.throttle = requireNonNull(throttle, "throttle");
        this.dummyHash = requireNonNull(dummyHash, "dummyHash");
        this.tokenTtl = requireNonNull(tokenTtl, "tokenTtl");
        this.admins = admins.stream().map(Sessions::key).collect(Collectors.toUnmodifiableSet());
        this.registrationOpen = registrationOpen;
        this.blocking = requireNonNull(blocking, "blocking");
        this.hashing = requireNonNull(hashing, "hashing");
    }

    /**
     * Creates an account and answers a token for it. {@code address}: the client's, for the limit of
     * registrations per address (null: not counted).
     */
    public Future<TokenService.Issued> register(String username, String password, String address) {
        if (!registrationOpen) {
            return Future.failedFuture(new ChatException(ErrorCode.FORBIDDEN, "registration is closed on this server; ask its operator for an account"));
        }
        try {
            limits.newUsername(username); // a new name: no look-alike or invisible characters either
            limits.password(password);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        if (tokens.usesJwks() && isAdmin(username)) {
            // The identity provider issues that name: a local account of it would be its administrator here.
            return Future.failedFuture(new ChatException(ErrorCode.CONFLICT, "username " + username + " is reserved"));
        }
        return counted(throttle.register(address), null, "accounts registered from your address").compose(x -> hash(() -> {
            if (!users.create(username, limits.usernameKey(username), hasher.hash(password))) {
                throw new ChatException(ErrorCode.CONFLICT, "username " + username + " is taken");
            }
            return tokens.issue(username);
        }).onFailure(err -> {
            if (unserved(err)) throttle.registrationNotServed(address);
        }));
    }

    /** Exchanges a username and password for a token. {@code address}: the client's, for the limit per address (null: not counted). */
    public Future<TokenService.Issued> login(String username, String password, String address) {
        try {
            if (username == null || password == null) throw ChatException.badRequest("username and password are required");
            limits.username(username);
            limits.loginPassword(password);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return counted(throttle.login(username, address), "logins as " + username + " without the right password",
                "logins without the right password from your address").compose(x -> hash(() -> {
            // A deleted account is no account: its name stays taken, but nobody signs in as it; nor
            // as an identity provider's user, who has no password here.
            Optional<UserStore.User> user = users.find(username).filter(UserStore.User::hasPassword);
            // Verify against a dummy hash for unknown users too, so the answer takes as long either way.
            boolean ok = hasher.verify(password, user.map(UserStore.User::passwordHash).orElse(dummyHash));
            if (user.isEmpty() || !ok) throw new ChatException(ErrorCode.UNAUTHORIZED, "wrong username or password");
            throttle.succeeded(username, address);
            // Said only to whoever knows the password: the others learn nothing of the account.
            if (user.get().disabled()) throw new ChatException(ErrorCode.ACCOUNT_DISABLED, "the account " + user.get().username() + " is disabled");
            // Under the sessions epoch read with the hash it was checked against: a password change
            // committed meanwhile has moved the epoch on and refuses this token, whenever it is issued.
            return tokens.issue(user.get().username(), user.get().sessionEpoch());
        }).onFailure(err -> {
            if (unserved(err)) throttle.notServed(username, address);
        }));
    }

    /** A refusal of the server's own ({@code unavailable}: the password pool full, the database down): no password was tried. */
    private static boolean unserved(Throwable err) {
        return err instanceof ChatException ce && ce.code() == ErrorCode.UNAVAILABLE;
    }

    /**
     * Whether the identity may act here: always for this server's own tokens; for an identity
     * provider's, if its name is an account of that provider, which its first sign-in makes (so that
     * nobody registers the name afterwards), and never if the name is an account registered here
     * with a password. Blocking (JDBC) the first time a node sees a name; remembered after, since an
     * account never changes hands.
     */
    boolean linked(TokenService.Identity id) {
        if (!id.external()) return true;
        String key = Sessions.key(id.username());
        Boolean known = external.get(key);
        if (known != null) return known;
        String issuer = tokens.issuer();
        boolean linked = ownedBy(id.username(), issuer)
                .orElseGet(() -> users.createExternal(id.username(), issuer) || ownedBy(id.username(), issuer).orElse(false));
        external.put(key, linked);
        if (!linked) {
            log.warn("refused the identity provider's tokens for {}: that name is an account registered here with a password", id.username());
        }
        return linked;
    }

    /** Whether the account of that name belongs to {@code issuer}; empty if there is none. */
    private Optional<Boolean> ownedBy(String username, String issuer) {
        return users.find(username).map(u -> issuer.equals(u.issuer()));
    }

    /** Server-wide admins come from CHAT_ADMINS, by username in any case. */
    public boolean isAdmin(String username) {
        return admins.contains(Sessions.key(username));
    }

    /**
     * Revokes the token of {@code id}, or with {@code all} every token of its user issued until now. A
     * token of a browser session revokes the whole session: its refresh token and every access token
     * and connection of it, in every tab that shares the cookie.
     */
    public Future<Void> logout(TokenService.Identity id, boolean all) {
        long now = System.currentTimeMillis();
        Revocation r = all
                ? new Revocation(0, Sessions.SESSIONS, id.username(), null, null, now, sessionsExpiry(id, now))
                : !id.sessionId().isEmpty()
                ? new Revocation(0, Sessions.TOKEN, id.username(), Sessions.sessionKey(id.sessionId()), null, now, sessionsExpiry(id, now))
                : new Revocation(0, Sessions.TOKEN, id.username(), id.tokenId(), null, now, id.expiresAt().toEpochMilli());
        return run(() -> {
            sessions.revoke(r);
            return null;
        });
    }

    /**
     * Checks the current password, stores the new one and revokes every other session of the user
     * (the token of the request stays good, so the client's own connections go on), in one
     * transaction; answers a fresh token.
     */
    public Future<TokenService.Issued> changePassword(TokenService.Identity id, String current, String next) {
        try {
            if (current == null || next == null) throw ChatException.badRequest("current and new must be strings");
            limits.loginPassword(current);
            limits.password(next);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return throttled(id.username()).compose(x -> hash(() -> {
            checkPassword(id.username(), current);
            long now = System.currentTimeMillis();
            Revocation r = new Revocation(0, Sessions.SESSIONS, id.username(), null, id.tokenId(), now, sessionsExpiry(id, now));
            Optional<Revocation> stored = users.setPassword(id.username(), hasher.hash(next), r);
            if (stored.isEmpty()) throw wrongPassword(); // deleted meanwhile
            sessions.applied(stored.get());
            return tokens.issue(id.username(), stored.get().epoch()); // of the new epoch: not refused by its own change
        }).onFailure(err -> {
            if (unserved(err)) throttle.notServed(id.username(), null);
        }));
    }

    /** Deletes the caller's account, after checking its password: see {@link UserStore#delete}. */
    public Future<Void> delete(TokenService.Identity id, String password) {
        try {
            if (password == null) throw ChatException.badRequest("password must be a string");
            limits.loginPassword(password);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return throttled(id.username()).compose(x -> this.<Void>hash(() -> {
            checkPassword(id.username(), password);
            long now = System.currentTimeMillis();
            Revocation r = new Revocation(0, Sessions.DELETE, id.username(), null, null, now, sessionsExpiry(id, now));
            Optional<Long> stored = users.delete(id.username(), r);
            if (stored.isEmpty()) throw wrongPassword();
            sessions.applied(r.withId(stored.get()));
            return null;
        }).onFailure(err -> {
            if (unserved(err)) throttle.notServed(id.username(), null);
        }));
    }

    /** An admin disables (revoking every session) or enables an account. */
    public Future<Void> setDisabled(TokenService.Identity admin, String username, boolean disabled) {
        if (!isAdmin(admin.username())) {
            return Future.failedFuture(new ChatException(ErrorCode.FORBIDDEN, "only an administrator may disable or enable accounts"));
        }
        if (username == null || username.isBlank() || username.length() > TokenService.MAX_SUBJECT_LENGTH) {
            return Future.failedFuture(ChatException.notFound("no account " + username));
        }
        if (disabled && Sessions.key(username).equals(Sessions.key(admin.username()))) {
            return Future.failedFuture(ChatException.badRequest("an administrator cannot disable their own account"));
        }
        // One administrator whose token leaked must not lock the others out; taking a name out of
        // CHAT_ADMINS is the operator's call.
        if (disabled && isAdmin(username)) {
            return Future.failedFuture(ChatException.badRequest("an administrator cannot be disabled; remove " + username + " from CHAT_ADMINS first"));
        }
        long now = System.currentTimeMillis();
        Revocation r = new Revocation(0, disabled ? Sessions.DISABLE : Sessions.ENABLE, username, null, null, now,
                now + tokenTtl.toMillis());
        return run(() -> {
            Optional<Long> stored = users.setDisabled(username, disabled, r);
            if (stored.isEmpty()) throw ChatException.notFound("no account " + username);
            sessions.applied(r.withId(stored.get()));
            return null;
        });
    }

    /** The login throttle, counted against the account whose password is about to be checked. */
    private Future<Void> throttled(String username) {
        return counted(throttle.password(username), "attempts at the password of " + username, null);
    }

    /**
     * The throttle's verdict as a Future on this context: refused with {@code rate_limited} (too many
     * of what the username's or the address's count holds) or, when it cannot count, {@code unavailable};
     * both with a Retry-After.
     */
    private Future<Void> counted(CompletionStage<LoginThrottle.Refusal> verdict, String perUsername, String perAddress) {
        return Future.fromCompletionStage(verdict, vertx.getOrCreateContext()).<Void>compose(refused -> {
            if (refused == null) return Future.<Void>succeededFuture();
            long wait = refused.retryAfterSeconds();
            String again = "; try again in " + wait + " s";
            return Future.<Void>failedFuture(switch (refused.reason()) {
                case USERNAME -> new ChatException(ErrorCode.RATE_LIMITED, "too many " + perUsername + again, wait);
                case ADDRESS -> new ChatException(ErrorCode.RATE_LIMITED, "too many " + perAddress + again, wait);
                case FULL -> new ChatException(ErrorCode.UNAVAILABLE, "too many sign-ins under way to count them all" + again, wait);
            });
        });
    }

    /** Blocking: bcrypt, against a dummy hash when there is no password to check (as login does, for the timing). */
    private void checkPassword(String username, String password) {
        Optional<UserStore.User> user = users.find(username).filter(UserStore.User::hasPassword);
        boolean ok = hasher.verify(password, user.map(UserStore.User::passwordHash).orElse(dummyHash));
        if (user.isEmpty() || !ok) throw wrongPassword();
        throttle.succeeded(username, null);
    }

    private static ChatException wrongPassword() {
        // Not 401: the token is fine, and 401 tells a client to sign in again.
        return new ChatException(ErrorCode.FORBIDDEN, "the password is wrong");
    }

    /**
     * How long a cutoff must be kept: as long as any token issued before it may live, which for the
     * tokens this server issues is the token lifetime, and at least as long as the caller's token.
     */
    private long sessionsExpiry(TokenService.Identity id, long now) {
        return Math.max(now + tokenTtl.toMillis(), id.expiresAt().toEpochMilli());
    }

    @SuppressWarnings("unchecked")
    private <T> Future<T> run(Callable<T> work) {
        return (Future<T>) blocking.apply(work);
    }

    @SuppressWarnings("unchecked")
    private <T> Future<T> hash(Callable<T> work) {
        return (Future<T>) hashing.apply(work);
    }
}
