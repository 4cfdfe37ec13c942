package dev.parley.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tokens issued by an external identity provider, verified against its JWKS, with its issuer and
 * our audience; its users' names are theirs once they signed in, and never a local account's.
 */
class JwksTokenTest {
    static final String ISSUER = "https://idp.test";
    static final String AUDIENCE = "parley-test";
    static final RSAKey RSA = generateRsa("rsa-1");
    static final RSAKey OTHER_RSA = generateRsa("rsa-1"); // same kid, different key: a forgery
    static final ECKey EC = generateEc();
    static final HttpServer JWKS = serveJwks(new JWKSet(java.util.List.of(RSA.toPublicJWK(), EC.toPublicJWK())));

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.JWKS_URL, "http://127.0.0.1:" + JWKS.getAddress().getPort() + "/.well-known/jwks.json")
            .with(Setting.JWKS_ISSUER, ISSUER)
            .with(Setting.JWKS_AUDIENCE, AUDIENCE)
            .with(Setting.ADMINS, "idp-ops");

    @AfterAll
    static void stopJwks() {
        JWKS.stop(0);
    }

    @Test
    void an_RS256_token_of_the_identity_provider_opens_a_websocket_and_calls_the_api() throws Exception {
        String token = rs256(RSA, "idp-alice", Instant.now().plusSeconds(600));
        try (WsClient c = server.connect(token)) {
            c.send("type", "join", "room", "idp-room", "ref", "j");
            assertThat(c.await("joined", "j").get("members").toString()).contains("idp-alice");
        }
        assertThat(server.http().get("/api/rooms", token).status()).isEqualTo(200);
    }

    @Test
    void an_identity_providers_token_is_an_access_token_whatever_its_typ_and_gets_websocket_tickets() throws Exception {
        // Keycloak writes "typ": "Bearer" into its access tokens; another provider might write "refresh".
        String token = rs256(RSA, new JWTClaimsSet.Builder(claims("idp-carol", Instant.now().plusSeconds(600))).claim("typ", "refresh").build());
        assertThat(server.http().get("/api/rooms", token).status()).isEqualTo(200);
        var refresh = server.http().post("/api/auth/refresh", "{}"); // no cookie: the provider's token is no refresh token
        assertThat(refresh.status()).isEqualTo(401);

        var ticket = server.http().request("POST", "/api/auth/ticket", token, null);
        assertThat(ticket.status()).isEqualTo(200);
        try (WsClient c = WsClient.connect(java.net.URI.create("ws://127.0.0.1:" + server.port() + "/ws?ticket="
                + ticket.json().get("ticket").asText()), java.util.Map.of())) {
            c.send("type", "join", "room", "idp-tickets", "ref", "j");
            assertThat(c.await("joined", "j").get("members").toString()).contains("idp-carol");
        }
    }

    @Test
    void an_administrators_name_cannot_be_registered_locally_while_an_identity_provider_issues_names() {
        // Else anyone could sign up as the identity provider's administrator and be one here.
        var r = server.http().post("/api/auth/register", "{\"username\":\"IDP-ops\",\"password\":\"long enough pw\"}");
        assertThat(r.status()).isEqualTo(409);
        assertThat(r.json().get("error").asText()).isEqualTo("conflict");
    }

    @Test
    void an_ES256_token_of_the_identity_provider_is_accepted() throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(EC.getKeyID()).build(), claims("idp-bob", Instant.now().plusSeconds(600)));
        jwt.sign(new ECDSASigner(EC));
        assertThat(server.http().get("/api/rooms", jwt.serialize()).status()).isEqualTo(200);
    }

    @Test
    void a_token_signed_by_a_key_not_in_the_jwks_or_expired_is_refused_before_upgrade() throws Exception {
        String forged = rs256(OTHER_RSA, "idp-mallory", Instant.now().plusSeconds(600));
        String expired = rs256(RSA, "idp-late", Instant.now().minusSeconds(5));
        for (String token : new String[]{forged, expired}) {
            assertThatThrownBy(() -> server.connect(token)).isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(401));
            assertThat(server.http().get("/api/rooms", token).status()).isEqualTo(401);
        }
    }

    @Test
    void the_servers_own_HS256_tokens_still_work_beside_the_identity_provider() {
        String token = new TokenService(ParleyServer.SECRET.getBytes(StandardCharsets.UTF_8), Duration.ofMinutes(5), Clock.systemUTC())
                .issue("local-carol").token();
        assertThat(server.http().get("/api/rooms", token).status()).isEqualTo(200);
    }

    @Test
    void a_token_of_another_issuer_or_for_another_audience_or_for_none_is_refused() throws Exception {
        Instant exp = Instant.now().plusSeconds(600);
        String otherIssuer = rs256(RSA, new JWTClaimsSet.Builder(claims("idp-frank", exp)).issuer("https://other.test").build());
        String otherAudience = rs256(RSA, new JWTClaimsSet.Builder(claims("idp-frank", exp)).audience("another-app").build());
        String noAudience = rs256(RSA, new JWTClaimsSet.Builder(claims("idp-frank", exp)).audience((String) null).build());
        String noIssuer = rs256(RSA, new JWTClaimsSet.Builder(claims("idp-frank", exp)).issuer(null).build());
        for (String token : new String[]{otherIssuer, otherAudience, noAudience, noIssuer}) {
            assertThat(server.http().get("/api/rooms", token).status()).isEqualTo(401);
            assertThatThrownBy(() -> server.connect(token)).isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(401));
        }
        String among = rs256(RSA, new JWTClaimsSet.Builder(claims("idp-frank", exp)).audience(java.util.List.of("another-app", AUDIENCE)).build());
        assertThat(server.http().get("/api/rooms", among).status()).as("our audience among others").isEqualTo(200);
    }

    @Test
    void once_an_identity_provider_user_signed_in_their_name_cannot_be_registered_here_nor_logged_in_to() throws Exception {
        String name = ParleyServer.unique("idp");
        assertThat(server.http().get("/api/rooms", rs256(RSA, name, Instant.now().plusSeconds(600))).status()).isEqualTo(200);

        for (String taken : new String[]{name, name.toUpperCase(java.util.Locale.ROOT)}) {
            var r = server.http().post("/api/auth/register", "{\"username\":\"" + taken + "\",\"password\":\"long enough pw\"}");
            assertThat(r.status()).as(r.body()).isEqualTo(409);
            assertThat(r.json().get("error").asText()).isEqualTo("conflict");
        }
        var login = server.http().post("/api/auth/login", "{\"username\":\"" + name + "\",\"password\":\"\"}");
        assertThat(login.status()).as("an empty password is no password").isEqualTo(400);
        login = server.http().post("/api/auth/login", "{\"username\":\"" + name + "\",\"password\":\"anything at all\"}");
        assertThat(login.status()).as("an account of the provider has no password here").isEqualTo(401);
    }

    @Test
    void an_identity_provider_token_for_a_name_registered_here_is_refused_it_is_someone_else() throws Exception {
        String name = ParleyServer.unique("local");
        String local = server.http().register(name);
        String idp = rs256(RSA, name, Instant.now().plusSeconds(600));

        assertThat(server.http().get("/api/rooms", idp).status()).isEqualTo(401);
        assertThatThrownBy(() -> server.connect(idp)).isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(401));
        assertThat(server.http().get("/api/rooms", local).status()).as("the local account is untouched").isEqualTo(200);
    }

    @Test
    void an_identity_provider_user_who_signed_in_has_an_account_others_can_add_to_a_private_room() throws Exception {
        String name = ParleyServer.unique("idpmember");
        assertThat(server.http().get("/api/rooms", rs256(RSA, name, Instant.now().plusSeconds(600))).status()).isEqualTo(200);
        String owner = server.newUser("owner");
        String room = "priv-" + Long.toString(System.nanoTime(), 36);
        assertThat(server.http().request("POST", "/api/rooms", owner, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);

        var added = server.http().request("PUT", "/api/rooms/" + room + "/members/" + name, owner, "{}");
        assertThat(added.status()).as(added.body()).isIn(200, 201);
    }

    private static String rs256(RSAKey key, String sub, Instant exp) throws Exception {
        return rs256(key, claims(sub, exp));
    }

    private static String rs256(RSAKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static JWTClaimsSet claims(String sub, Instant exp) {
        return new JWTClaimsSet.Builder().subject(sub).issuer(ISSUER).audience(AUDIENCE).expirationTime(Date.from(exp)).issueTime(new Date()).build();
    }

    private static RSAKey generateRsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ECKey generateEc() {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpServer serveJwks(JWKSet set) {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            byte[] body = set.toString().getBytes(StandardCharsets.UTF_8);
            s.createContext("/.well-known/jwks.json", ex -> {
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            s.start();
            return s;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
