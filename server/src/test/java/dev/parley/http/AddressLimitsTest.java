package dev.parley.http;

import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** The limits per client address: registrations (CHAT_REGISTRATIONS_PER_IP) and failed logins (CHAT_LOGIN_FAILURES_PER_IP). */
class AddressLimitsTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.REGISTRATIONS_PER_IP, "3")
            .with(Setting.LOGIN_FAILURES_PER_IP, "5");

    private static String credentials(String username, String password) {
        return Http.JSON.createObjectNode().put("username", username).put("password", password).toString();
    }

    @Test
    void past_its_registrations_and_then_past_its_failed_logins_an_address_is_told_when_to_come_back() {
        for (int i = 0; i < 3; i++) server.http().register(ParleyServer.unique("batch"));
        Http.Response fourth = server.http().post("/api/auth/register", credentials(ParleyServer.unique("batch"), "correct horse"));

        assertThat(fourth.status()).as(fourth.body()).isEqualTo(429);
        assertThat(fourth.json().get("error").asText()).isEqualTo("rate_limited");
        assertThat(fourth.json().get("message").asText()).contains("accounts registered from your address");
        assertThat(fourth.header("Retry-After")).hasValue("60");

        // Five wrong passwords at five names (none reaches its own limit of ten), then the address is slowed.
        for (int i = 0; i < 5; i++) {
            assertThat(server.http().post("/api/auth/login", credentials(ParleyServer.unique("spray"), "guess " + i)).status()).isEqualTo(401);
        }
        Http.Response sixth = server.http().post("/api/auth/login", credentials(ParleyServer.unique("spray"), "guess"));
        assertThat(sixth.status()).as(sixth.body()).isEqualTo(429);
        assertThat(sixth.json().get("message").asText()).contains("from your address");
        assertThat(sixth.header("Retry-After")).isPresent();
    }
}
