package dev.parley.chat;

import dev.parley.auth.LoginThrottle;
import dev.parley.auth.PasswordHasher;
import dev.parley.auth.TokenService;
import dev.parley.store.RevocationStore.Revocation;
import dev.parley.store.UserStore;
import io.vertx.core.Future;

import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * The account use cases of PROTOCOL.md 3.2 past sign-up and login: log out (one token or all),
 * change the password, disable an account (admins), delete one's own. Each revokes sessions through
 * {@link Sessions}, stored before it answers, so that every node refuses the tokens within a second.
 * A password is checked under the login throttle: these routes are no way around it.
 */
public final class Accounts {
    private final Limits limits;
    private final UserStore users;
    private final Sessions sessions;
    private final PasswordHasher hasher;
    private final TokenService tokens;
    private final LoginThrottle throttle;
    private final String dummyHash;
    private final Duration tokenTtl;
    private final Set<String> admins;
    private final Function<Callable<?>, Future<?>> blocking;

    Accounts(Limits limits, UserStore users, Sessions sessions, PasswordHasher hasher, TokenService tokens, LoginThrottle throttle,
             String dummyHash, Duration tokenTtl, Collection<String> admins, Function<Callable<?>, Future<?>> blocking) {
        this.limits = requireNonNull(limits, "limits");
        this.users = requireNonNull(users, "users");
        this.sessions = requireNonNull(sessions, "sessions");
        this.hasher = requireNonNull(hasher, "hasher");
        this.tokens = requireNonNull(tokens, "tokens");
        this.throttle = requireNonNull(throttle, "throttle");
        this.dummyHash = requireNonNull(dummyHash, "dummyHash");
        this.tokenTtl = requireNonNull(tokenTtl, "tokenTtl");
        this.admins = admins.stream().map(Sessions::key).collect(Collectors.toUnmodifiableSet());
        this.blocking = requireNonNull(blocking, "blocking");
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
            limits.password(next);
            throttled(id.username());
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return run(() -> {
            checkPassword(id.username(), current);
            long now = System.currentTimeMillis();
            Revocation r = new Revocation(0, Sessions.SESSIONS, id.username(), null, id.tokenId(), now, sessionsExpiry(id, now));
            Optional<Revocation> stored = users.setPassword(id.username(), hasher.hash(next), r);
            if (stored.isEmpty()) throw wrongPassword(); // deleted meanwhile
            sessions.applied(stored.get());
            return tokens.issue(id.username(), stored.get().epoch()); // of the new epoch: not refused by its own change
        });
    }

    /** Deletes the caller's account, after checking its password: see {@link UserStore#delete}. */
    public Future<Void> delete(TokenService.Identity id, String password) {
        try {
            if (password == null) throw ChatException.badRequest("password must be a string");
            throttled(id.username());
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return run(() -> {
            checkPassword(id.username(), password);
            long now = System.currentTimeMillis();
            Revocation r = new Revocation(0, Sessions.DELETE, id.username(), null, null, now, sessionsExpiry(id, now));
            Optional<Long> stored = users.delete(id.username(), r);
            if (stored.isEmpty()) throw wrongPassword();
            sessions.applied(r.withId(stored.get()));
            return null;
        });
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
    private void throttled(String username) {
        long wait = throttle.attempt(username);
        if (wait > 0) {
            throw new ChatException(ErrorCode.RATE_LIMITED,
                    "too many attempts at the password of " + username + "; try again in " + wait + " s");
        }
    }

    /** Blocking: bcrypt, against a dummy hash when there is no password to check (as login does, for the timing). */
    private void checkPassword(String username, String password) {
        Optional<UserStore.User> user = users.find(username).filter(u -> !u.deleted());
        boolean ok = hasher.verify(password, user.map(UserStore.User::passwordHash).orElse(dummyHash));
        if (user.isEmpty() || !ok) throw wrongPassword();
        throttle.succeeded(username);
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
}
