package dev.parley.http;

import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 1: health, metrics, the OpenAPI description and its page, the web client. */
class OpsEndpointsTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @Test
    void live_and_ready_answer_200_up_without_a_token() {
        Http.Response live = server.http().get("/health/live", null);
        Http.Response ready = server.http().get("/health/ready", null);

        assertThat(live.status()).isEqualTo(200);
        assertThat(live.json().get("status").asText()).isEqualTo("UP");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("status").asText()).isEqualTo("UP");
    }

    @Test
    void metrics_show_the_parley_meters_in_the_prometheus_text_format() {
        String token = server.newUser("metered");
        String room = Rooms.unique("metered");
        double open;
        try (WsClient c = server.connect(token)) {
            Rooms.join(c, room);
            Rooms.post(c, room, 2);
            c.send("type", "no-such-type", "ref", "bad");
            c.await("error", "bad");
            c.send("type", "join", "room", room, "since", 1, "ref", "resume");
            c.await("joined", "resume");
            c.send("type", "ping", "ref", "p");
            c.await("pong", "p");

            HttpResponse<String> r = raw("/metrics");
            String m = r.body();

            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
            open = value(m, "parley_connections_open");
            assertThat(open).isGreaterThanOrEqualTo(1);
            assertThat(value(m, "parley_frames_in_total{type=\"send\"}")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_frames_in_total{type=\"join\"}")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_frames_in_total{type=\"invalid\"}")).isGreaterThanOrEqualTo(1);
            assertThat(value(m, "parley_frames_out_total{type=\"ack\"}")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_frames_out_total{type=\"message\"}")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_frames_out_total{type=\"pong\"}")).isGreaterThanOrEqualTo(1);
            assertThat(value(m, "parley_messages_appended_total")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_append_batch_size_count")).isGreaterThanOrEqualTo(1);
            assertThat(value(m, "parley_append_batch_size_sum")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_append_batch_latency_seconds_count")).isGreaterThanOrEqualTo(1);
            assertThat(value(m, "parley_deliveries_total")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_errors_total{code=\"bad_request\"}")).isGreaterThanOrEqualTo(1);
            assertThat(m).contains("parley_errors_total{code=\"rate_limited\"}");
            assertThat(m).contains("parley_slow_consumer_closes_total");
            assertThat(value(m, "parley_resumes_total{recovered=\"true\"}")).isGreaterThanOrEqualTo(1);
            assertThat(m).contains("parley_resumes_total{recovered=\"false\"}");
            assertThat(m).contains("# TYPE parley_connections_open gauge");
        }
        Await.until("the closed connection to leave the gauge", Duration.ofSeconds(20),
                () -> value(raw("/metrics").body(), "parley_connections_open") == open - 1);
    }

    /** The value of the first sample whose name (with labels, in any order) matches. */
    static double value(String metrics, String sample) {
        String name = sample.contains("{") ? sample.substring(0, sample.indexOf('{')) : sample;
        String[] labels = sample.contains("{") ? sample.substring(sample.indexOf('{') + 1, sample.length() - 1).split(",") : new String[0];
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(metrics);
        while (m.find()) {
            String have = m.group(1) == null ? "" : m.group(1);
            boolean all = true;
            for (String l : labels) all &= have.contains(l);
            if (all) return Double.parseDouble(m.group(2));
        }
        throw new AssertionError("no sample " + sample + " in /metrics");
    }

    @Test
    void the_openapi_description_is_served_as_yaml() {
        HttpResponse<String> r = raw("/openapi.yaml");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).contains("yaml");
        assertThat(r.body()).startsWith("openapi: 3").contains("/api/auth/register", "/api/auth/login", "/api/rooms",
                "/api/rooms/{room}/messages", "/api/rooms/{room}/presence");
    }

    @Test
    void docs_lead_to_a_page_that_reads_the_openapi_description() {
        HttpResponse<String> redirect = raw("/docs");
        HttpResponse<String> page = raw("/docs/");

        assertThat(redirect.statusCode()).isBetween(301, 308);
        assertThat(redirect.headers().firstValue("Location").orElse("")).endsWith("/docs/");
        assertThat(page.statusCode()).as("GET /docs/ answered %s %s", page.statusCode(), page.headers().map()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(page.body()).contains("openapi.yaml");
        assertThat(raw("/docs/assets/swagger-ui-bundle.js").statusCode()).isEqualTo(200);
    }

    @Test
    void the_web_client_is_served_at_the_root() {
        HttpResponse<String> r = raw("/");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
    }

    private static HttpResponse<String> raw(String path) {
        try (HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()) {
            return client.send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(15)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError("GET " + path, e);
        }
    }
}
