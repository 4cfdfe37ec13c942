package dev.parley.http;

import dev.parley.config.Setting;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** PROTOCOL.md section 1: health, metrics (on the admin listener), the OpenAPI description and its page, the web client. */
class OpsEndpointsTest {
    // One event loop, so that a test can hold all of the node's loops.
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.EVENT_LOOPS, "1");

    @Test
    void live_and_ready_answer_200_up_without_a_token() {
        Http.Response live = server.http().get("/health/live", null);
        Http.Response ready = server.http().get("/health/ready", null);

        assertThat(live.status()).isEqualTo(200);
        assertThat(live.json().get("status").asText()).isEqualTo("UP");
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("status").asText()).isEqualTo("UP");
    }

    /**
     * A reconnect storm fills the shared worker pool with joins' store reads; the readiness check
     * waited behind them, timed out and said DOWN for the whole storm (BENCHMARKS.md entry 58).
     */
    @Test
    void ready_answers_up_while_every_shared_worker_is_busy() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.List<io.vertx.core.Future<Object>> busy = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 64; i++) { // more than the shared pool's 20 threads: the rest queue
                busy.add(server.server().vertx().executeBlocking(() -> {
                    started.countDown();
                    return release.await(30, java.util.concurrent.TimeUnit.SECONDS);
                }, false));
            }
            assertThat(started.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

            Http.Response ready = server.http().get("/health/ready", null);
            Http.Response detailed = server.admin().get("/health/ready", null);

            assertThat(ready.status()).isEqualTo(200);
            assertThat(detailed.status()).isEqualTo(200);
            assertThat(detailed.json().get("checks").get("database").asText()).isEqualTo("UP");
        } finally {
            release.countDown();
        }
        for (io.vertx.core.Future<Object> f : busy) f.toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * The admin listener has a Vert.x and an event loop of its own: a node whose loop is held for
     * seconds (a reconnect storm's turns at its peak) still answers readiness and metrics there, where
     * an orchestrator and Prometheus read them with a timeout (BENCHMARKS.md entry 59).
     */
    @Test
    void the_admin_listener_answers_while_the_nodes_event_loop_is_held() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        server.server().vertx().runOnContext(x -> {
            held.countDown();
            try {
                release.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(held.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

            Http.Response live = server.admin().get("/health/live", null);
            Http.Response ready = server.admin().get("/health/ready", null);
            HttpResponse<String> metrics = adminRaw("/metrics");

            assertThat(live.status()).isEqualTo(200);
            assertThat(ready.status()).isEqualTo(200);
            assertThat(ready.json().get("checks").get("database").asText()).isEqualTo("UP");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(value(metrics.body(), "parley_ready")).isEqualTo(1);
        } finally {
            release.countDown();
        }
        assertThat(server.http().get("/health/ready", null).status()).isEqualTo(200); // and the node goes on
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

            HttpResponse<String> r = adminRaw("/metrics");
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
            assertThat(m).contains("parley_revoked_closes_total");
            assertThat(value(m, "parley_resumes_total{recovered=\"true\"}")).isGreaterThanOrEqualTo(1);
            assertThat(m).contains("parley_resumes_total{recovered=\"false\"}");
            assertThat(m).contains("# TYPE parley_connections_open gauge");
            // The sends' acks, timed; readiness and each backend, checked by this scrape.
            assertThat(value(m, "parley_ack_latency_seconds_count")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_ack_latency_seconds_bucket{le=\"+Inf\"}")).isGreaterThanOrEqualTo(2);
            assertThat(value(m, "parley_ready")).isEqualTo(1);
            assertThat(value(m, "parley_draining")).isEqualTo(0);
            for (String d : new String[]{"database", "broker", "presence"}) {
                assertThat(value(m, "parley_dependency_up{dependency=\"" + d + "\"}")).as(d).isEqualTo(1);
            }
            // Meters of a cluster are there on one node too, at 0, so that dashboards find them anywhere.
            assertThat(value(m, "parley_broker_events_dropped_total")).isZero();
            assertThat(value(m, "parley_broker_lag_seconds_count")).isZero();
            assertThat(m).contains("parley_delivery_repaired_total");
        }
        Await.until("the closed connection to leave the gauge", Duration.ofSeconds(20),
                () -> value(adminRaw("/metrics").body(), "parley_connections_open") == open - 1);
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
    void the_limits_are_advertised_without_a_token_and_by_default_are_the_documented_ones() {
        HttpResponse<String> r = raw("/api/limits");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-cache");
        Http.Response body = new Http.Response(r.statusCode(), r.body());
        // PROTOCOL.md 3.4, 12 and 14
        assertThat(body.json().get("sendRate").asText()).isEqualTo("20");
        assertThat(body.json().get("sendBurst").asInt()).isEqualTo(40);
        assertThat(body.json().get("maxFrameBytes").asInt()).isEqualTo(16_384);
        assertThat(body.json().get("maxTextLength").asInt()).isEqualTo(4000);
        assertThat(body.json().get("roomPattern").asText()).isEqualTo("^(?:[a-z0-9][a-z0-9_-]{0,63})$");
        assertThat(body.json().get("roomNameMaxLength").asInt()).isEqualTo(64);
        assertThat(body.json().get("usernamePattern").asText()).isEqualTo("^(?:[A-Za-z0-9_.-]{3,32})$");
        assertThat(body.json().get("replayLimit").asInt()).isEqualTo(1000);
    }

    @Test
    void the_openapi_description_is_served_as_yaml() {
        HttpResponse<String> r = raw("/openapi.yaml");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).contains("yaml");
        assertThat(r.body()).startsWith("openapi: 3").contains("/api/auth/register", "/api/auth/login", "/api/rooms",
                "/api/rooms/{room}/messages", "/api/rooms/{room}/presence", "/api/limits", "/api/rooms/{room}:", "/api/dms",
                "/api/rooms/{room}/members/{user}", "/api/rooms/{room}/bans/{user}");
    }

    @Test
    void the_asyncapi_description_of_the_websocket_is_served_as_yaml_beside_it() throws Exception {
        HttpResponse<String> r = raw("/asyncapi.yaml");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).contains("yaml");
        assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        try (var in = getClass().getClassLoader().getResourceAsStream("asyncapi.yaml")) {
            assertThat(r.body()).startsWith("asyncapi: 3.0.0").isEqualTo(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
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
        assertThat(raw("/docs/assets/swagger-ui.css").statusCode()).isEqualTo(200);
        // The webjar's own pages are not served: a stock petstore page, an OAuth redirect page.
        assertThat(raw("/docs/assets/index.html").statusCode()).isEqualTo(404);
        assertThat(raw("/docs/assets/oauth2-redirect.html").statusCode()).isEqualTo(404);
    }

    @Test
    void the_web_client_is_served_at_the_root() {
        HttpResponse<String> r = raw("/");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
    }

    @Test
    void files_in_the_working_directory_are_not_served_in_place_of_the_jars() throws Exception {
        // Vert.x's own file serving looks in the working directory first; in the Docker image that is
        // the data volume. A file planted there must not reach the web client's origin.
        Path cwd = Path.of("").toAbsolutePath();
        Path webDir = cwd.resolve("web");
        boolean madeWebDir = !Files.exists(webDir);
        Path planted = webDir.resolve("planted-" + System.nanoTime() + ".js");
        Path openapi = cwd.resolve("openapi.yaml");
        assertThat(openapi).as("a stray openapi.yaml in %s", cwd).doesNotExist();
        try {
            Files.createDirectories(webDir);
            Files.writeString(planted, "alert('planted')");
            Files.writeString(openapi, "openapi: 0.0.0 planted");

            assertThat(raw("/" + planted.getFileName()).statusCode()).isEqualTo(404);
            HttpResponse<String> api = raw("/openapi.yaml");
            assertThat(api.statusCode()).isEqualTo(200);
            assertThat(api.body()).startsWith("openapi: 3").doesNotContain("planted");
        } finally {
            Files.deleteIfExists(planted);
            Files.deleteIfExists(openapi);
            if (madeWebDir) Files.deleteIfExists(webDir);
        }
    }

    @Test
    void static_files_are_revalidated_by_etag_so_an_upgrade_shows_at_once() {
        for (String path : new String[] {"/", "/app.js", "/openapi.yaml", "/asyncapi.yaml", "/docs/", "/docs/assets/swagger-ui-bundle.js"}) {
            HttpResponse<String> first = raw(path);
            assertThat(first.statusCode()).as(path).isEqualTo(200);
            assertThat(first.headers().firstValue("Cache-Control")).as(path).hasValue("no-cache");
            String etag = first.headers().firstValue("ETag").orElseThrow(() -> new AssertionError("no ETag on " + path));

            HttpResponse<String> again = send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).header("If-None-Match", etag));
            assertThat(again.statusCode()).as(path).isEqualTo(304);
            assertThat(again.body()).as(path).isEmpty();

            HttpResponse<String> other = send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).header("If-None-Match", "\"other\""));
            assertThat(other.statusCode()).as(path).isEqualTo(200);
            assertThat(other.body()).as(path).isEqualTo(first.body());
        }
    }

    @Test
    void answers_that_carry_a_token_are_not_to_be_cached() {
        String name = ParleyServer.unique("nostore");
        String body = "{\"username\":\"" + name + "\",\"password\":\"correct horse\"}";
        for (String path : new String[] {"/api/auth/register", "/api/auth/login"}) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));

            assertThat(r.statusCode()).as(path).isIn(200, 201);
            assertThat(r.body()).as(path).contains("\"token\"");
            assertThat(r.headers().firstValue("Cache-Control")).as(path).hasValue("no-store");
        }
    }

    @Test
    void head_answers_like_get_without_a_body() {
        for (String path : new String[] {"/health/live", "/health/ready", "/", "/openapi.yaml", "/asyncapi.yaml"}) {
            HttpResponse<String> get = raw(path);
            HttpResponse<String> head = send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).method("HEAD", HttpRequest.BodyPublishers.noBody()));

            assertThat(head.statusCode()).as(path).isEqualTo(200);
            assertThat(head.body()).as(path).isEmpty();
            assertThat(head.headers().firstValue("Content-Type")).as(path).isEqualTo(get.headers().firstValue("Content-Type"));
        }
    }

    @Test
    void paths_that_leave_the_served_folders_find_nothing() {
        for (String path : new String[] {"/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/docs/..%2f..%2fpom.xml",
                "/docs/assets/..%2f..%2f..%2fMETA-INF/MANIFEST.MF", "/db/migration/V1__init.sql", "/logback.xml", "/web/index.html"}) {
            HttpResponse<String> r = raw(path);
            assertThat(r.statusCode()).as(path).isIn(400, 404);
            assertThat(r.body()).as(path).doesNotContain("root:", "CREATE TABLE", "<configuration", "Manifest-Version");
        }
    }

    private static HttpResponse<String> raw(String path) {
        return send(HttpRequest.newBuilder(URI.create(server.baseUrl() + path)));
    }

    private static HttpResponse<String> adminRaw(String path) {
        return send(HttpRequest.newBuilder(URI.create(server.adminBaseUrl() + path)));
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try (HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build()) {
            return client.send(request.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(request.build().method() + " " + request.build().uri(), e);
        }
    }
}
