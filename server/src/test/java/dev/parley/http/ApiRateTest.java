package dev.parley.http;

import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.Http.Response;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code CHAT_API_RATE} (PROTOCOL.md section 12): a signed-in user's HTTP API requests past five
 * seconds' worth at once are refused with 429 {@code rate_limited} and {@code Retry-After}, before
 * the route runs; another user is not slowed by it.
 */
class ApiRateTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.API_RATE, "1"); // a burst of 5

    @Test
    void a_user_past_the_burst_gets_429_with_retry_after_and_nothing_is_done_while_another_user_goes_on() throws Exception {
        Http http = server.http();
        String fast = server.newUser("scripted");
        String other = server.newUser("patient");
        for (int i = 0; i < 5; i++) {
            assertThat(http.get("/api/rooms", fast).status()).as("request %d of the burst", i + 1).isEqualTo(200);
        }
        // A room creation past the burst: refused before the route runs, so no room is made.
        Response refused = http.request("POST", "/api/rooms", fast, "{\"name\":\"paced-room\",\"visibility\":\"public\"}");
        assertThat(refused.status()).isEqualTo(429);
        assertThat(Http.JSON.readTree(refused.body()).get("error").asText()).isEqualTo("rate_limited");
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(http.get("/api/rooms/paced-room", other).status()).as("the refused request made nothing").isEqualTo(404);

        // One request a second refills: after the second the refused user asks again.
        Thread.sleep(1100); // waiting out the refill the answer named, not a synchronisation
        assertThat(http.get("/api/rooms", fast).status()).isEqualTo(200);
    }

    @Test
    void the_limits_advertise_the_rate() throws Exception {
        assertThat(Http.JSON.readTree(server.http().get("/api/limits", null).body()).get("apiRate").asInt()).isEqualTo(1);
    }
}
