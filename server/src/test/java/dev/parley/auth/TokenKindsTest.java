package dev.parley.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Access tokens, refresh tokens and WebSocket tickets (PROTOCOL.md 4 and 5): each kind is taken only
 * where it belongs, a session keeps its id and its end when it is renewed, and a ticket stands for the
 * access token it was issued for, for seconds.
 */
class TokenKindsTest {
    private static final byte[] SECRET = ParleyServer.SECRET.getBytes(StandardCharsets.UTF_8);
    private static final Duration DAY = Duration.ofHours(24), ACCESS = Duration.ofMinutes(10);

    /** A clock the test moves. */
    private static final class MovingClock extends Clock {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    private final MovingClock clock = new MovingClock();
    private final TokenService tokens = new TokenService(SECRET, DAY, ACCESS, clock);

    @Test
    void each_kind_of_token_is_taken_only_where_it_belongs() {
        TokenService.Issued bearer = tokens.issue("alice", 3);
        TokenService.Session session = tokens.startSession("alice", 3);
        TokenService.Issued ticket = tokens.ticket(tokens.verify(session.access().token()).orElseThrow());

        assertThat(tokens.verify(bearer.token())).as("a bearer token is an access token").isPresent();
        assertThat(tokens.verify(session.access().token())).isPresent();
        assertThat(tokens.verify(session.refresh().token())).as("a refresh token as a bearer token").isEmpty();
        assertThat(tokens.verify(ticket.token())).as("a ticket as a bearer token").isEmpty();

        assertThat(tokens.verifyRefresh(session.refresh().token())).isPresent();
        assertThat(tokens.verifyRefresh(session.access().token())).as("an access token as a refresh token").isEmpty();
        assertThat(tokens.verifyRefresh(bearer.token())).isEmpty();
        assertThat(tokens.verifyRefresh(ticket.token())).isEmpty();

        assertThat(tokens.verifyTicket(ticket.token())).isPresent();
        assertThat(tokens.verifyTicket(session.access().token())).as("an access token as a ticket").isEmpty();
        assertThat(tokens.verifyTicket(session.refresh().token())).isEmpty();
    }

    @Test
    void a_token_without_a_kind_is_an_access_token_and_one_of_an_unknown_kind_is_nothing() throws Exception {
        String before = signed(new JWTClaimsSet.Builder().subject("alice").jwtID("old-1")
                .expirationTime(Date.from(clock.now.plusSeconds(60))).build());
        String unknown = signed(new JWTClaimsSet.Builder().subject("alice").claim("typ", "admin")
                .expirationTime(Date.from(clock.now.plusSeconds(60))).build());

        assertThat(tokens.verify(before)).as("issued before tokens had kinds").isPresent();
        assertThat(tokens.verifyRefresh(before)).isEmpty();
        assertThat(tokens.verify(unknown)).isEmpty();
        assertThat(tokens.verifyRefresh(unknown)).isEmpty();
        assertThat(tokens.verifyTicket(unknown)).isEmpty();
    }

    @Test
    void a_session_has_a_short_access_token_and_a_refresh_token_that_ends_with_it_both_with_its_id() {
        TokenService.Session s = tokens.startSession("alice", 2);

        TokenService.Identity access = tokens.verify(s.access().token()).orElseThrow();
        TokenService.Identity refresh = tokens.verifyRefresh(s.refresh().token()).orElseThrow();
        assertThat(access.expiresAt()).isEqualTo(clock.now.plus(ACCESS));
        assertThat(refresh.expiresAt()).isEqualTo(clock.now.plus(DAY));
        assertThat(access.sessionId()).isNotEmpty().isEqualTo(refresh.sessionId());
        assertThat(access.sessionEpoch()).isEqualTo(2);
        assertThat(refresh.sessionEpoch()).isEqualTo(2);
        assertThat(access.tokenId()).isNotEqualTo(refresh.tokenId());
        assertThat(tokens.verify(tokens.issue("alice").token()).orElseThrow().sessionId()).as("a bearer token has no session").isEmpty();
    }

    @Test
    void renewing_gives_new_tokens_of_the_same_session_which_ends_when_it_did() {
        TokenService.Session first = tokens.startSession("alice", 1);
        clock.now = clock.now.plus(Duration.ofHours(5));

        TokenService.Session renewed = tokens.renew(tokens.verifyRefresh(first.refresh().token()).orElseThrow());

        TokenService.Identity before = tokens.verifyRefresh(first.refresh().token()).orElseThrow();
        TokenService.Identity after = tokens.verifyRefresh(renewed.refresh().token()).orElseThrow();
        assertThat(renewed.refresh().token()).isNotEqualTo(first.refresh().token());
        assertThat(after.tokenId()).isNotEqualTo(before.tokenId());
        assertThat(after.sessionId()).isEqualTo(before.sessionId());
        assertThat(after.expiresAt()).as("the session's end").isEqualTo(before.expiresAt());
        assertThat(after.sessionEpoch()).isEqualTo(1);
        assertThat(tokens.verify(renewed.access().token()).orElseThrow().expiresAt()).isEqualTo(clock.now.plus(ACCESS));
    }

    @Test
    void an_access_token_never_outlives_its_session() {
        TokenService.Session s = tokens.startSession("alice", 0, clock.now.plusSeconds(90));

        assertThat(s.access().expiresAt()).isEqualTo(clock.now.plusSeconds(90));
        clock.now = clock.now.plusSeconds(90);
        assertThat(tokens.verifyRefresh(s.refresh().token())).as("the session has ended").isEmpty();
        assertThat(tokens.verify(s.access().token())).isEmpty();
    }

    @Test
    void a_ticket_stands_for_its_access_token_and_lives_thirty_seconds() {
        TokenService.Identity access = tokens.verify(tokens.startSession("alice", 4).access().token()).orElseThrow();

        TokenService.Issued issued = tokens.ticket(access);
        TokenService.Ticket ticket = tokens.verifyTicket(issued.token()).orElseThrow();

        assertThat(ticket.access()).isEqualTo(access);
        assertThat(ticket.expiresAt()).isEqualTo(clock.now.plus(TokenService.TICKET_TTL)).isEqualTo(issued.expiresAt());
        assertThat(ticket.id()).isNotEqualTo(access.tokenId());
        clock.now = clock.now.plus(TokenService.TICKET_TTL).minusSeconds(1);
        assertThat(tokens.verifyTicket(issued.token())).isPresent();
        clock.now = clock.now.plusSeconds(1);
        assertThat(tokens.verifyTicket(issued.token())).as("expired").isEmpty();
    }

    @Test
    void a_ticket_expires_with_its_access_token_if_that_comes_first() {
        TokenService.Identity access = tokens.verify(tokens.issue("bob", clock.now.plusSeconds(5)).token()).orElseThrow();

        TokenService.Issued ticket = tokens.ticket(access);

        assertThat(ticket.expiresAt()).isEqualTo(clock.now.plusSeconds(5));
        assertThat(tokens.verifyTicket(ticket.token()).orElseThrow().access().sessionId()).as("a bearer token's").isEmpty();
    }

    @Test
    void a_token_signed_with_another_secret_is_no_kind_at_all() {
        TokenService other = new TokenService("another-secret-0123456789-0123456789-xyz".getBytes(StandardCharsets.UTF_8), DAY, ACCESS, clock);
        TokenService.Session s = other.startSession("alice", 0);
        TokenService.Issued ticket = other.ticket(other.verify(s.access().token()).orElseThrow());

        assertThat(tokens.verify(s.access().token())).isEmpty();
        assertThat(tokens.verifyRefresh(s.refresh().token())).isEmpty();
        assertThat(tokens.verifyTicket(ticket.token())).isEmpty();
    }

    @Test
    void an_identity_providers_token_id_with_a_colon_is_hashed_so_it_cannot_name_a_browser_session() {
        assertThat(TokenService.tokenId("sid:1234", "a.b.c")).startsWith("sha256:");
        assertThat(TokenService.tokenId("plain-id", "a.b.c")).isEqualTo("plain-id");
    }

    private static String signed(JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        jwt.sign(new MACSigner(SECRET));
        return jwt.serialize();
    }
}
