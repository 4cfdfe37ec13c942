package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The monitoring files of deploy/ are true of the server: promtool finds the alert rules valid and
 * runs their unit tests, the Grafana dashboard is dashboard JSON that imports against any Prometheus
 * and whose queries parse, and every metric the dashboard, the rules and their tests name is in a real
 * node's {@code /metrics}. A meter renamed without them fails here.
 *
 * <p>promtool is Debian's {@code prometheus} package, which {@code .ci/run} installs; without it these
 * tests fail and say so, rather than pass having checked nothing.
 */
class MonitoringFilesTest {
    static final Path DASHBOARD = Path.of("deploy/grafana/parley-dashboard.json");
    static final Path RULES = Path.of("deploy/prometheus/parley-alerts.yml");
    static final Path RULE_TESTS = Path.of("deploy/prometheus/parley-alerts.test.yml");
    static final Path PROMETHEUS_CONFIG = Path.of("deploy/prometheus/prometheus.yml");
    /** A metric name of the node's: its own meters, and Micrometer's JVM, process and system ones. */
    private static final Pattern METRIC = Pattern.compile("\\b(?:parley|jvm|process|system)_[a-z0-9_]+\\b");
    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @TempDir
    Path tmp;

    @Test
    void promtool_finds_the_alert_rules_and_the_prometheus_config_valid_and_the_rules_unit_tests_pass() {
        assertThat(promtool("check", "rules", RULES.toString())).contains("SUCCESS");
        assertThat(promtool("test", "rules", RULE_TESTS.toString())).contains("SUCCESS");
        assertThat(promtool("check", "config", PROMETHEUS_CONFIG.toString())).contains("SUCCESS: 1 rule files found");
    }

    @Test
    void every_alert_has_a_severity_words_for_the_operator_and_a_unit_test_where_it_fires_and_one_where_it_stays_quiet() throws IOException {
        JsonNode rules = YAML.readTree(RULES.toFile());
        JsonNode tests = YAML.readTree(RULE_TESTS.toFile());
        Set<String> fires = new HashSet<>();
        Set<String> quiet = new HashSet<>();
        for (JsonNode test : tests.get("tests")) {
            for (JsonNode check : test.get("alert_rule_test")) {
                (check.get("exp_alerts").isEmpty() ? quiet : fires).add(check.get("alertname").asText());
            }
        }
        List<String> alerts = new ArrayList<>();
        for (JsonNode group : rules.get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                String alert = rule.path("alert").asText();
                assertThat(alert).as("every rule is an alert: %s", rule).isNotBlank();
                alerts.add(alert);
                assertThat(rule.path("labels").path("severity").asText()).as(alert).isIn("critical", "warning");
                assertThat(rule.path("annotations").path("summary").asText()).as(alert).isNotBlank();
                assertThat(rule.path("annotations").path("description").asText()).as(alert).isNotBlank();
                assertThat(fires).as("a test where %s fires", alert).contains(alert);
                assertThat(quiet).as("a test where %s stays quiet", alert).contains(alert);
            }
        }
        assertThat(alerts).as("alerts").doesNotHaveDuplicates()
                .contains("ParleyNodeDown", "ParleyNodeNotReady", "ParleyRedisDown", "ParleyDatabaseDown", "ParleyStoreSlow", "ParleySlowConsumersRising");
        assertThat(fires).as("alerts the tests name").isSubsetOf(alerts);
    }

    @Test
    void the_dashboard_is_grafana_json_that_asks_for_its_prometheus_data_source_on_import() throws IOException {
        JsonNode d = JSON.readTree(DASHBOARD.toFile());
        assertThat(d.path("title").asText()).isNotBlank();
        assertThat(d.path("uid").asText()).matches("[a-zA-Z0-9_-]{1,40}");
        assertThat(d.path("schemaVersion").isInt()).isTrue();
        assertThat(d.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
        assertThat(d.path("time").path("from").asText()).isNotBlank();
        JsonNode variables = d.path("templating").path("list");
        assertThat(variables.findValuesAsText("name")).contains("DS_PROMETHEUS", "instance");
        for (JsonNode v : variables) {
            if (v.path("name").asText().equals("DS_PROMETHEUS")) {
                assertThat(v.path("type").asText()).isEqualTo("datasource");
                assertThat(v.path("query").asText()).isEqualTo("prometheus");
            }
        }
        // No data source of the author's machine: every Prometheus one is the variable, so the dashboard imports anywhere.
        for (JsonNode ds : d.findValues("datasource")) {
            if (ds.path("type").asText().equals("prometheus")) assertThat(ds.path("uid").asText()).isEqualTo("${DS_PROMETHEUS}");
        }

        JsonNode panels = d.path("panels");
        assertThat(panels.size()).isGreaterThan(10);
        Set<Integer> ids = new HashSet<>();
        List<int[]> areas = new ArrayList<>();
        for (JsonNode p : panels) {
            String title = p.path("title").asText();
            assertThat(title).isNotBlank();
            assertThat(ids.add(p.path("id").asInt(-1))).as("a unique id: %s", title).isTrue();
            assertThat(p.path("type").asText()).as(title).isIn("row", "timeseries", "stat");
            JsonNode g = p.path("gridPos");
            int x = g.path("x").asInt(-1), y = g.path("y").asInt(-1), w = g.path("w").asInt(), h = g.path("h").asInt();
            assertThat(x).as(title).isNotNegative();
            assertThat(y).as(title).isNotNegative();
            assertThat(w).as(title).isPositive();
            assertThat(h).as(title).isPositive();
            assertThat(x + w).as("%s fits the grid's 24 columns", title).isLessThanOrEqualTo(24);
            for (int[] a : areas) {
                boolean overlap = x < a[0] + a[2] && a[0] < x + w && y < a[1] + a[3] && a[1] < y + h;
                assertThat(overlap).as("%s overlaps another panel", title).isFalse();
            }
            areas.add(new int[]{x, y, w, h});
            if (p.path("type").asText().equals("row")) continue;
            assertThat(p.path("datasource").path("uid").asText()).as(title).isEqualTo("${DS_PROMETHEUS}");
            assertThat(p.path("targets").size()).as("%s has queries", title).isPositive();
            Set<String> refs = new HashSet<>();
            for (JsonNode t : p.path("targets")) {
                assertThat(t.path("expr").asText()).as(title).isNotBlank();
                assertThat(refs.add(t.path("refId").asText())).as("%s: unique refIds", title).isTrue();
            }
        }
    }

    @Test
    void every_query_of_the_dashboard_is_valid_promql() throws IOException {
        // promtool parses expressions in rule files: each query becomes a recording rule, with
        // Grafana's variables replaced by what they stand for.
        ArrayNode rules = YAML.createArrayNode();
        List<String> exprs = JSON.readTree(DASHBOARD.toFile()).findValuesAsText("expr");
        for (int i = 0; i < exprs.size(); i++) {
            String expr = exprs.get(i).replace("$__rate_interval", "1m").replace("$instance", ".*");
            rules.addObject().put("record", "dashboard_query_" + i).put("expr", expr);
        }
        ObjectNode file = YAML.createObjectNode();
        file.putArray("groups").addObject().put("name", "dashboard").set("rules", rules);
        Path queries = tmp.resolve("dashboard-queries.yml");
        YAML.writeValue(queries.toFile(), file);

        assertThat(exprs).hasSizeGreaterThan(20);
        assertThat(promtool("check", "rules", queries.toString())).contains("SUCCESS: " + exprs.size() + " rules found");
    }

    @Test
    void every_metric_the_dashboard_and_the_alerts_name_is_in_a_real_nodes_metrics() throws IOException {
        // Traffic, so that the meters made at first use (frames by type) are there too.
        String token = server.newUser("monitored");
        String room = Rooms.unique("monitored");
        try (WsClient c = server.connect(token)) {
            Rooms.join(c, room);
            Rooms.post(c, room, 2);
        }
        // The GC's meters appear at the first collection after the node bound them.
        Await.until("a GC pause in /metrics", Duration.ofSeconds(20), () -> {
            if (scrape().contains("jvm_gc_pause_seconds_count")) return true;
            System.gc();
            return false;
        });
        Set<String> exported = new TreeSet<>();
        Matcher samples = SAMPLE.matcher(scrape());
        while (samples.find()) {
            String name = samples.group(1);
            exported.add(name);
            // A histogram or summary may be named without its suffix, as a description does.
            exported.add(name.replaceAll("_(bucket|count|sum|max)$", ""));
        }

        Set<String> named = new TreeSet<>();
        for (Path file : List.of(DASHBOARD, RULES, RULE_TESTS)) {
            Matcher m = METRIC.matcher(Files.readString(file));
            while (m.find()) named.add(m.group());
        }

        assertThat(named).as("metrics named (a sign the pattern finds them)").hasSizeGreaterThan(25)
                .contains("parley_ack_latency_seconds_bucket", "parley_ready", "jvm_memory_used_bytes");
        assertThat(exported).as("/metrics of a real node").containsAll(named);
    }

    private static String scrape() {
        Http.Response r = server.admin().get("/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        return r.body();
    }

    /** Runs promtool and returns what it printed; fails, with what it printed, if it fails or is not installed. */
    private static String promtool(String... args) {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return fail("promtool is not installed, so the alert rules cannot be checked: install Debian's prometheus package"
                    + " (apt-get install prometheus; .ci/run does): " + e.getMessage());
        }
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return fail("promtool " + String.join(" ", args) + " did not finish within 60 s");
            }
            assertThat(p.exitValue()).as("promtool %s said:%n%s", String.join(" ", args), out).isZero();
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        }
    }
}
