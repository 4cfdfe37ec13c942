package dev.parley.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;

import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static java.util.Objects.requireNonNull;

/**
 * Issues HS256 tokens and verifies them, plus RS256/ES256 tokens of an identity provider when a
 * JWKS URL is configured. A token is valid with a signature we trust, a {@code sub} of at most
 * {@link #MAX_SUBJECT_LENGTH} characters, and an {@code exp} in the future; an identity provider's
 * token also with the configured {@code iss} and an {@code aud} that holds the configured audience
 * (else a token the provider signed for another application would sign in here). Anything else is
 * rejected the same way.
 *
 * <p>Our own tokens are of three {@link Kind}s, told apart by their {@code typ} claim and never taken
 * one for another: access tokens (the bearer tokens of every client), refresh tokens (the web
 * client's cookie, PROTOCOL.md 3.2) and WebSocket tickets (PROTOCOL.md 5). A browser session's
 * access and refresh tokens carry its id ({@code sid}), by which a logout revokes all of them.
 *
 * <p>Over 400 lines: issuing and verifying the three kinds and the outside identity provider's tokens
 * share the claim checks, which must not differ between them.
 */
public final class TokenService {
    /**
     * The longest {@code sub} accepted. It is stored as the sender of every message, in a column of
     * this width (users.username and messages.sender in V1__init.sql): a longer one, which an identity
     * provider may issue, fails the INSERT and with it the whole group commit, other users' messages
     * included.
     */
    public static final int MAX_SUBJECT_LENGTH = 64;
    /** How far a token's {@code nbf} may lie ahead of this node's clock. */
    static final Duration NOT_BEFORE_LEEWAY = Duration.ofSeconds(60);

    private final byte[] secret;
    private final MACSigner signer;
    private final MACVerifier verifier;
    private final Duration ttl;
    private final Duration accessTtl;
    private final Clock clock;
    private final DefaultJWTProcessor<SecurityContext> jwksProcessor;
    private final String issuer;

    /** The private claim with the issue time in milliseconds: {@code iat} has whole seconds only. */
    static final String ISSUED_MILLIS = "iat_ms";
    /** The account's sessions epoch the token was issued under (UserStore.User#sessionEpoch); only our own tokens carry it. */
    static final String SESSION_EPOCH = "parley_sep";
    /** The longest token id kept as it is; a longer {@code jti} (an identity provider's) is hashed. */
    static final int MAX_TOKEN_ID_LENGTH = 64;

    /** The claim that says what one of our tokens is for. */
    static final String KIND = "typ";
    /** The claim with a browser session's id, on its access and refresh tokens. */
    static final String SESSION_ID = "sid";
    /**
     * A ticket's claims about the access token it was issued for: its id, expiry (epoch ms), issue time
     * (epoch ms), and whether an identity provider issued it.
     */
    static final String ACCESS_ID = "ati", ACCESS_EXPIRES = "aexp_ms", ACCESS_ISSUED = "aiat_ms", ACCESS_EXTERNAL = "aext";
    /** How long a WebSocket ticket is good for: long enough to open a socket over a slow link, too short to be worth stealing. */
    public static final Duration TICKET_TTL = Duration.ofSeconds(30);
    /** The access tokens of browser sessions live this long unless told otherwise (CHAT_ACCESS_TOKEN_TTL). */
    public static final Duration DEFAULT_ACCESS_TTL = Duration.ofMinutes(10);

    /**
     * What a token of ours is for. A token without a {@code typ} (one issued before tokens had kinds,
     * or any identity provider's, whose claims are not ours to read) is an access token.
     */
    public enum Kind {
        /** A bearer token: HTTP and WebSocket. */
        ACCESS("access"),
        /** A browser session's refresh token, in an HttpOnly cookie: only POST /api/auth/refresh and logout take it. */
        REFRESH("refresh"),
        /** A single-use WebSocket ticket, good for {@link #TICKET_TTL}: only the upgrade takes it. */
        TICKET("ticket");

        final String claim;

        Kind(String claim) {
            this.claim = claim;
        }

        static Optional<Kind> of(String claim) {
            if (claim == null) return Optional.of(ACCESS);
            for (Kind k : values()) if (k.claim.equals(claim)) return Optional.of(k);
            return Optional.empty();
        }
    }

    /**
     * A verified token: who, until when, which token ({@code jti}, or a hash of the token when it has
     * none, so that every token can be revoked), when it was issued (epoch milliseconds; 0 when the
     * token does not say, so that any revocation of its user's sessions catches it), and the browser
     * session it belongs to ("" for none: a bearer token).
     */
    public record Identity(String username, Instant expiresAt, String tokenId, long issuedAtMillis, long sessionEpoch, boolean external,
                           String sessionId) {
        public Identity {
            requireNonNull(sessionId, "sessionId");
        }

        public Identity(String username, Instant expiresAt) {
            this(username, expiresAt, "", 0, 0, false, "");
        }

        public Identity(String username, Instant expiresAt, String tokenId, long issuedAtMillis) {
            this(username, expiresAt, tokenId, issuedAtMillis, 0, false, "");
        }

        public Identity(String username, Instant expiresAt, String tokenId, long issuedAtMillis, long sessionEpoch) {
            this(username, expiresAt, tokenId, issuedAtMillis, sessionEpoch, false, "");
        }

        public Identity(String username, Instant expiresAt, String tokenId, long issuedAtMillis, long sessionEpoch, boolean external) {
            this(username, expiresAt, tokenId, issuedAtMillis, sessionEpoch, external, "");
        }

        /** A token of ours, of a browser session ({@code sessionId}) or not (""). */
        public Identity(String username, Instant expiresAt, String tokenId, long issuedAtMillis, long sessionEpoch, String sessionId) {
            this(username, expiresAt, tokenId, issuedAtMillis, sessionEpoch, false, sessionId);
        }
    }

    /** An issued token. */
    public record Issued(String token, String username, Instant expiresAt) {}

    /** A browser session's tokens: a short access token, and the refresh token whose expiry is the session's end. */
    public record Session(Issued access, Issued refresh) {}

    /** A verified WebSocket ticket: its id (single use is up to the caller), its expiry, and the access token it stands for. */
    public record Ticket(String id, Instant expiresAt, Identity access) {}

    private record Verified(Kind kind, JWTClaimsSet claims, Identity identity) {}

    /** Without an identity provider. */
    public TokenService(byte[] secret, Duration ttl, Clock clock) {
        this(secret, ttl, DEFAULT_ACCESS_TTL, null, null, null, clock);
    }

    /** Without an identity provider, with browser sessions' access tokens of {@code accessTtl}. */
    public TokenService(byte[] secret, Duration ttl, Duration accessTtl, Clock clock) {
        this(secret, ttl, accessTtl, null, null, null, clock);
    }

    public TokenService(byte[] secret, Duration ttl, String jwksUrl, String issuer, String audience, Clock clock) {
        this(secret, ttl, DEFAULT_ACCESS_TTL, jwksUrl, issuer, audience, clock);
    }

    /**
     * @param ttl       the lifetime of bearer tokens and of browser sessions (CHAT_TOKEN_TTL)
     * @param accessTtl the lifetime of a browser session's access tokens (CHAT_ACCESS_TOKEN_TTL), never past the session's end
     * @param jwksUrl   the identity provider's keys, or null for none; then {@code issuer} and
     *                  {@code audience} are required (ChatConfig says so to the operator first)
     */
    public TokenService(byte[] secret, Duration ttl, Duration accessTtl, String jwksUrl, String issuer, String audience, Clock clock) {
        this.secret = requireNonNull(secret, "secret").clone();
        this.ttl = requireNonNull(ttl, "ttl");
        this.accessTtl = requireNonNull(accessTtl, "accessTtl");
        this.clock = requireNonNull(clock, "clock");
        try {
            this.signer = new MACSigner(this.secret);
            this.verifier = new MACVerifier(this.secret);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("JWT secret must be at least 32 bytes", e);
        }
        boolean jwks = jwksUrl != null && !jwksUrl.isBlank();
        if (jwks && (issuer == null || issuer.isBlank() || audience == null || audience.isBlank())) {
            throw new IllegalArgumentException("an identity provider's tokens need an issuer and an audience to check");
        }
        this.issuer = jwks ? issuer : null;
        this.jwksProcessor = jwks ? jwksProcessor(jwksUrl, issuer, audience) : null;
    }

    public static TokenService hs256(String secret, Duration ttl) {
        return new TokenService(secret.getBytes(StandardCharsets.UTF_8), ttl, Clock.systemUTC());
    }

    /** The identity provider's issuer, or null when there is none. */
    public String issuer() {
        return issuer;
    }

    public Issued issue(String username) {
        return issue(username, 0);
    }

    /** A token of the account's sessions epoch {@code sessionEpoch} (read with the password hash it was checked against). */
    public Issued issue(String username, long sessionEpoch) {
        Instant now = clock.instant();
        Instant exp = now.plus(ttl).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        return issue(username, exp, sessionEpoch);
    }

    /** A token with the given expiry; tests use it for tokens that expire soon or already have. */
    public Issued issue(String username, Instant expiresAt) {
        return issue(username, expiresAt, 0);
    }

    public Issued issue(String username, Instant expiresAt, long sessionEpoch) {
        return sign(claims(username, Kind.ACCESS, expiresAt, sessionEpoch), username, expiresAt);
    }

    /** A new browser session of the account's sessions epoch, ending {@code CHAT_TOKEN_TTL} from now. */
    public Session startSession(String username, long sessionEpoch) {
        return startSession(username, sessionEpoch, clock.instant().plus(ttl).truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    /** A new browser session that ends at {@code end}; tests use it for sessions that end soon. */
    public Session startSession(String username, long sessionEpoch, Instant end) {
        return session(username, sessionEpoch, UUID.randomUUID().toString(), end);
    }

    /**
     * The session of a verified refresh token, with fresh tokens: a new access token and a new
     * refresh token (a new {@code jti}). The session's id and end stay: renewing does not make a
     * session outlive {@code CHAT_TOKEN_TTL}, so that revoking it by its id needs to be kept no longer.
     */
    public Session renew(Identity refresh) {
        return session(refresh.username(), refresh.sessionEpoch(), refresh.sessionId(), refresh.expiresAt());
    }

    private Session session(String username, long sessionEpoch, String sessionId, Instant end) {
        Instant accessEnd = clock.instant().plus(accessTtl).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        if (accessEnd.isAfter(end)) accessEnd = end;
        Issued access = sign(claims(username, Kind.ACCESS, accessEnd, sessionEpoch).claim(SESSION_ID, sessionId), username, accessEnd);
        Issued refresh = sign(claims(username, Kind.REFRESH, end, sessionEpoch).claim(SESSION_ID, sessionId), username, end);
        return new Session(access, refresh);
    }

    /**
     * A WebSocket ticket for a verified access token: good once, for {@link #TICKET_TTL} (and no longer
     * than the token). It carries what the connection needs of the token (its id, expiry, issue time,
     * epoch and session) so that the connection lives on that token, its expiry and its revocation, as
     * if the token itself had opened it; and it names no more than the token does.
     */
    public Issued ticket(Identity access) {
        Instant exp = clock.instant().plus(TICKET_TTL).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        if (exp.isAfter(access.expiresAt())) exp = access.expiresAt();
        JWTClaimsSet.Builder claims = claims(access.username(), Kind.TICKET, exp, access.sessionEpoch())
                .claim(ACCESS_ID, access.tokenId())
                .claim(ACCESS_EXPIRES, access.expiresAt().toEpochMilli())
                .claim(ACCESS_ISSUED, access.issuedAtMillis())
                .claim(ACCESS_EXTERNAL, access.external());
        if (!access.sessionId().isEmpty()) claims.claim(SESSION_ID, access.sessionId());
        return sign(claims, access.username(), exp);
    }

    private JWTClaimsSet.Builder claims(String username, Kind kind, Instant expiresAt, long sessionEpoch) {
        Instant now = clock.instant();
        // Milliseconds too: a password change revokes the sessions issued before it, and the token it
        // answers with, issued in the same second, must not be one of them.
        return new JWTClaimsSet.Builder()
                .subject(username)
                .claim(KIND, kind.claim)
                .issueTime(Date.from(now))
                .claim(ISSUED_MILLIS, now.toEpochMilli())
                .claim(SESSION_EPOCH, sessionEpoch)
                .expirationTime(Date.from(expiresAt))
                .jwtID(UUID.randomUUID().toString());
    }

    private Issued sign(JWTClaimsSet.Builder claims, String username, Instant expiresAt) {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("could not sign a token", e);
        }
        return new Issued(jwt.serialize(), username, expiresAt);
    }

    /**
     * An access token's identity.
     *
     * @return the identity, or empty for a missing, malformed, forged or expired token, or one of
     * another kind (a refresh token, a ticket). Blocking only when a JWKS is configured and its keys
     * are not cached yet.
     */
    public Optional<Identity> verify(String token) {
        return verified(token, false).filter(v -> v.kind() == Kind.ACCESS).map(Verified::identity);
    }

    /** A refresh token's identity (with its session's id and end), or empty as for {@link #verify}; never blocks. */
    public Optional<Identity> verifyRefresh(String token) {
        return verified(token, true).filter(v -> v.kind() == Kind.REFRESH && !v.identity().sessionId().isEmpty()).map(Verified::identity);
    }

    /** A ticket, or empty as for {@link #verify}; never blocks. Whether it was used already is not known here. */
    public Optional<Ticket> verifyTicket(String ticket) {
        return verified(ticket, true).filter(v -> v.kind() == Kind.TICKET).flatMap(v -> {
            try {
                JWTClaimsSet c = v.claims();
                String accessId = c.getStringClaim(ACCESS_ID);
                Long accessExpires = c.getLongClaim(ACCESS_EXPIRES), accessIssued = c.getLongClaim(ACCESS_ISSUED);
                Boolean external = c.getBooleanClaim(ACCESS_EXTERNAL);
                if (accessId == null || accessExpires == null || accessIssued == null || external == null) return Optional.empty();
                Identity access = new Identity(v.identity().username(), Instant.ofEpochMilli(accessExpires), accessId, accessIssued,
                        v.identity().sessionEpoch(), external, v.identity().sessionId());
                return Optional.of(new Ticket(v.identity().tokenId(), v.identity().expiresAt(), access));
            } catch (ParseException e) {
                return Optional.empty();
            }
        });
    }

    /** @param oursOnly only a token this server signed (refresh tokens and tickets are never an identity provider's), so never blocking */
    private Optional<Verified> verified(String token, boolean oursOnly) {
        if (token == null || token.isBlank() || token.length() > 8192) return Optional.empty();
        try {
            SignedJWT jwt = SignedJWT.parse(token);
            JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
            JWTClaimsSet claims;
            boolean external = !JWSAlgorithm.HS256.equals(alg);
            if (!external) {
                if (!jwt.verify(verifier)) return Optional.empty();
                claims = jwt.getJWTClaimsSet();
            } else if (!oursOnly && jwksProcessor != null && (JWSAlgorithm.Family.RSA.contains(alg) || JWSAlgorithm.Family.EC.contains(alg))) {
                claims = jwksProcessor.process(jwt, null);
            } else {
                return Optional.empty();
            }
            String sub = claims.getSubject();
            Date exp = claims.getExpirationTime();
            if (sub == null || sub.isBlank() || sub.length() > MAX_SUBJECT_LENGTH || exp == null) return Optional.empty();
            Instant expiresAt = exp.toInstant();
            Instant now = clock.instant();
            if (!expiresAt.isAfter(now)) return Optional.empty();
            // "Not before": an identity provider's clock may run a little ahead of ours, hence the leeway.
            Date nbf = claims.getNotBeforeTime();
            if (nbf != null && nbf.toInstant().isAfter(now.plus(NOT_BEFORE_LEEWAY))) return Optional.empty();
            // The kind, epoch and session only from our own tokens: an identity provider's claims are
            // not ours to read (Keycloak, for one, writes a typ of its own).
            Optional<Kind> kind = external ? Optional.of(Kind.ACCESS) : Kind.of(claims.getStringClaim(KIND));
            if (kind.isEmpty()) return Optional.empty();
            Long epoch = external ? null : claims.getLongClaim(SESSION_EPOCH);
            String sessionId = external ? null : claims.getStringClaim(SESSION_ID);
            Identity id = new Identity(sub, expiresAt, tokenId(claims.getJWTID(), token), issuedAt(claims), epoch == null ? 0 : epoch,
                    external, sessionId == null ? "" : sessionId);
            return Optional.of(new Verified(kind.get(), claims, id));
        } catch (ParseException | JOSEException | com.nimbusds.jose.proc.BadJOSEException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The token's {@code jti}, or for a token without one (or with a longer one, or one with a colon,
     * which ids of other things have: chat.Sessions keeps a revoked browser session as {@code sid:…})
     * a hash of the whole token.
     */
    static String tokenId(String jti, String token) {
        if (jti != null && !jti.isBlank() && jti.length() <= MAX_TOKEN_ID_LENGTH && jti.indexOf(':') < 0) return jti;
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long issuedAt(JWTClaimsSet claims) throws ParseException {
        Long millis = claims.getLongClaim(ISSUED_MILLIS);
        Date iat = claims.getIssueTime();
        // The seconds claim rounds down, which errs towards revoking: a token of an identity
        // provider issued in the same second as a "log out everywhere" counts as older.
        if (iat == null) return 0;
        // Our own tokens carry both; a millisecond claim that disagrees with iat is not believed.
        if (millis != null && millis / 1000 == iat.getTime() / 1000) return millis;
        return iat.getTime();
    }

    public boolean usesJwks() {
        return jwksProcessor != null;
    }

    private static DefaultJWTProcessor<SecurityContext> jwksProcessor(String jwksUrl, String issuer, String audience) {
        // ChatConfig has refused plain http to any host but a loopback one already.
        try {
            URL url = URI.create(jwksUrl).toURL();
            JWKSource<SecurityContext> keys = JWKSourceBuilder.create(url).retrying(true).build();
            DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
            p.setJWSKeySelector(new JWSVerificationKeySelector<>(
                    Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), keys));
            // The issuer exactly, the audience among the token's, a subject and an expiry. The verifier
            // allows a minute of clock skew on exp; verify() checks exp again against our clock, with none.
            p.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(Set.of(audience),
                    new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("sub", "exp"), null));
            return p;
        } catch (java.net.MalformedURLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("CHAT_JWKS_URL: " + jwksUrl + " (expected: an https URL)", e);
        }
    }
}
