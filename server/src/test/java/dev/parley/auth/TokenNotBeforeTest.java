package dev.parley.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import static org.assertj.core.api.Assertions.assertThat;

/** A token is not valid before its {@code nbf} (RFC 7519, 4.1.5), give or take a minute of clock skew. */
class TokenNotBeforeTest {
    private final TokenService tokens = TokenService.hs256(ParleyServer.SECRET, Duration.ofMinutes(5));

    @Test
    void a_token_whose_not_before_is_minutes_ahead_is_refused() throws Exception {
        assertThat(tokens.verify(signed(Instant.now().plus(Duration.ofMinutes(10))))).isEmpty();
    }

    @Test
    void a_not_before_in_the_past_or_within_the_clock_skew_leeway_is_accepted() throws Exception {
        assertThat(tokens.verify(signed(Instant.now().minus(Duration.ofMinutes(1))))).isPresent();
        assertThat(tokens.verify(signed(Instant.now().plus(Duration.ofSeconds(20))))).isPresent();
    }

    private static String signed(Instant notBefore) throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .subject("alice")
                .issueTime(new Date())
                .notBeforeTime(Date.from(notBefore))
                .expirationTime(Date.from(Instant.now().plus(Duration.ofHours(1))))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        jwt.sign(new MACSigner(ParleyServer.SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
