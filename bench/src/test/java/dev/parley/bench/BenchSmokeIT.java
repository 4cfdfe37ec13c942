package dev.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * The load generator as CI runs it: the server's built jar serves on a free port, and {@code fanout}
 * from the bench's built jar runs a few seconds of tiny load against it. Only exactness is asserted
 * (every send acked, every acked message delivered once and in order to every member), never timing.
 */
class BenchSmokeIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Process server;
    private int port;

    @BeforeEach
    void startServer() throws Exception {
        port = Ports.free();
        ProcessBuilder pb = new ProcessBuilder(java(), "-jar", serverJar(), "serve", "--host", "127.0.0.1", "--port", String.valueOf(port),
                "--admin-port", "0", "--data-dir", dir.resolve("data").toString(), "--rate-limit", "100000", "--rate-burst", "100000",
                "--registrations-per-ip", "1000000", "--bcrypt-cost", "4")
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().put("CHAT_JWT_SECRET", "bench-smoke-secret-0123456789-0123456789"); // serve refuses secrets as flags (ps shows them)
        server = pb.start();
        HttpClient http = HttpClient.newHttpClient();
        Await.until("the server to be ready\n" + log("server.log"), Duration.ofSeconds(60), () -> {
            if (!server.isAlive()) throw new AssertionError("the server exited:\n" + log("server.log"));
            try {
                return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
    }

    @AfterEach
    void stopServer() throws Exception {
        if (server == null) return;
        server.destroy();
        if (!server.waitFor(30, TimeUnit.SECONDS)) server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void fanout_against_the_built_jar_delivers_every_acked_message_once_and_in_order() throws Exception {
        Result r = bench("fanout", "--url", "http://127.0.0.1:" + port, "--rooms", "2", "--members", "5", "--senders", "2",
                "--rate", "20", "--warmup", "1s", "--duration", "3s", "--drain-timeout", "20s", "--threads", "2",
                "--server-pid", String.valueOf(server.pid()), "--server-pid", String.valueOf(ProcessHandle.current().pid()), "--json");
        JsonNode report = r.json();
        String context = "report:\n" + report.toPrettyString() + "\nbench stderr:\n" + log("bench.err");
        assertThat(r.exit()).as(context).isZero();
        assertThat(report.get("scenario").asText()).isEqualTo("fanout");
        long sent = report.get("sent").asLong();
        assertThat(sent).as(context).isPositive();
        assertThat(report.get("acked").asLong()).as(context).isEqualTo(sent);
        assertThat(report.get("expected").asLong()).as(context).isEqualTo(sent * 5);
        assertThat(report.get("received").asLong()).as(context).isEqualTo(report.get("expected").asLong());
        assertThat(report.get("losses").asLong()).as(context).isZero();
        assertThat(report.get("duplicates").asLong()).as(context).isZero();
        assertThat(report.get("orderViolations").asLong()).as(context).isZero();
        assertThat(report.get("disconnects").asLong()).as(context).isZero();
        assertThat(report.get("correct").asBoolean()).as(context).isTrue();
        // Two --server-pid (the server, and this test's JVM standing in for a second process): their sum, and each.
        assertThat(report.at("/server/pids/0").asLong()).as(context).isEqualTo(server.pid());
        assertThat(report.at("/server/each/0/pid").asLong()).as(context).isEqualTo(server.pid());
        assertThat(report.at("/server/each/1/pid").asLong()).as(context).isEqualTo(ProcessHandle.current().pid());
        assertThat(report.at("/server/cpuSeconds").asDouble()).as(context)
                .isCloseTo(report.at("/server/each/0/cpuSeconds").asDouble() + report.at("/server/each/1/cpuSeconds").asDouble(), offset(0.002));
        assertThat(report.at("/latency/count").asLong()).as(context).isPositive();
    }

    @Test
    void the_jar_describes_the_bench_scenarios() throws Exception {
        Result r = bench("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("fanout", "saturation", "capacity", "load", "query", "storm");
    }

    private record Result(int exit, String stdout) {
        JsonNode json() throws IOException {
            return JSON.readTree(stdout);
        }
    }

    private Result bench(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", benchJar()));
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

    static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    private static String serverJar() {
        return jar("parley.jar", "the server's jar");
    }

    private static String benchJar() {
        return jar("parley.bench.jar", "the bench's jar");
    }

    static String jar(String property, String what) {
        String jar = System.getProperty(property);
        assertThat(jar).as("system property " + property + " (set by failsafe)").isNotNull();
        assertThat(Path.of(jar)).as(what + ", built; run ./mvnw verify from the root").exists();
        return jar;
    }
}
