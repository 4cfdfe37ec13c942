package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.parley.auth.TokenService;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The browser's way in (PROTOCOL.md 3.2, 4, 5), over the wire: a sign-in that asks for a cookie
 * session, the refresh that rotates it, single-use tickets that open WebSockets, the logout that
 * clears it and revokes every token of the session; and bearer clients as they were.
 */
class BrowserSessionTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    /** Generous, for a shared machine; on this node a revocation closes at once. */
    private static final Duration CLOSE = Duration.ofSeconds(5);

    /** What a sign-in with {@code "session":"cookie"} answers: the access token and the refresh cookie (its Set-Cookie). */
    private record Signed(String access, String refresh, String setCookie, JsonNode body) {}

    private static Http.Response post(String path, String body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(15))
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return Http.send(b.build());
    }

    private static Map<String, String> json() {
        return Map.of("Content-Type", "application/json");
    }

    private static Map<String, String> withCookie(String refresh) {
        return Map.of("Content-Type", "application/json", "Cookie", "parley_refresh=" + refresh);
    }

    /** The Set-Cookie of the refresh cookie, if the answer has one. */
    private static Optional<String> setCookie(Http.Response r) {
        return r.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("parley_refresh=")).findFirst();
    }

    private static String cookieValue(String setCookie) {
        return setCookie.substring("parley_refresh=".length(), setCookie.indexOf(';'));
    }

    private static Signed signed(Http.Response r) {
        String set = setCookie(r).orElseThrow(() -> new AssertionError("no refresh cookie in " + r.headers().map()));
        return new Signed(r.json().get("token").asText(), cookieValue(set), set, r.json());
    }

    private static Signed login(String user) {
        Http.Response r = post("/api/auth/login", "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\",\"session\":\"cookie\"}", json());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return signed(r);
    }

    private static String newUser(String base) {
        String user = ParleyServer.unique(base);
        server.http().register(user);
        return user;
    }

    private static Http.Response refresh(String refresh) {
        return post("/api/auth/refresh", null, withCookie(refresh));
    }

    private static String ticket(String access) {
        Http.Response r = server.http().request("POST", "/api/auth/ticket", access, null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.header("Cache-Control")).contains("no-store");
        return r.json().get("ticket").asText();
    }

    private static WsClient connectWithTicket(String ticket) {
        return WsClient.connect(URI.create("ws://127.0.0.1:" + server.port() + "/ws?ticket=" + URLEncoder.encode(ticket, StandardCharsets.UTF_8)), Map.of());
    }

    private static int refusedStatus(Runnable connect) {
        try {
            connect.run();
        } catch (WsClient.Refused r) {
            return r.status;
        }
        throw new AssertionError("the upgrade was not refused");
    }

    @Test
    void a_sign_in_that_asks_for_a_cookie_gets_an_http_only_strict_cookie_and_a_ten_minute_access_token() {
        String user = ParleyServer.unique("cookie");
        Http.Response r = post("/api/auth/register", "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\",\"session\":\"cookie\"}", json());

        assertThat(r.status()).isEqualTo(201);
        Signed s = signed(r);
        assertThat(s.setCookie()).containsIgnoringCase("; Path=/api/auth").containsIgnoringCase("; HttpOnly")
                .containsIgnoringCase("; SameSite=Strict").doesNotContainIgnoringCase("Secure");
        long maxAge = Long.parseLong(s.setCookie().replaceAll(".*Max-Age=(\\d+).*", "$1"));
        assertThat(maxAge).as("the session's lifetime, CHAT_TOKEN_TTL").isCloseTo(86_400L, within(5L));
        assertThat(r.header("Cache-Control")).contains("no-store");
        assertThat(Instant.parse(s.body().get("expiresAt").asText())).isCloseTo(Instant.now().plus(Duration.ofMinutes(10)), within(Duration.ofSeconds(5)));
        assertThat(Instant.parse(s.body().get("sessionExpiresAt").asText())).isCloseTo(Instant.now().plus(Duration.ofHours(24)), within(Duration.ofSeconds(5)));
        assertThat(s.body().get("username").asText()).isEqualTo(user);

        assertThat(server.http().get("/api/rooms", s.access()).status()).as("the access token is a bearer token").isEqualTo(200);
        assertThat(server.http().get("/api/rooms", s.refresh()).status()).as("the refresh token is not").isEqualTo(401);
    }

    @Test
    void behind_a_proxy_that_says_https_the_cookie_is_secure() {
        String user = newUser("secure");
        Map<String, String> headers = Map.of("Content-Type", "application/json", "X-Forwarded-Proto", "https");

        Http.Response r = post("/api/auth/login", "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\",\"session\":\"cookie\"}", headers);

        assertThat(setCookie(r).orElseThrow()).contains("; Secure");
        assertThat(setCookie(post("/api/auth/refresh", null, Map.of("Content-Type", "application/json", "Forwarded", "for=1.2.3.4;proto=https",
                "Cookie", "parley_refresh=" + signed(r).refresh()))).orElseThrow()).contains("; Secure");
    }

    @Test
    void a_sign_in_without_a_session_or_with_a_wrong_one_is_answered_as_before_or_refused() {
        String user = newUser("bearer");

        Http.Response bearer = post("/api/auth/login", "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\"}", json());
        Http.Response wrong = post("/api/auth/login", "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\",\"session\":1}", json());

        assertThat(bearer.status()).isEqualTo(200);
        assertThat(setCookie(bearer)).isEmpty();
        assertThat(bearer.json().has("sessionExpiresAt")).isFalse();
        assertThat(Instant.parse(bearer.json().get("expiresAt").asText())).isCloseTo(Instant.now().plus(Duration.ofHours(24)), within(Duration.ofSeconds(5)));
        assertThat(wrong.status()).isEqualTo(400);
        assertThat(wrong.json().get("error").asText()).isEqualTo("bad_request");
    }

    @Test
    void a_refresh_answers_a_fresh_access_token_and_rotates_the_cookie() {
        Signed s = login(newUser("refresher"));

        Http.Response r = refresh(s.refresh());

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Signed renewed = signed(r);
        assertThat(renewed.refresh()).isNotEqualTo(s.refresh());
        assertThat(renewed.access()).isNotEqualTo(s.access());
        assertThat(renewed.body().get("sessionExpiresAt")).as("the session does not get longer").isEqualTo(s.body().get("sessionExpiresAt"));
        assertThat(renewed.setCookie()).containsIgnoringCase("; HttpOnly").containsIgnoringCase("; SameSite=Strict").contains("; Path=/api/auth");
        assertThat(r.header("Cache-Control")).contains("no-store");
        assertThat(server.http().get("/api/rooms", renewed.access()).status()).isEqualTo(200);
        assertThat(refresh(renewed.refresh()).status()).isEqualTo(200);
    }

    @Test
    void a_refresh_takes_only_a_good_cookie_and_only_json() {
        Signed s = login(newUser("picky"));

        Http.Response none = post("/api/auth/refresh", "{}", json());
        Http.Response access = refresh(s.access());
        Http.Response form = post("/api/auth/refresh", "a=b", Map.of("Content-Type", "application/x-www-form-urlencoded", "Cookie", "parley_refresh=" + s.refresh()));
        Http.Response get = server.http().get("/api/auth/refresh", null);

        assertThat(none.status()).isEqualTo(401);
        assertThat(setCookie(none)).as("no cookie, none cleared").isEmpty();
        assertThat(access.status()).as("an access token in the cookie").isEqualTo(401);
        assertThat(setCookie(access).orElseThrow()).as("a bad cookie is cleared").contains("Max-Age=0");
        assertThat(form.status()).as("what a cross-site form could send").isEqualTo(415);
        assertThat(setCookie(form)).isEmpty();
        assertThat(get.status()).isEqualTo(405);
        assertThat(get.header("Allow")).contains("POST");
        assertThat(refresh(s.refresh()).status()).as("the cookie is still good").isEqualTo(200);
    }

    @Test
    void a_ticket_opens_one_websocket_as_the_tokens_user_and_is_refused_the_second_time() {
        String user = newUser("ticketed");
        Signed s = login(user);
        String ticket = ticket(s.access());
        String room = Ws.room("ticket");

        try (WsClient c = connectWithTicket(ticket)) {
            Ws.join(c, room);
            Ws.send(c, room, "through a ticket", "t-1");
            assertThat(c.awaitMessages(room, 1, Ws.T).get(0).get("from").asText()).as("as the token's user").isEqualTo(user);

            assertThat(refusedStatus(() -> connectWithTicket(ticket).close())).as("used already").isEqualTo(401);
        }
        assertThat(refusedStatus(() -> connectWithTicket(ticket).close())).as("used, even once closed").isEqualTo(401);
        assertThat(refusedStatus(() -> server.connect(ticket).close())).as("a ticket as ?token=").isEqualTo(401);
        assertThat(refusedStatus(() -> server.connect(s.refresh()).close())).as("a refresh token as ?token=").isEqualTo(401);
        assertThat(refusedStatus(() -> connectWithTicket(s.access()).close())).as("an access token as ?ticket=").isEqualTo(401);
        assertThat(server.http().get("/api/rooms", ticket(s.access())).status()).as("a ticket as a bearer token").isEqualTo(401);
    }

    @Test
    void an_expired_ticket_and_one_of_a_revoked_token_are_refused() throws Exception {
        String user = newUser("stale");
        Signed s = login(user);
        JWTClaimsSet expired = new JWTClaimsSet.Builder().subject(user).claim("typ", "ticket").jwtID("expired-1")
                .expirationTime(Date.from(Instant.now().minusSeconds(1))).claim("ati", "x").claim("aexp_ms", Instant.now().plusSeconds(600).toEpochMilli())
                .claim("aiat_ms", System.currentTimeMillis()).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), expired);
        jwt.sign(new MACSigner(ParleyServer.SECRET.getBytes(StandardCharsets.UTF_8)));
        String unused = ticket(s.access());

        assertThat(refusedStatus(() -> connectWithTicket(jwt.serialize()).close())).isEqualTo(401);
        assertThat(post("/api/auth/logout", null, Map.of("Authorization", "Bearer " + s.access())).status()).isEqualTo(204);
        assertThat(refusedStatus(() -> connectWithTicket(unused).close())).as("its token was logged out").isEqualTo(401);
    }

    @Test
    void a_connection_opened_with_a_ticket_lives_on_its_access_token_and_a_refresh_frame_renews_it() {
        String user = newUser("lifetime");
        TokenService tokens = server.server().tokens();
        TokenService.Issued shortLived = tokens.issue(user, Instant.now().plusSeconds(3));
        String room = Ws.room("lifetime");
        try (WsClient expiring = connectWithTicket(ticket(shortLived.token()));
             WsClient renewed = connectWithTicket(ticket(shortLived.token()))) {
            Ws.join(expiring, room);
            Ws.join(renewed, room);
            renewed.send("type", "refresh", "token", login(user).access(), "ref", "r1");
            Ws.alive(renewed);

            assertThat(expiring.awaitClose(Duration.ofSeconds(30))).as("the access token expired").isEqualTo(4001);
            Await.until("past the first token's expiry", Duration.ofSeconds(30), () -> Instant.now().isAfter(shortLived.expiresAt().plusSeconds(1)));
            Ws.alive(renewed);
            assertThat(renewed.frames("error")).isEmpty();
        }
    }

    @Test
    void logout_clears_the_cookie_and_revokes_every_token_of_the_session_and_closes_its_connections() {
        String user = newUser("leaver");
        Signed s = login(user);
        Signed rotated = signed(refresh(s.refresh()));
        String bearer = server.http().login(user);
        try (WsClient c = connectWithTicket(ticket(rotated.access())); WsClient other = server.connect(bearer)) {
            Ws.alive(c);

            Http.Response out = post("/api/auth/logout", null, Map.of("Authorization", "Bearer " + rotated.access()));

            assertThat(out.status()).isEqualTo(204);
            assertThat(setCookie(out).orElseThrow()).contains("Max-Age=0", "; Path=/api/auth");
            assertThat(c.awaitClose(CLOSE)).isEqualTo(4003);
            assertThat(refresh(rotated.refresh()).status()).isEqualTo(401);
            assertThat(refresh(s.refresh()).status()).as("the session's first refresh token too").isEqualTo(401);
            assertThat(server.http().get("/api/rooms", s.access()).status()).as("and its first access token").isEqualTo(401);
            assertThat(server.http().get("/api/rooms", rotated.access()).status()).isEqualTo(401);
            Ws.alive(other);
            assertThat(server.http().get("/api/rooms", bearer).status()).as("another session of the user stays").isEqualTo(200);
        }
    }

    @Test
    void a_logout_by_the_cookie_alone_ends_its_session_and_with_all_every_session() {
        String user = newUser("cookieonly");
        Signed first = login(user), second = login(user);
        String bearer = server.http().login(user);

        Http.Response form = post("/api/auth/logout", "a=b", Map.of("Content-Type", "application/x-www-form-urlencoded", "Cookie", "parley_refresh=" + first.refresh()));
        Http.Response out = post("/api/auth/logout", null, withCookie(first.refresh()));

        assertThat(form.status()).as("what a cross-site form could send").isEqualTo(415);
        assertThat(out.status()).as(out.body()).isEqualTo(204);
        assertThat(setCookie(out).orElseThrow()).contains("Max-Age=0");
        assertThat(refresh(first.refresh()).status()).isEqualTo(401);
        assertThat(server.http().get("/api/rooms", first.access()).status()).isEqualTo(401);
        assertThat(refresh(second.refresh()).status()).as("another browser's session").isEqualTo(200);
        assertThat(post("/api/auth/logout", null, withCookie(first.refresh())).status()).as("spent already").isEqualTo(401);

        assertThat(post("/api/auth/logout", "{\"all\":true}", withCookie(second.refresh())).status()).isEqualTo(204);
        Await.until("the bearer token to be refused", () -> server.http().get("/api/rooms", bearer).status() == 401);
    }

    @Test
    void log_out_everywhere_and_a_password_change_end_cookie_sessions_too() {
        String user = newUser("everywhere");
        Signed s = login(user);
        String bearer = server.http().login(user);

        assertThat(server.http().request("POST", "/api/auth/logout", bearer, "{\"all\":true}").status()).isEqualTo(204);
        assertThat(refresh(s.refresh()).status()).isEqualTo(401);

        String other = newUser("changer");
        Signed before = login(other);
        Http.Response changed = post("/api/auth/password",
                "{\"current\":\"password-" + other + "\",\"new\":\"a new password\",\"session\":\"cookie\"}",
                Map.of("Content-Type", "application/json", "Authorization", "Bearer " + before.access()));
        assertThat(changed.status()).as(changed.body()).isEqualTo(200);
        assertThat(refresh(before.refresh()).status()).as("a session of the old password").isEqualTo(401);
        Signed after = signed(changed);
        assertThat(refresh(after.refresh()).status()).as("the new session").isEqualTo(200);
    }

    @Test
    void bearer_clients_go_on_as_before_and_may_use_tickets_too() {
        String user = ParleyServer.unique("classic");
        String token = server.http().register(user);
        String room = Ws.room("classic");

        try (WsClient query = server.connect(token);
             WsClient header = WsClient.connect(URI.create("ws://127.0.0.1:" + server.port() + "/ws"), Map.of("Authorization", "Bearer " + token));
             WsClient ticketed = connectWithTicket(ticket(token))) {
            for (WsClient c : List.of(query, header, ticketed)) Ws.join(c, room);
            Ws.send(header, room, "hello", "b-1");
            assertThat(query.awaitMessages(room, 1, Ws.T)).hasSize(1);
            assertThat(ticketed.awaitMessages(room, 1, Ws.T)).hasSize(1);
        }
        Http.Response out = server.http().request("POST", "/api/auth/logout", token, null);
        assertThat(out.status()).isEqualTo(204);
        assertThat(server.http().get("/api/rooms", token).status()).isEqualTo(401);
    }
}
