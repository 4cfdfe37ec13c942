package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md 3.2, accounts: logout, password change, disabled and deleted accounts, and each refusal. */
class AccountsApiTest {
    static final String ADMIN = ParleyServer.unique("admin");

    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ADMINS, "someone_else, " + ADMIN.toUpperCase(Locale.ROOT));

    private static Http http() {
        return server.http();
    }

    private static String password(String user) {
        return "password-" + user; // what Http.register gives
    }

    private static String json(Object... kv) {
        var n = Http.JSON.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) n.set((String) kv[i], Http.JSON.valueToTree(kv[i + 1]));
        return n.toString();
    }

    private static int rooms(String token) {
        return http().get("/api/rooms", token).status();
    }

    private static void refused(Http.Response r, int status, String code) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.json().get("error").asText()).as(r.body()).isEqualTo(code);
        assertThat(r.json().get("message").asText()).isNotBlank();
    }

    private static Http.Response login(String user, String password) {
        return http().post("/api/auth/login", json("username", user, "password", password));
    }

    // --- logout ---

    @Test
    void logout_revokes_the_token_it_is_sent_with_and_no_other() {
        String user = ParleyServer.unique("leaver");
        String first = http().register(user), second = http().login(user);

        Http.Response r = http().request("POST", "/api/auth/logout", first, null);

        assertThat(r.status()).as(r.body()).isEqualTo(204);
        assertThat(rooms(first)).isEqualTo(401);
        assertThat(rooms(second)).isEqualTo(200);
        refused(http().request("POST", "/api/auth/logout", first, "{}"), 401, "unauthorized");
    }

    @Test
    void logout_with_all_revokes_every_token_of_the_user_and_a_later_login_works() {
        String user = ParleyServer.unique("everywhere");
        String first = http().register(user), second = http().login(user);
        String bystander = server.newUser("bystander");

        assertThat(http().request("POST", "/api/auth/logout", second, json("all", true)).status()).isEqualTo(204);

        assertThat(rooms(first)).isEqualTo(401);
        assertThat(rooms(second)).isEqualTo(401);
        assertThat(rooms(bystander)).as("another user's token").isEqualTo(200);
        assertThat(rooms(http().login(user))).as("a token issued after it").isEqualTo(200);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"{\"all\":\"yes\"}", "{\"all\":1}", "[true]", "not json"})
    void logout_with_a_malformed_body_is_a_400_and_revokes_nothing(String body) {
        String token = server.newUser("clumsy");

        refused(http().request("POST", "/api/auth/logout", token, body), 400, "bad_request");
        assertThat(rooms(token)).isEqualTo(200);
    }

    @Test
    void logout_without_a_token_is_401_and_with_another_method_405() {
        refused(http().request("POST", "/api/auth/logout", null, null), 401, "unauthorized");
        refused(http().request("GET", "/api/auth/logout", server.newUser("getter"), null), 405, "method_not_allowed");
    }

    // --- password ---

    @Test
    void a_password_change_answers_a_fresh_token_keeps_the_callers_and_revokes_the_users_other_tokens() {
        String user = ParleyServer.unique("changer");
        String caller = http().register(user), other = http().login(user);

        Http.Response r = http().request("POST", "/api/auth/password", caller, json("current", password(user), "new", "a new passphrase"));

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("username").asText()).isEqualTo(user);
        assertThat(rooms(r.json().get("token").asText())).as("the fresh token").isEqualTo(200);
        assertThat(rooms(caller)).as("the token of the request").isEqualTo(200);
        assertThat(rooms(other)).as("another session").isEqualTo(401);
        refused(login(user, password(user)), 401, "unauthorized");
        assertThat(login(user, "a new passphrase").status()).isEqualTo(200);
    }

    @Test
    void a_login_that_checked_the_old_password_while_it_was_being_changed_gets_a_token_that_is_refused() {
        String user = ParleyServer.unique("raced");
        String caller = http().register(user);
        assertThat(http().request("POST", "/api/auth/password", caller, json("current", password(user), "new", "a new passphrase")).status())
                .isEqualTo(200);

        // What such a login ends with: a token issued now, after the change, of the epoch it read with
        // the old hash (the first). Its issue time is after the change's cutoff: only the epoch refuses it.
        String raced = server.server().tokens().issue(user, 0).token();
        String fresh = login(user, "a new passphrase").json().get("token").asText();

        assertThat(rooms(raced)).as("a token of the old password's epoch").isEqualTo(401);
        assertThat(rooms(fresh)).as("a token of the new password's").isEqualTo(200);
    }

    @Test
    void a_password_change_refuses_a_wrong_current_password_with_403_and_a_bad_new_one_with_400() {
        String user = ParleyServer.unique("careful");
        String token = http().register(user);

        refused(http().request("POST", "/api/auth/password", token, json("current", "not it at all", "new", "a new passphrase")), 403, "forbidden");
        refused(http().request("POST", "/api/auth/password", token, json("current", password(user), "new", "short")), 400, "bad_request");
        refused(http().request("POST", "/api/auth/password", token, json("current", password(user))), 400, "bad_request");
        refused(http().request("POST", "/api/auth/password", token, json("current", 5, "new", "a new passphrase")), 400, "bad_request");
        refused(http().request("POST", "/api/auth/password", token, "nope"), 400, "bad_request");
        refused(http().request("POST", "/api/auth/password", null, json("current", password(user), "new", "a new passphrase")), 401, "unauthorized");
        assertThat(login(user, password(user)).status()).as("the password is unchanged").isEqualTo(200);
    }

    @Test
    void password_guesses_through_a_password_change_count_against_the_login_throttle() {
        String user = ParleyServer.unique("guessed");
        String token = http().register(user);
        for (int i = 0; i < 10; i++) {
            assertThat(http().request("POST", "/api/auth/password", token, json("current", "guess " + i, "new", "a new passphrase")).status())
                    .as("guess %d", i).isEqualTo(403);
        }

        refused(http().request("POST", "/api/auth/password", token, json("current", password(user), "new", "a new passphrase")), 429, "rate_limited");
        refused(login(user, password(user)), 429, "rate_limited");
    }

    // --- disabling (admins) ---

    @Test
    void an_admin_disables_an_account_its_tokens_are_refused_and_its_login_says_so_until_it_is_enabled_again() {
        String admin = adminToken();
        String user = ParleyServer.unique("unruly");
        String token = http().register(user);

        assertThat(http().request("PUT", "/api/admin/users/" + user.toUpperCase(Locale.ROOT) + "/disabled", admin, null).status()).isEqualTo(204);

        assertThat(rooms(token)).isEqualTo(401);
        refused(login(user, password(user)), 403, "account_disabled");
        refused(login(user, "not the password"), 401, "unauthorized"); // nothing said to whoever lacks the password
        assertThat(http().request("PUT", "/api/admin/users/" + user + "/disabled", admin, null).status()).as("again: no change").isEqualTo(204);

        assertThat(http().request("DELETE", "/api/admin/users/" + user + "/disabled", admin, null).status()).isEqualTo(204);
        assertThat(rooms(token)).as("a token revoked stays revoked").isEqualTo(401);
        assertThat(rooms(http().login(user))).isEqualTo(200);
    }

    @Test
    void disabling_is_for_admins_only_and_refuses_unknown_accounts_and_the_admin_itself() {
        String user = ParleyServer.unique("plain");
        String token = http().register(user);
        String victim = ParleyServer.unique("victim");
        http().register(victim);

        refused(http().request("PUT", "/api/admin/users/" + victim + "/disabled", token, null), 403, "forbidden");
        refused(http().request("DELETE", "/api/admin/users/" + victim + "/disabled", token, null), 403, "forbidden");
        refused(http().request("PUT", "/api/admin/users/" + victim + "/disabled", null, null), 401, "unauthorized");
        refused(http().request("PUT", "/api/admin/users/" + ParleyServer.unique("nobody") + "/disabled", adminToken(), null), 404, "not_found");
        refused(http().request("PUT", "/api/admin/users/" + ADMIN + "/disabled", adminToken(), null), 400, "bad_request");
        refused(http().request("PUT", "/api/admin/users/someone_else/disabled", adminToken(), null), 400, "bad_request"); // another administrator
        refused(http().request("POST", "/api/admin/users/" + victim + "/disabled", adminToken(), null), 405, "method_not_allowed");
        assertThat(login(victim, password(victim)).status()).isEqualTo(200);
    }

    // --- deleting one's account ---

    @Test
    void deleting_ones_account_revokes_its_tokens_keeps_its_messages_under_the_name_and_keeps_the_name_taken() {
        String user = ParleyServer.unique("goner");
        String token = http().register(user), other = http().login(user);
        String room = "deleted-" + System.nanoTime() % 1_000_000;
        try (WsClient c = server.connect(token)) {
            c.send("type", "join", "room", room, "ref", "j");
            c.await("joined", "j");
            c.send("type", "send", "room", room, "text", "my last words", "clientId", "c1", "ref", "s");
            c.await("ack", "s");

            Http.Response r = http().request("DELETE", "/api/auth/account", token, json("password", password(user)));

            assertThat(r.status()).as(r.body()).isEqualTo(204);
            assertThat(c.awaitClose(Duration.ofSeconds(10))).isEqualTo(4003);
        }
        assertThat(rooms(token)).isEqualTo(401);
        assertThat(rooms(other)).isEqualTo(401);
        refused(login(user, password(user)), 401, "unauthorized");
        refused(http().post("/api/auth/register", json("username", user.toUpperCase(Locale.ROOT), "password", "a takeover attempt")), 409, "conflict");
        JsonNode messages = http().get("/api/rooms/" + room + "/messages", server.newUser("reader")).json().get("messages");
        assertThat(messages).hasSize(1);
        assertThat(messages.get(0).get("from").asText()).isEqualTo(user);
        assertThat(messages.get(0).get("text").asText()).isEqualTo("my last words");
    }

    @Test
    void deleting_an_account_needs_its_password() {
        String user = ParleyServer.unique("keeper");
        String token = http().register(user);

        refused(http().request("DELETE", "/api/auth/account", token, json("password", "not the password")), 403, "forbidden");
        refused(http().request("DELETE", "/api/auth/account", token, "{}"), 400, "bad_request");
        refused(http().request("DELETE", "/api/auth/account", token, null), 400, "bad_request");
        refused(http().request("DELETE", "/api/auth/account", null, json("password", password(user))), 401, "unauthorized");
        refused(http().request("POST", "/api/auth/account", token, json("password", password(user))), 405, "method_not_allowed");
        assertThat(rooms(token)).isEqualTo(200);
    }

    @Test
    void a_body_over_16_kib_on_an_account_route_is_413() {
        String token = server.newUser("verbose");
        refused(http().request("POST", "/api/auth/password", token, json("current", "x".repeat(17 * 1024), "new", "a new passphrase")), 413, "too_large");
    }

    @Test
    void revocations_and_disabled_accounts_outlive_a_restart() {
        String admin = adminToken();
        String leaver = ParleyServer.unique("restartleaver"), banned = ParleyServer.unique("restartbanned");
        String revoked = http().register(leaver), kept = http().login(leaver);
        String bannedToken = http().register(banned);
        assertThat(http().request("POST", "/api/auth/logout", revoked, null).status()).isEqualTo(204);
        assertThat(http().request("PUT", "/api/admin/users/" + banned + "/disabled", admin, null).status()).isEqualTo(204);

        server.restart();

        assertThat(rooms(revoked)).isEqualTo(401);
        assertThat(rooms(kept)).isEqualTo(200);
        assertThat(rooms(bannedToken)).isEqualTo(401);
        refused(login(banned, password(banned)), 403, "account_disabled");
    }

    /** The admin's token, registering it the first time. */
    private static synchronized String adminToken() {
        Http.Response r = login(ADMIN, password(ADMIN));
        return r.status() == 200 ? r.json().get("token").asText() : http().register(ADMIN);
    }
}
