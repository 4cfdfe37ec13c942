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
    void refreshes_and_logouts_by_the_cookie_are_paced_by_the_cookies_user_and_a_refused_one_leaves_the_session() throws Exception {
        String user = ParleyServer.unique("refresher");
        server.http().register(user);
        Response login = post("/api/auth/login", "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\",\"session\":\"cookie\"}", null);
        assertThat(login.status()).as(login.body()).isEqualTo(200);
        String set = login.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("parley_refresh=")).findFirst().orElseThrow();
        String cookie = set.substring(0, set.indexOf(';'));

        int ok = 0;
        Response refused = null;
        for (int i = 0; i < 8 && refused == null; i++) {
            Response r = post("/api/auth/refresh", null, cookie);
            if (r.status() == 200) ok++;
            else refused = r;
        }
        assertThat(ok).as("refreshes within the burst").isBetween(1, 5);
        assertThat(refused).as("a refresh past the burst").isNotNull();
        assertThat(refused.status()).as(refused.body()).isEqualTo(429);
        assertThat(Http.JSON.readTree(refused.body()).get("error").asText()).isEqualTo("rate_limited");
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(refused.headers().allValues("Set-Cookie")).as("a refused refresh leaves the cookie").isEmpty();

        Response logout = post("/api/auth/logout", "{}", cookie);
        assertThat(logout.status()).as("a logout by the cookie past the burst: " + logout.body()).isEqualTo(429);
        assertThat(logout.headers().allValues("Set-Cookie")).as("a refused logout leaves the cookie").isEmpty();
        Thread.sleep(1100); // waiting out the refill the answer named, not a synchronisation
        assertThat(post("/api/auth/refresh", null, cookie).status()).as("the session lives on").isEqualTo(200);
    }

    private static Response post(String path, String body, String cookie) {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.baseUrl() + path))
                .timeout(java.time.Duration.ofSeconds(15)).header("Content-Type", "application/json")
                .POST(body == null ? java.net.http.HttpRequest.BodyPublishers.noBody() : java.net.http.HttpRequest.BodyPublishers.ofString(body));
        if (cookie != null) b.header("Cookie", cookie);
        return Http.send(b.build());
    }

    @Test
    void the_limits_advertise_the_rate() throws Exception {
        assertThat(Http.JSON.readTree(server.http().get("/api/limits", null).body()).get("apiRate").asInt()).isEqualTo(1);
    }
}
