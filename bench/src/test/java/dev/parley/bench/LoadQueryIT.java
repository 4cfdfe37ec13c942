package dev.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code bench load} on a small store (20,000 messages over 20 rooms), then the server's jar started
 * on it: what its API shows is what was loaded (every room's seqs from 1 without a gap, its last seq
 * going on from there, the texts, a rare marker word found exactly as often as it was written, a
 * join with since replaying the right seqs, a loaded user logging in), on the embedded H2 and on a
 * real PostgreSQL (whose search index the loader drops and makes again). On H2, {@code bench query}
 * then runs a few requests of each kind.
 */
class LoadQueryIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MESSAGES = 20_000, ROOMS = 20;
    private static final StoreShape SHAPE = new StoreShape(MESSAGES, ROOMS, 30, 5, "load", "loadu", 0, 100);

    @TempDir
    Path dir;
    private Process server;
    private EmbeddedPostgres postgres;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private String url;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.destroy();
            if (!server.waitFor(30, TimeUnit.SECONDS)) server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (postgres != null) postgres.close();
    }

    @Test
    void a_store_loaded_on_h2_is_what_the_server_serves_and_query_measures_it() throws Exception {
        Path data = dir.resolve("data");
        JsonNode load = load("--data-dir", data.toString());
        assertThat(load.get("database").asText()).isEqualTo("h2");
        startServer("--data-dir", data.toString());
        checkThroughTheApi();

        Result query = bench("query", "--url", url, "--rooms", String.valueOf(ROOMS), "--sample-rooms", "4", "--requests", "4",
                "--warmup-requests", "1", "--users", "4", "--concurrency", "2", "--since-back", "30", "--quiet", "--json");
        JsonNode report = query.json();
        String context = "report:\n" + report.toPrettyString() + "\nbench stderr:\n" + log("bench.err") + "\nserver log:\n" + log("server.log");
        assertThat(query.exit()).as(context).isZero();
        for (String kind : List.of("searchRareEveryRoom", "searchCommonEveryRoom", "searchRareOneRoom", "searchCommonOneRoom",
                "historyNewest", "historyDeep", "joinSince")) {
            assertThat(report.at("/" + kind + "/latency/count").asLong()).as(kind + "\n" + context).isEqualTo(4);
            assertThat(report.at("/" + kind + "/errors").asLong()).as(kind + "\n" + context).isZero();
        }
        assertThat(report.at("/searchRareEveryRoom/itemsPerRequest").asDouble()).as(context).isEqualTo(1.0); // quokka: once in 20,000
        assertThat(report.at("/searchCommonEveryRoom/itemsPerRequest").asDouble()).as(context).isEqualTo(50.0); // quasar: a full page
        assertThat(report.at("/historyNewest/itemsPerRequest").asDouble()).as(context).isEqualTo(50.0);
        assertThat(report.at("/joinSince/itemsPerRequest").asDouble()).as(context).isEqualTo(30.0);
        assertThat(report.get("correct").asBoolean()).as(context).isTrue();
    }

    @Test
    void a_store_loaded_on_postgresql_is_what_the_server_serves() throws Exception {
        postgres = EmbeddedPostgres.builder().setServerConfig("fsync", "off").start();
        String database = "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres";
        JsonNode load = load("--database-url", database, "--database-user", "postgres", "--database-password", "postgres");
        assertThat(load.get("database").asText()).isEqualTo("postgresql");
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_search'")) {
            assertThat(rs.next()).as("the search index, made again").isTrue();
            assertThat(rs.getString(1)).contains("gin", "to_tsvector");
        }
        // The same load again is refused: its rooms exist.
        Result again = bench("load", "--messages", "20k", "--rooms", String.valueOf(ROOMS), "--database-url", database,
                "--database-user", "postgres", "--database-password", "postgres");
        assertThat(again.exit()).isNotZero();
        assertThat(log("bench.err")).containsPattern("room load[0-9]+ exists already");
        startServer("--database-url", database, "--database-user", "postgres");
        checkThroughTheApi();

        // --kinds: only the kinds named, in that order (a grown store's run skips the scans).
        Result query = bench("query", "--url", url, "--rooms", String.valueOf(ROOMS), "--sample-rooms", "4", "--requests", "4",
                "--warmup-requests", "1", "--users", "4", "--concurrency", "2", "--kinds", "joinSince,historyDeep", "--quiet", "--json");
        JsonNode report = query.json();
        assertThat(query.exit()).as(report + "\n" + log("bench.err")).isZero();
        assertThat(report.at("/historyDeep/latency/count").asLong()).isEqualTo(4);
        assertThat(report.at("/joinSince/latency/count").asLong()).isEqualTo(4);
        assertThat(report.has("searchRareEveryRoom")).isFalse();
        assertThat(report.has("historyNewest")).isFalse();
        Result wrong = bench("query", "--url", url, "--kinds", "historyDeepest", "--quiet");
        assertThat(wrong.exit()).isNotZero();
        assertThat(log("bench.err")).contains("unknown kind historyDeepest");
    }

    /** Loads the small store with the server's jar started once first (its migrations), and returns the report. */
    private JsonNode load(String... store) throws Exception {
        List<String> args = new ArrayList<>(List.of("load", "--server-jar", jar("parley.jar"), "--messages", "20k", "--rooms", String.valueOf(ROOMS),
                "--users", "30", "--members", "5", "--json"));
        args.addAll(List.of(store));
        Result r = bench(args.toArray(String[]::new));
        JsonNode report = r.json();
        assertThat(r.exit()).as(report + "\n" + log("bench.err")).isZero();
        assertThat(report.get("messages").asLong()).isEqualTo(MESSAGES);
        assertThat(report.at("/markers/zeppelin").asLong()).isEqualTo(20);
        assertThat(report.at("/markers/quokka").asLong()).isEqualTo(1);
        return report;
    }

    private void checkThroughTheApi() throws Exception {
        String token = token("/api/auth/register", "checker", "checker-password-0");
        // A loaded user logs in with the bench's password.
        assertThat(token("/api/auth/login", "loadu7", Registrar.PASSWORD)).isNotEmpty();

        JsonNode room = get(token, "/api/rooms/load7");
        assertThat(room.get("lastSeq").asLong()).isEqualTo(1000);
        assertThat(room.get("kind").asText()).isEqualTo("public");
        assertThat(room.get("members").asInt()).isEqualTo(5);

        // Room 7 from its start: seqs 1 to 1000 without a gap, each with its text.
        TextGenerator texts = new TextGenerator(1);
        List<Long> seqs = new ArrayList<>();
        long after = 0;
        while (true) {
            JsonNode page = get(token, "/api/rooms/load7/messages?after=" + after + "&limit=100");
            for (JsonNode m : page.get("messages")) {
                long seq = m.get("seq").asLong();
                seqs.add(seq);
                assertThat(m.get("text").asText()).isEqualTo(texts.text(SHAPE.message(7, seq)));
                assertThat(m.get("from").asText()).isEqualTo(SHAPE.user(SHAPE.sender(7, SHAPE.message(7, seq))));
                after = seq;
            }
            if (!page.get("hasMore").asBoolean()) break;
        }
        assertThat(seqs).hasSize(1000);
        for (int i = 0; i < seqs.size(); i++) assertThat(seqs.get(i)).isEqualTo(i + 1);

        // zeppelin: in messages 321, 1321, ... (20 of them); quokka: message 4321 only, seq 217 of room 1.
        JsonNode zeppelin = get(token, "/api/search?q=zeppelin&limit=100").get("results");
        assertThat(zeppelin).hasSize(20);
        for (JsonNode m : zeppelin) {
            int r = Integer.parseInt(m.get("room").asText().substring("load".length()));
            assertThat(SHAPE.message(r, m.get("seq").asLong()) % 1000).isEqualTo(321);
        }
        JsonNode quokka = get(token, "/api/search?q=quokka").get("results");
        assertThat(quokka).hasSize(1);
        assertThat(quokka.get(0).get("room").asText()).isEqualTo("load1");
        assertThat(quokka.get(0).get("seq").asLong()).isEqualTo(217);
        assertThat(get(token, "/api/search?q=quokka&room=load1").get("results")).hasSize(1);
        assertThat(get(token, "/api/search?q=quokka&room=load2").get("results")).isEmpty();

        // A join resuming 10 back replays 991 to 1000; a message sent then takes 1001.
        try (JoinSession ws = new JoinSession(http, Target.parse(url), token)) {
            JoinSession.Replay replay = ws.joinSince("load3", 990);
            assertThat(replay.lastSeq()).isEqualTo(1000);
            assertThat(replay.recovered()).isTrue();
            assertThat(replay.messages()).isEqualTo(10);
            assertThat(replay.firstSeq()).isEqualTo(991);
            assertThat(replay.highestSeq()).isEqualTo(1000);
            assertThat(ws.send("load3", "after the load", "it-1")).isEqualTo(1001);
        }
    }

    private void startServer(String... store) throws Exception {
        int port = Ports.free();
        url = "http://127.0.0.1:" + port;
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar("parley.jar"), "serve", "--host", "127.0.0.1", "--port", String.valueOf(port),
                "--admin-port", "0", "--registrations-per-ip", "1000000", "--bcrypt-cost", "4"));
        cmd.addAll(List.of(store));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().put("CHAT_JWT_SECRET", "bench-load-secret-0123456789-0123456789");
        if (postgres != null) pb.environment().put("CHAT_DATABASE_PASSWORD", "postgres");
        server = pb.start();
        Await.until("the server to be ready", Duration.ofSeconds(60), () -> {
            if (!server.isAlive()) throw new AssertionError("the server exited:\n" + log("server.log"));
            try {
                return http.send(HttpRequest.newBuilder(URI.create(url + "/health/ready")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
    }

    private String token(String path, String user, String password) throws Exception {
        String body = "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + " " + user + ": " + r.body()).isBetween(200, 201);
        return JSON.readTree(r.body()).get("token").asText();
    }

    private JsonNode get(String token, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET " + path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private record Result(int exit, String stdout) {
        JsonNode json() throws IOException {
            return JSON.readTree(stdout);
        }
    }

    private Result bench(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", jar("parley.bench.jar")));
        cmd.addAll(List.of(args));
        Path out = dir.resolve("bench.out");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(dir.resolve("bench.err").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("bench did not finish in 120 s; stderr:\n" + log("bench.err"));
        }
        return new Result(p.exitValue(), Files.readString(out));
    }

    private String log(String name) {
        try {
            Path p = dir.resolve(name);
            return Files.exists(p) ? Files.readString(p) : "(no " + name + ")";
        } catch (IOException e) {
            return "(unreadable " + name + ": " + e + ")";
        }
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static String jar(String property) {
        String jar = System.getProperty(property);
        assertThat(jar).as("system property " + property + " (set by failsafe)").isNotNull();
        assertThat(Path.of(jar)).as(jar + ", built; run ./mvnw verify from the root").exists();
        return jar;
    }
}
