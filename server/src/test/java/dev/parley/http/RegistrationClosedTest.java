package dev.parley.http;

import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** CHAT_REGISTRATION=closed: accounts come from elsewhere (an identity provider, or made before). */
class RegistrationClosedTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.REGISTRATION, "closed");

    @Test
    void a_registration_is_refused_with_403_forbidden_and_makes_no_account() {
        String name = ParleyServer.unique("closed");
        String body = Http.JSON.createObjectNode().put("username", name).put("password", "correct horse").toString();
        Http.Response r = server.http().post("/api/auth/register", body);

        assertThat(r.status()).as(r.body()).isEqualTo(403);
        assertThat(r.json().get("error").asText()).isEqualTo("forbidden");
        assertThat(r.json().get("message").asText()).isEqualTo("registration is closed on this server; ask its operator for an account");
        assertThat(server.http().post("/api/auth/login", body).status()).isEqualTo(401);
    }
}
