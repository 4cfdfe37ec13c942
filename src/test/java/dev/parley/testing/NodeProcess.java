package dev.parley.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Parley node run from the built jar as a real process (for `*IT` tests): started with
 * {@code serve} and the given settings as environment variables, its output kept in a file under
 * target/, stopped with SIGTERM ({@link #stop()}) or SIGKILL ({@link #kill()}).
 */
public final class NodeProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final Map<String, String> env;
    private final Path workDir;
    private final Path log;
    private final int port;
    private Process process;

    private NodeProcess(String name, int port, Map<String, String> env, Path workDir) {
        this.name = name;
        this.port = port;
        this.env = env;
        this.workDir = workDir;
        this.log = Path.of("target", "it-logs", name + ".log");
    }

    /** A node on a free port, with {@code env} (CHAT_* variables) on top of the test defaults. */
    public static NodeProcess start(String name, Map<String, String> env) {
        try {
            Path dir = Files.createTempDirectory("parley-node-" + name);
            Map<String, String> all = new LinkedHashMap<>();
            all.put("CHAT_DATA_DIR", dir.resolve("data").toString());
            all.put("CHAT_JWT_SECRET", ParleyServer.SECRET);
            all.put("CHAT_BCRYPT_COST", "4");
            all.put("CHAT_NODE_ID", name);
            all.putAll(env);
            int port = all.containsKey("CHAT_PORT") ? Integer.parseInt(all.get("CHAT_PORT")) : Ports.free();
            all.put("CHAT_PORT", String.valueOf(port));
            NodeProcess n = new NodeProcess(name, port, all, dir);
            n.launch();
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void launch() throws IOException {
        Files.createDirectories(log.getParent());
        String jar = System.getProperty("parley.jar", "target/parley.jar");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-jar", Path.of(jar).toAbsolutePath().toString(), "serve"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("CHAT_"));
        pb.environment().putAll(env);
        process = pb.start();
        awaitReady(Duration.ofSeconds(60));
    }

    /** Starts the node again after a stop or kill: same port, same data. */
    public void restart() {
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void awaitReady(Duration timeout) {
        Await.until(name + " to be ready (see " + log + ")", timeout, () -> {
            if (!process.isAlive()) throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + output());
            return readyStatus() == 200;
        });
    }

    /** The status of /health/ready, or -1 if the node does not answer. */
    public int readyStatus() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/health/ready")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** SIGTERM, then waits for the process to drain and exit. @return its exit code */
    public int stop() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError(name + " did not exit within 60 s of SIGTERM");
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** SIGKILL: the process dies at once, with no drain. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public Path workDir() {
        return workDir;
    }

    /** Everything the process printed so far. */
    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) kill();
    }
}
