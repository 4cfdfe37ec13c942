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

/** Tokens issued by an external identity provider, verified against its JWKS. */
class JwksTokenTest {
    static final RSAKey RSA = generateRsa("rsa-1");
    static final RSAKey OTHER_RSA = generateRsa("rsa-1"); // same kid, different key: a forgery
    static final ECKey EC = generateEc();
    static final HttpServer JWKS = serveJwks(new JWKSet(java.util.List.of(RSA.toPublicJWK(), EC.toPublicJWK())));

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.JWKS_URL, "http://127.0.0.1:" + JWKS.getAddress().getPort() + "/.well-known/jwks.json")
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
        String token = new TokenService(ParleyServer.SECRET.getBytes(StandardCharsets.UTF_8), Duration.ofMinutes(5), null, Clock.systemUTC())
                .issue("local-carol").token();
        assertThat(server.http().get("/api/rooms", token).status()).isEqualTo(200);
    }

    private static String rs256(RSAKey key, String sub, Instant exp) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims(sub, exp));
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static JWTClaimsSet claims(String sub, Instant exp) {
        return new JWTClaimsSet.Builder().subject(sub).issuer("https://idp.test").expirationTime(Date.from(exp)).issueTime(new Date()).build();
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
