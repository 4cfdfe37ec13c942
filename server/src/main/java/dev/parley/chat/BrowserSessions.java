package dev.parley.chat;

import dev.parley.auth.TokenService;
import dev.parley.auth.UsedTickets;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Sessions for browsers (PROTOCOL.md 3.2 and 5), where no long-lived secret may sit in script-readable
 * storage or in a URL: a short access token the page keeps in memory, a refresh token in an HttpOnly
 * cookie that renews it, and single-use tickets that open WebSockets. Every token of a session
 * carries its id, by which a logout revokes them all ({@link Accounts#logout}); a "log out
 * everywhere", a password change and a disabled or deleted account refuse them as they refuse any
 * token of the user ({@link Sessions}). None of this reads the database: checking a refresh token or
 * a ticket costs what checking a bearer token costs, plus, in a cluster, one Redis command per ticket.
 */
public final class BrowserSessions {
    private final Vertx vertx;
    private final TokenService tokens;
    private final Sessions sessions;
    private final UsedTickets used;

    BrowserSessions(Vertx vertx, TokenService tokens, Sessions sessions, UsedTickets used) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.tokens = requireNonNull(tokens, "tokens");
        this.sessions = requireNonNull(sessions, "sessions");
        this.used = requireNonNull(used, "used");
    }

    /**
     * A browser session for whoever a sign-in (register, login, a password change) has just issued
     * {@code signedIn} to, of the same user and sessions epoch. That token is not handed out: every way
     * of signing in starts a browser session the same way, from the token it answers with.
     */
    public TokenService.Session start(TokenService.Issued signedIn) {
        TokenService.Identity id = tokens.verify(signedIn.token())
                .orElseThrow(() -> new IllegalStateException("a token this node has just issued does not verify"));
        return tokens.startSession(id.username(), id.sessionEpoch());
    }

    /**
     * Fresh tokens of the refresh token's session (see {@link TokenService#renew}), or {@code unauthorized}
     * for a refresh token that is missing, malformed, forged, expired or revoked. No I/O.
     */
    public TokenService.Session refresh(String refreshToken) {
        return renew(session(refreshToken).orElseThrow(BrowserSessions::unauthorized));
    }

    /** Fresh tokens of a session whose refresh token {@link #session} found good. No I/O. */
    public TokenService.Session renew(TokenService.Identity session) {
        return tokens.renew(session);
    }

    /** The identity of a refresh token that is still good (its session not ended nor revoked). No I/O. */
    public Optional<TokenService.Identity> session(String refreshToken) {
        return tokens.verifyRefresh(refreshToken).filter(sessions::valid);
    }

    /** A WebSocket ticket for the (verified, not revoked) access token {@code access}. */
    public TokenService.Issued ticket(TokenService.Identity access) {
        return tokens.ticket(access);
    }

    /**
     * The identity a ticket opens a connection as: that of the access token it was issued for, whose
     * expiry and revocation the connection then lives by. Empty for a ticket that is malformed, forged
     * or expired, used already (here or, in a cluster, on any node), or whose token has been revoked
     * since. Completes on the caller's context.
     */
    public Future<Optional<TokenService.Identity>> redeem(String ticket) {
        Optional<TokenService.Ticket> t = tokens.verifyTicket(ticket).filter(x -> sessions.valid(x.access()));
        if (t.isEmpty()) return Future.succeededFuture(Optional.empty());
        return Future.fromCompletionStage(used.claim(t.get().id(), t.get().expiresAt()), vertx.getOrCreateContext())
                .map(first -> first ? Optional.of(t.get().access()) : Optional.empty());
    }

    public static ChatException unauthorized() {
        return new ChatException(ErrorCode.UNAUTHORIZED, "no valid session: sign in again");
    }
}
