package dev.parley.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The node's side of {@code bench storm}: ends the node, with SIGKILL or with SIGTERM (which drains
 * it: not ready, pending commits finished, clients closed with 1001, then exit), waits until it is
 * gone, starts it again with the user's {@code --restart-command} if there is one, and waits for the
 * new process's {@code /health/ready}. Times are run-clock nanoseconds.
 *
 * <p>The restart command runs under {@code sh -c}; it starts the node in the background and writes
 * the node's pid to {@code --pid-file} (e.g. {@code java -jar ... > node.log 2>&1 & echo $! > node.pid}),
 * then returns. Its own output is copied to the bench's stderr (stdout is the report): the node's own
 * output should go to a file, as it outlives the bench.
 */
final class Storm {
    enum Mode { KILL, DRAIN }

    /**
     * What happened to the node: when it was signalled and gone, and with a restart, the new pid, when
     * the command returned and when the new node answered ready (-1 without a restart).
     */
    record Outcome(long signalAt, long exitedAt, long newPid, long restartedAt, long readyAt) {}

    private final Mode mode;
    private final long pid;
    private final String restartCommand;
    private final Path pidFile;
    private final Target readyTarget;
    private final Duration readyTimeout;
    private final RunClock clock;
    private final PrintStream err;

    /** @param restartCommand null: no restart (a drain to other nodes) */
    Storm(Mode mode, long pid, String restartCommand, Path pidFile, Target readyTarget, Duration readyTimeout, RunClock clock, PrintStream err) {
        this.mode = requireNonNull(mode, "mode");
        this.pid = pid;
        this.restartCommand = restartCommand;
        this.pidFile = pidFile;
        this.readyTarget = readyTarget;
        this.readyTimeout = requireNonNull(readyTimeout, "readyTimeout");
        this.clock = requireNonNull(clock, "clock");
        this.err = requireNonNull(err, "err");
    }

    Outcome run() throws IOException, InterruptedException {
        ProcessHandle node = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("--server-pid " + pid + ": no such process"));
        long signalAt = clock.now();
        boolean signalled = mode == Mode.KILL ? node.destroyForcibly() : node.destroy();
        if (!signalled) throw new IllegalStateException("could not signal process " + pid);
        // A drain waits for pending commits (CHAT_DRAIN_TIMEOUT, 10 s by default) and closes every client first.
        awaitGone(pid, mode == Mode.KILL ? Duration.ofSeconds(30) : Duration.ofSeconds(120));
        long exitedAt = clock.now();
        err.printf("storm: node %d %s, gone after %.2f s%n", pid, mode == Mode.KILL ? "killed (SIGKILL)" : "draining (SIGTERM)", (exitedAt - signalAt) / 1e9);
        if (restartCommand == null) return new Outcome(signalAt, exitedAt, -1, -1, -1);
        long newPid = restart();
        long restartedAt = clock.now();
        long readyAt = awaitReady(newPid);
        err.printf("storm: node %d started, ready %.2f s after the signal%n", newPid, (readyAt - signalAt) / 1e9);
        return new Outcome(signalAt, exitedAt, newPid, restartedAt, readyAt);
    }

    /** Runs the restart command and returns the pid it wrote. */
    private long restart() throws IOException, InterruptedException {
        Files.deleteIfExists(pidFile); // a pid left from an earlier run must not pass for the new one
        Process p = new ProcessBuilder("sh", "-c", restartCommand).redirectErrorStream(true).start();
        // Daemon: if the command leaves the node writing to this pipe, the copy lasts as long as the bench.
        Thread.ofPlatform().daemon(true).name("bench-restart-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) err.println("restart: " + line);
            } catch (IOException e) {
                // the command ended
            }
        });
        if (!p.waitFor(readyTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("--restart-command did not return within " + readyTimeout + " (start the node in the background: ... &)");
        }
        if (p.exitValue() != 0) throw new IllegalStateException("--restart-command exited with " + p.exitValue());
        String text;
        try {
            text = Files.readString(pidFile).trim();
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("--restart-command wrote no pid to --pid-file " + pidFile);
        }
        long newPid;
        try {
            newPid = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("--pid-file " + pidFile + " holds no pid: " + text);
        }
        if (gone(newPid)) throw new IllegalStateException("the restarted node (pid " + newPid + ") is not running");
        return newPid;
    }

    /** Polls the node's readiness until it answers 200; the run-clock time it did. */
    private long awaitReady(long newPid) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(readyTarget.url() + "/health/ready")).timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + readyTimeout.toNanos();
        while (true) {
            if (gone(newPid)) throw new IllegalStateException("the restarted node (pid " + newPid + ") exited before it was ready");
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return clock.now();
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) throw new IllegalStateException("the restarted node was not ready within " + readyTimeout);
            Thread.sleep(20);
        }
    }

    private static void awaitGone(long pid, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!gone(pid)) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("process " + pid + " did not exit within " + timeout);
            Thread.sleep(5);
        }
    }

    /**
     * No such process, or a zombie: dead, only not yet waited for by its parent (a test's JVM, a
     * shell), which ProcessHandle.isAlive would still call alive.
     */
    static boolean gone(long pid) {
        if (!Files.isDirectory(Path.of("/proc/self"))) return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true); // not Linux
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            int state = stat.lastIndexOf(')') + 2;
            return state >= stat.length() || stat.charAt(state) == 'Z' || stat.charAt(state) == 'X';
        } catch (IOException e) {
            return true;
        }
    }
}
