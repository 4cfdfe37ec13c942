package dev.parley.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the built jar ({@code -Dparley.jar}, set by failsafe) as real processes with the running JDK,
 * for tests of what only a process shows: a SIGKILL, a SIGTERM, the working directory. Each process
 * writes its output to a file under {@code target/it-logs/}; the files are printed when a test fails,
 * and processes still running after a test are killed. Register with
 * {@code @RegisterExtension final JarProcesses processes = new JarProcesses();}.
 */
public final class JarProcesses implements BeforeEachCallback, AfterEachCallback, TestWatcher {
    private final List<JarProcess> started = java.util.Collections.synchronizedList(new ArrayList<>()); // nodes may start side by side
    private Path logDir;

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        logDir = jar().getParent().resolve("it-logs").resolve(context.getRequiredTestClass().getSimpleName())
                .resolve(context.getRequiredTestMethod().getName() + "-" + System.currentTimeMillis());
        Files.createDirectories(logDir);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (JarProcess p : started) p.kill();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        for (JarProcess p : started) {
            System.out.println("----- output of process " + p.name + " (" + p.log + ") -----");
            System.out.print(p.output());
            System.out.println("----- end of output of " + p.name + " -----");
        }
    }

    /** The jar under test. */
    public static Path jar() {
        String path = System.getProperty("parley.jar");
        if (path == null) throw new IllegalStateException("-Dparley.jar is not set: run integration tests with ./mvnw verify");
        Path jar = Path.of(path);
        if (!Files.isRegularFile(jar)) throw new IllegalStateException("no jar at " + jar + ": run ./mvnw verify (package first)");
        return jar;
    }

    /**
     * Starts a node ({@code serve}) configured by {@code settings} (CHAT_* variables) on top of test
     * defaults: a free port, a data dir of its own, the test JWT secret, fast password hashing.
     * Returns once it is ready.
     */
    public JarProcess node(String name, Map<String, String> settings) {
        try {
            Path dir = Files.createTempDirectory("parley-" + name);
            Map<String, String> env = new java.util.LinkedHashMap<>();
            env.put("CHAT_HOST", "127.0.0.1");
            env.put("CHAT_PORT", String.valueOf(Ports.free()));
            env.put("CHAT_ADMIN_PORT", String.valueOf(Ports.free()));
            env.put("CHAT_DATA_DIR", dir.resolve("data").toString());
            env.put("CHAT_JWT_SECRET", ParleyServer.SECRET);
            env.put("CHAT_BCRYPT_COST", "4");
            // As ParleyServer: every test client comes from 127.0.0.1 (tests of these limits set their own).
            env.put("CHAT_LOGIN_FAILURES_PER_IP", "1000000");
            env.put("CHAT_REGISTRATIONS_PER_IP", "1000000");
            env.put("CHAT_PASSWORD_QUEUE", "10000");
            env.put("CHAT_NODE_ID", name);
            env.putAll(settings);
            JarProcess p = start(name, dir, List.of("serve"), env);
            p.env = Map.copyOf(env);
            p.workDir = dir;
            p.port = Integer.parseInt(env.get("CHAT_PORT"));
            p.adminPort = Integer.parseInt(env.get("CHAT_ADMIN_PORT"));
            p.awaitReady(p.port, Duration.ofSeconds(90));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a node again as {@link #node} started {@code before} (stopped or killed by now): the same
     * settings, data dir and ports. Returns once it is ready.
     */
    public JarProcess restart(JarProcess before, String name) {
        if (before.env == null) throw new IllegalArgumentException(before.name + " was not started by node()");
        if (before.isAlive()) throw new IllegalStateException(before.name + " is still running");
        JarProcess p = start(name, before.workDir, List.of("serve"), before.env);
        p.env = before.env;
        p.workDir = before.workDir;
        p.port = before.port;
        p.adminPort = before.adminPort;
        p.awaitReady(p.port, Duration.ofSeconds(90));
        return p;
    }

    /** Starts {@code java -jar <jar> <args>} in {@code workDir}, without any CHAT_* variable of this environment. */
    public JarProcess start(String name, Path workDir, List<String> args) {
        return start(name, workDir, args, Map.of());
    }

    /** The same, with {@code extraEnv} added to the environment. */
    public JarProcess start(String name, Path workDir, List<String> args, Map<String, String> extraEnv) {
        String java = ProcessHandle.current().info().command().orElseThrow(() -> new IllegalStateException("cannot tell which java runs this test"));
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-jar", jar().toString()));
        command.addAll(args);
        Path log = logDir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("CHAT_") || k.equals("PARLEY_LOG_LEVEL"));
        // Integration tests run side by side (server/pom.xml): the default admin port, 9180, would be
        // shared by two nodes of two tests, and the second would not start. Any port (0), not one
        // picked free here: another process can take a port between its pick and the node's bind
        // (CI once saw a node exit so, "the address is already in use"). node() picks one, as its
        // callers read it.
        env.put("CHAT_ADMIN_PORT", "0");
        env.putAll(extraEnv);
        try {
            JarProcess p = new JarProcess(name, pb.start(), log);
            started.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** One running jar. */
    public static final class JarProcess {
        private final String name;
        private final Process process;
        private final Path log;
        private int port = -1;
        private int adminPort = -1;
        private Map<String, String> env; // as node() started it, for restart()
        private Path workDir;

        private JarProcess(String name, Process process, Path log) {
            this.name = name;
            this.process = process;
            this.log = log;
        }

        /** Waits until {@code GET /health/ready} answers 200; fails at once if the process exits. */
        public void awaitReady(int port, Duration timeout) {
            Http http = new Http("http://127.0.0.1:" + port);
            Await.until(name + " to be ready on port " + port, timeout, () -> {
                if (!process.isAlive()) throw new AssertionError(name + " exited with " + process.exitValue() + " before it was ready");
                try {
                    return http.get("/health/ready", null).status() == 200;
                } catch (UncheckedIOException e) {
                    return false;
                }
            });
        }

        /** SIGKILL: no shutdown hook runs, nothing is flushed; waits until the process is gone. */
        public int kill() {
            process.destroyForcibly();
            return waitFor(Duration.ofSeconds(30));
        }

        /** SIGTERM: the JVM runs its shutdown hooks (the drain). */
        public void terminate() {
            process.destroy();
        }

        /** @return the exit code, after waiting at most {@code timeout} for the process to end */
        public int waitFor(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError(name + " still runs after " + timeout);
                }
                return process.exitValue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        /** The port of a process started with {@link JarProcesses#node}. */
        public int port() {
            if (port < 0) throw new IllegalStateException(name + " was not started as a node");
            return port;
        }

        public String baseUrl() {
            return "http://127.0.0.1:" + port();
        }

        /** The admin listener ({@code /metrics}, detailed health) of a process started with {@link JarProcesses#node}. */
        public String adminBaseUrl() {
            if (adminPort < 0) throw new IllegalStateException(name + " was not started as a node");
            return "http://127.0.0.1:" + adminPort;
        }

        /** SIGTERM, then waits for the drain to finish and the process to exit. @return its exit code */
        public int stop() {
            terminate();
            return waitFor(Duration.ofSeconds(60));
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        public long pid() {
            return process.pid();
        }

        /** Everything the process wrote to stdout and stderr so far. */
        public String output() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(cannot read " + log + ": " + e + ")";
            }
        }

        public Path log() {
            return log;
        }
    }
}
