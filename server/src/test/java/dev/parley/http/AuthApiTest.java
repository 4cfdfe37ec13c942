package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 1: register and login. */
class AuthApiTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    private static String credentials(String username, String password) {
        return Http.JSON.createObjectNode().put("username", username).put("password", password).toString();
    }

    @Test
    void registering_returns_201_with_a_token_for_the_user_that_opens_the_api() {
        String name = ParleyServer.unique("reg");
        Http.Response r = server.http().post("/api/auth/register", credentials(name, "correct horse"));

        assertThat(r.status()).isEqualTo(201);
        JsonNode body = r.json();
        assertThat(body.get("username").asText()).isEqualTo(name);
        assertThat(body.get("expiresAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(Instant.parse(body.get("expiresAt").asText())).isAfter(Instant.now().plus(Duration.ofHours(23)));
        assertThat(server.http().get("/api/rooms", body.get("token").asText()).status()).isEqualTo(200);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
            "{\"username\":\"ab\",\"password\":\"long enough\"}",                 // username too short
            "{\"username\":\"has space\",\"password\":\"long enough\"}",          // not in the alphabet
            "{\"username\":\"a23456789012345678901234567890123\",\"password\":\"long enough\"}", // 33 characters
            "{\"username\":\"valid_name\",\"password\":\"short\"}",               // password under 8
            "{\"username\":\"valid_name\",\"password\":\"p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p12345678\"}", // password of 129
            "{\"username\":\"valid_name\",\"password\":\"abcdefg\\ud800h\"}",         // half a surrogate pair: it would be stored as "?"
            "{\"username\":\"valid_name\",\"password\":\"\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00\"}", // four characters, eight UTF-16 units
            "{\"username\":\"valid_name\"}",                                        // no password
            "{\"password\":\"long enough\"}",                                       // no username
            "{\"username\":5,\"password\":\"long enough\"}",                       // not a string
            "[\"valid_name\",\"long enough\"]",                                     // not an object
            "not json at all",
            ""
    })
    void registering_with_an_invalid_username_password_or_body_is_a_400(String body) {
        Http.Response r = server.http().post("/api/auth/register", body);

        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().get("error").asText()).isEqualTo("bad_request");
        assertThat(r.json().get("message").asText()).isNotBlank();
    }

    @Test
    void after_ten_logins_without_the_right_password_the_username_is_refused_for_a_while() {
        String name = ParleyServer.unique("guessed");
        assertThat(server.http().post("/api/auth/register", credentials(name, "correct horse")).status()).isEqualTo(201);

        for (int i = 0; i < 10; i++) {
            assertThat(server.http().post("/api/auth/login", credentials(name, "guess " + i)).status()).as("guess %d", i).isEqualTo(401);
        }
        Http.Response refused = server.http().post("/api/auth/login", credentials(name, "correct horse"));
        Http.Response other = server.http().post("/api/auth/login", credentials(name.toUpperCase(java.util.Locale.ROOT), "correct horse"));

        assertThat(refused.status()).as(refused.body()).isEqualTo(429);
        assertThat(refused.json().get("error").asText()).isEqualTo("rate_limited");
        assertThat(refused.header("Retry-After")).as("how long to wait, in seconds").hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isBetween(1L, 60L));
        assertThat(other.status()).as("the same account in other letters").isEqualTo(429);
        String someoneElse = ParleyServer.unique("unguessed");
        server.http().post("/api/auth/register", credentials(someoneElse, "correct horse"));
        assertThat(server.http().post("/api/auth/login", credentials(someoneElse, "correct horse")).status()).isEqualTo(200);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", "application/jsonp", ""})
    void register_and_login_take_a_json_body_only_so_that_a_form_posted_from_another_site_makes_no_account(String type) {
        String name = ParleyServer.unique("form");
        for (String path : new String[]{"/api/auth/register", "/api/auth/login"}) {
            java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.baseUrl() + path))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(credentials(name, "correct horse")));
            if (!type.isEmpty()) b.header("Content-Type", type);
            Http.Response r = Http.send(b.build());

            assertThat(r.status()).as(path + " " + r.body()).isEqualTo(415);
            assertThat(r.json().get("error").asText()).isEqualTo("unsupported_media_type");
        }
        assertThat(server.http().post("/api/auth/login", credentials(name, "correct horse")).status()).as("no account was made").isEqualTo(401);
    }

    @Test
    void json_with_a_charset_is_json() {
        String name = ParleyServer.unique("charset");
        Http.Response r = Http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.baseUrl() + "/api/auth/register"))
                .header("Content-Type", "Application/JSON; charset=utf-8")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(credentials(name, "correct horse"))).build());
        assertThat(r.status()).as(r.body()).isEqualTo(201);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(ints = {65, 16_000})
    void a_login_with_a_username_no_account_can_have_is_a_400_before_anything_is_counted_or_hashed(int length) {
        Http.Response r = server.http().post("/api/auth/login", credentials("u".repeat(length), "whatever pw"));

        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().get("error").asText()).isEqualTo("bad_request");
        Http.Response longPassword = server.http().post("/api/auth/login", credentials(ParleyServer.unique("pw"), "p".repeat(129)));
        assertThat(longPassword.status()).as(longPassword.body()).isEqualTo(400);
    }

    @Test
    void the_password_length_limits_are_inclusive() {
        assertThat(server.http().post("/api/auth/register", credentials(ParleyServer.unique("pw"), "12345678")).status()).isEqualTo(201);
        assertThat(server.http().post("/api/auth/register", credentials(ParleyServer.unique("pw"), "x".repeat(128))).status()).isEqualTo(201);
    }

    @Test
    void registering_a_taken_username_is_a_409_conflict_whatever_its_case() {
        String name = ParleyServer.unique("taken");
        server.http().register(name);

        Http.Response same = server.http().post("/api/auth/register", credentials(name, "another password"));
        Http.Response upper = server.http().post("/api/auth/register", credentials(name.toUpperCase(), "another password"));

        assertThat(same.status()).isEqualTo(409);
        assertThat(same.json().get("error").asText()).isEqualTo("conflict");
        assertThat(upper.status()).isEqualTo(409);
        assertThat(upper.json().get("error").asText()).isEqualTo("conflict");
    }

    @Test
    void logging_in_returns_200_with_a_new_token() {
        String name = ParleyServer.unique("login");
        server.http().register(name);

        Http.Response r = server.http().post("/api/auth/login", credentials(name, "password-" + name));

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("username").asText()).isEqualTo(name);
        assertThat(r.json().get("expiresAt").asText()).endsWith("Z");
        assertThat(server.http().get("/api/rooms", r.json().get("token").asText()).status()).isEqualTo(200);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"{\"username\":\"someone\"}", "{\"password\":\"long enough\"}", "{\"username\":[],\"password\":\"x\"}", "nope", "42"})
    void logging_in_with_a_malformed_body_is_a_400(String body) {
        Http.Response r = server.http().post("/api/auth/login", body);

        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().get("error").asText()).isEqualTo("bad_request");
    }

    @Test
    void logging_in_with_a_wrong_password_or_as_an_unknown_user_is_the_same_401() {
        String name = ParleyServer.unique("victim");
        server.http().register(name);

        Http.Response wrong = server.http().post("/api/auth/login", credentials(name, "not the password"));
        Http.Response unknown = server.http().post("/api/auth/login", credentials(ParleyServer.unique("nobody"), "whatever pw"));

        assertThat(wrong.status()).isEqualTo(401);
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(wrong.json().get("error").asText()).isEqualTo("unauthorized");
        assertThat(unknown.json()).isEqualTo(wrong.json());
        assertThat(wrong.body()).doesNotContain("token");
    }
}
