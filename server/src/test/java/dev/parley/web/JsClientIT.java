package dev.parley.web;

import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JavaScript package (clients/js) against the built jar: installs its dev dependencies
 * ({@code npm ci}: the {@code ws} WebSocket for Node 20, and TypeScript), checks its declarations with
 * {@code tsc}, and runs its own tests ({@code node --test}) with {@code PARLEY_URL} set to a node
 * started for them. The node's limits are not the defaults (10 sends a second, bursts of 5), so the
 * paced-send test passes only by keeping to the limits the server advertises. Fails with node's
 * output when node fails.
 */
class JsClientIT {
    private static final Path PACKAGE = Path.of("clients", "js");
    private static final Duration NPM_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration TEST_TIMEOUT = Duration.ofMinutes(2);
    private static final int TESTS = 12; // clients/js/test/*.test.mjs hold at least these: a file that lost its tests fails

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    @Test
    void the_javascript_package_passes_its_own_tests_against_the_jar() throws Exception {
        String version = run("node-version", List.of("node", "--version"), Map.of(), Duration.ofSeconds(30)).output.trim();
        assertThat(Integer.parseInt(version.replaceFirst("^v(\\d+)\\..*$", "$1")))
                .as("clients/js needs Node.js 20 or newer (`node --version` says %s)", version).isGreaterThanOrEqualTo(20);
        // The install and the type check go on while the jar starts (most of this test's time).
        CompletableFuture<Void> prepared = CompletableFuture.runAsync(() -> {
            Result install = run("npm-ci", List.of("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"), Map.of(), NPM_TIMEOUT);
            assertThat(install.exit).as("npm ci in clients/js:%n%s", install.output).isZero();
            Result types = run("tsc", List.of("node", "node_modules/typescript/bin/tsc", "-p", "."), Map.of(), NPM_TIMEOUT);
            assertThat(types.exit).as("tsc -p clients/js (index.d.ts against test/usage.ts):%n%s", types.output).isZero();
        });
        long start = System.nanoTime();
        JarProcess node = processes.node("js", Map.of("CHAT_RATE_LIMIT", "10", "CHAT_RATE_BURST", "5"));
        long ready = System.nanoTime();
        try {
            prepared.get(NPM_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
        }

        List<String> command = new ArrayList<>(List.of("node", "--test", "--test-reporter=tap"));
        try (Stream<Path> files = Files.list(PACKAGE.resolve("test"))) {
            files.map(f -> PACKAGE.relativize(f).toString()).filter(f -> f.endsWith(".test.mjs")).sorted().forEach(command::add);
        }
        long installed = System.nanoTime();
        Result tests = run("node-test", command, Map.of("PARLEY_URL", node.baseUrl()), TEST_TIMEOUT);
        long done = System.nanoTime();
        assertThat(tests.exit).as("node --test in clients/js failed:%n%s", tests.output).isZero();
        assertThat(count(tests.output, "fail")).as(tests.output).isZero();
        assertThat(count(tests.output, "skipped")).as(tests.output).isZero();
        assertThat(count(tests.output, "pass")).as(tests.output).isGreaterThanOrEqualTo(TESTS);
        System.out.printf("[JsClientIT] clients/js: tsc clean, node --test %d passed (%s); jar ready in %d ms, npm ci and tsc done %d ms later, tests %d ms%n",
                count(tests.output, "pass"), version, (ready - start) / 1_000_000, (installed - ready) / 1_000_000, (done - installed) / 1_000_000);
    }

    /** A number of the TAP summary, {@code # pass 8}. */
    private static int count(String tap, String what) {
        Matcher m = Pattern.compile("^# " + what + " (\\d+)$", Pattern.MULTILINE).matcher(tap);
        if (!m.find()) throw new AssertionError("no '# " + what + "' line in node's output:\n" + tap);
        return Integer.parseInt(m.group(1));
    }

    private record Result(int exit, String output) {}

    /** Runs {@code command} in clients/js, its output (both streams) to a file; kills it past {@code timeout}. */
    private static Result run(String name, List<String> command, Map<String, String> env, Duration timeout) {
        try {
            Path log = Files.createTempFile("parley-js-" + name, ".log");
            ProcessBuilder pb = new ProcessBuilder(command).directory(PACKAGE.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError(String.join(" ", command) + " still ran after " + timeout + ":\n" + Files.readString(log, StandardCharsets.UTF_8));
                }
                return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command + " (is Node.js installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
