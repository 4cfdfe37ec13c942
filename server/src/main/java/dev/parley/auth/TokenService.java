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
    private final Clock clock;
    private final DefaultJWTProcessor<SecurityContext> jwksProcessor;
    private final String issuer;

    /** The private claim with the issue time in milliseconds: {@code iat} has whole seconds only. */
    static final String ISSUED_MILLIS = "iat_ms";
    /** The account's sessions epoch the token was issued under (UserStore.User#sessionEpoch); only our own tokens carry it. */
    static final String SESSION_EPOCH = "parley_sep";
    /** The longest token id kept as it is; a longer {@code jti} (an identity provider's) is hashed. */
    static final int MAX_TOKEN_ID_LENGTH = 64;

    /**
     * A verified token: who, until when, which token ({@code jti}, or a hash of the token when it has
     * none, so that every token can be revoked) and when it was issued (epoch milliseconds; 0 when the
     * token does not say, so that any revocation of its user's sessions catches it).
     */
    public record Identity(String username, Instant expiresAt, String tokenId, long issuedAtMillis, long sessionEpoch, boolean external) {
        public Identity(String username, Instant expiresAt) {
            this(username, expiresAt, "", 0, 0, false);
        }

        public Identity(String username, Instant expiresAt, String tokenId, long issuedAtMillis) {
            this(username, expiresAt, tokenId, issuedAtMillis, 0, false);
        }

        public Identity(String username, Instant expiresAt, String tokenId, long issuedAtMillis, long sessionEpoch) {
            this(username, expiresAt, tokenId, issuedAtMillis, sessionEpoch, false);
        }
    }

    /** An issued token. */
    public record Issued(String token, String username, Instant expiresAt) {}

    /** Without an identity provider. */
    public TokenService(byte[] secret, Duration ttl, Clock clock) {
        this(secret, ttl, null, null, null, clock);
    }

    /**
     * @param jwksUrl  the identity provider's keys, or null for none; then {@code issuer} and
     *                 {@code audience} are required (ChatConfig says so to the operator first)
     */
    public TokenService(byte[] secret, Duration ttl, String jwksUrl, String issuer, String audience, Clock clock) {
        this.secret = requireNonNull(secret, "secret").clone();
        this.ttl = requireNonNull(ttl, "ttl");
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
        Instant now = clock.instant();
        // Milliseconds too: a password change revokes the sessions issued before it, and the token it
        // answers with, issued in the same second, must not be one of them.
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .subject(username)
                .issueTime(Date.from(now))
                .claim(ISSUED_MILLIS, now.toEpochMilli())
                .claim(SESSION_EPOCH, sessionEpoch)
                .expirationTime(Date.from(expiresAt))
                .jwtID(UUID.randomUUID().toString())
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("could not sign a token", e);
        }
        return new Issued(jwt.serialize(), username, expiresAt);
    }

    /**
     * @return the identity, or empty for a missing, malformed, forged or expired token. Blocking only
     * when a JWKS is configured and its keys are not cached yet.
     */
    public Optional<Identity> verify(String token) {
        if (token == null || token.isBlank() || token.length() > 8192) return Optional.empty();
        try {
            SignedJWT jwt = SignedJWT.parse(token);
            JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
            JWTClaimsSet claims;
            boolean external = !JWSAlgorithm.HS256.equals(alg);
            if (!external) {
                if (!jwt.verify(verifier)) return Optional.empty();
                claims = jwt.getJWTClaimsSet();
            } else if (jwksProcessor != null && (JWSAlgorithm.Family.RSA.contains(alg) || JWSAlgorithm.Family.EC.contains(alg))) {
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
            // The epoch only from our own tokens: an identity provider's claims are not ours to read.
            Long epoch = JWSAlgorithm.HS256.equals(alg) ? claims.getLongClaim(SESSION_EPOCH) : null;
            return Optional.of(new Identity(sub, expiresAt, tokenId(claims.getJWTID(), token), issuedAt(claims), epoch == null ? 0 : epoch, external));
        } catch (ParseException | JOSEException | com.nimbusds.jose.proc.BadJOSEException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The token's {@code jti}, or for a token without one (or with a longer one) a hash of the whole token. */
    static String tokenId(String jti, String token) {
        if (jti != null && !jti.isBlank() && jti.length() <= MAX_TOKEN_ID_LENGTH) return jti;
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
