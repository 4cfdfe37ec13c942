package dev.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
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

/**
 * {@code bench storm --kill} at small size, as CI runs it: the server's built jar on a free port, 200
 * connections over 4 rooms with one sender each; the bench SIGKILLs the node and runs the restart
 * command the test gives (the same jar on the same port and data directory, its pid written to a
 * file). The node takes 50 upgrades a second, so the fleet's first 200 connects meet 503 with
 * Retry-After and come back on their turn. Asserted is what the report says a user would see: every
 * connection back, no acknowledged message lost, doubled or reordered across the kill, no 4002 or
 * 4029; never timing.
 */
class StormIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "bench-storm-secret-0123456789-0123456789";

    @TempDir
    Path dir;
    private Process server;
    private Path pidFile;

    @AfterEach
    void stopServers() throws Exception {
        if (server != null && server.isAlive()) {
            server.destroy();
            server.waitFor(30, TimeUnit.SECONDS);
        }
        if (pidFile != null && Files.exists(pidFile)) {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
            // Not this JVM's child (the bench's restart command started it): watch /proc, where a zombie counts as gone.
            try {
                Await.until("the restarted node to exit", Duration.ofSeconds(30), () -> Storm.gone(pid));
            } finally {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void a_killed_node_restarted_gets_every_client_back_and_no_acknowledged_message_is_lost_doubled_or_reordered() throws Exception {
        int port = Ports.free();
        List<String> serve = serve(port);
        ProcessBuilder pb = new ProcessBuilder(serve).redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile());
        pb.environment().put("CHAT_JWT_SECRET", SECRET);
        server = pb.start();
        awaitReady(port);
        pidFile = dir.resolve("node.pid");
        // Started in the background by sh, its output to a file, its pid to the pid file: what the option asks of a command.
        String restart = "CHAT_JWT_SECRET=" + SECRET + " " + String.join(" ", serve) + " > " + dir.resolve("server-again.log") + " 2>&1 & echo $! > " + pidFile;

        List<String> cmd = new ArrayList<>(List.of(BenchSmokeIT.java(), "-jar", BenchSmokeIT.jar("parley.bench.jar", "the bench's jar"), "storm",
                "--url", "http://127.0.0.1:" + port, "--connections", "200", "--rooms", "4", "--senders", "1", "--rate", "5",
                "--before", "3s", "--after", "1s", "--resume-timeout", "45s", "--threads", "2",
                "--kill", "--server-pid", String.valueOf(server.pid()), "--restart-command", restart, "--pid-file", pidFile.toString(), "--json"));
        Process bench = new ProcessBuilder(cmd).redirectOutput(dir.resolve("bench.out").toFile()).redirectError(dir.resolve("bench.err").toFile()).start();
        if (!bench.waitFor(150, TimeUnit.SECONDS)) {
            bench.destroyForcibly();
            throw new AssertionError("bench storm did not finish in 150 s; stderr:\n" + log("bench.err"));
        }
        JsonNode report = JSON.readTree(Files.readString(dir.resolve("bench.out")));
        String context = "report:\n" + report.toPrettyString() + "\nbench stderr:\n" + log("bench.err") + "\nrestarted server:\n" + log("server-again.log");
        assertThat(bench.exitValue()).as(context).isZero();
        assertThat(report.get("scenario").asText()).isEqualTo("storm");
        assertThat(report.get("mode").asText()).isEqualTo("kill");
        long newPid = Long.parseLong(Files.readString(pidFile).trim());
        assertThat(report.at("/node/newPid").asLong()).as(context).isEqualTo(newPid);

        // Every connection dropped with the node, and every one joined the restarted node again.
        assertThat(report.at("/resume/dropped").asInt()).as(context).isEqualTo(200);
        assertThat(report.at("/resume/resumed").asInt()).as(context).isEqualTo(200);
        assertThat(report.at("/resume/gaveUp").asInt()).as(context).isZero();
        assertThat(report.at("/resume/allWithinTimeout").asBoolean()).as(context).isTrue();
        assertThat(report.at("/resume/allSeconds").isNumber()).as(context).isTrue();
        // The first connects passed the node's 50 upgrades a second: refused with 503, back on their turn.
        assertThat(report.at("/reconnectEventsBeforeStorm/refused 503").asLong()).as(context).isPositive();
        assertThat(report.at("/reconnectEvents/dropped").asLong()).as("the kill: no close frame\n" + context).isEqualTo(200);
        assertThat(report.get("reconnectEvents").has("closed 4002")).as(context).isFalse();
        assertThat(report.get("reconnectEvents").has("closed 4029")).as(context).isFalse();

        // Exactly once and in order across the kill, and every send acknowledged in the end (the unacknowledged re-sent).
        long sent = report.get("sent").asLong();
        assertThat(sent).as(context).isPositive();
        assertThat(report.get("acked").asLong()).as(context).isEqualTo(sent);
        assertThat(report.get("losses").asLong()).as(context).isZero();
        assertThat(report.get("undeliveredToAbsent").asLong()).as(context).isZero();
        assertThat(report.get("extra").asLong()).as(context).isZero();
        assertThat(report.get("duplicates").asLong()).as(context).isZero();
        assertThat(report.get("orderViolations").asLong()).as(context).isZero();
        assertThat(report.get("errors").size()).as(context).isZero();
        assertThat(report.get("correct").asBoolean()).as(context).isTrue();
        // The restarted node measured over the storm.
        assertThat(report.at("/server/pid").asLong()).as(context).isEqualTo(newPid);
        assertThat(report.at("/server/peakRssKiB").asLong()).as(context).isPositive();
    }

    private List<String> serve(int port) {
        return List.of(BenchSmokeIT.java(), "-jar", BenchSmokeIT.jar("parley.jar", "the server's jar"), "serve", "--host", "127.0.0.1",
                "--port", String.valueOf(port), "--admin-port", "0", "--data-dir", dir.resolve("data").toString(),
                "--rate-limit", "100000", "--rate-burst", "100000", "--registrations-per-ip", "1000000", "--bcrypt-cost", "4",
                "--upgrade-rate", "50", "--journal-sync", "none" /* a SIGKILL, not a power cut */);
    }

    private void awaitReady(int port) {
        HttpClient http = HttpClient.newHttpClient();
        Await.until("the server to be ready", Duration.ofSeconds(60), () -> {
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

    private String log(String name) {
        try {
            Path p = dir.resolve(name);
            return Files.exists(p) ? Files.readString(p) : "(no " + name + ")";
        } catch (IOException e) {
            return "(unreadable " + name + ": " + e + ")";
        }
    }
}
