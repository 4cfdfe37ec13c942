package dev.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * CPU time and resident memory of a process, from Linux's {@code /proc}: {@code utime + stime} of
 * {@code /proc/PID/stat} (in clock ticks, {@code getconf CLK_TCK}), and {@code VmRSS} of
 * {@code /proc/PID/status} sampled every 100 ms for the peak. Measures the server given by
 * {@code --server-pid}, and the bench itself.
 */
final class ProcStats implements AutoCloseable {
    static final long TICKS_PER_SECOND = clockTicks();

    private final long pid;
    private final long startTicks;
    private final long startNanos = System.nanoTime();
    private final long startRssKb;
    private volatile long peakRssKb;
    private volatile long lastRssKb;
    private final Thread sampler;
    private volatile boolean running = true;

    private ProcStats(long pid) {
        this.pid = pid;
        this.startTicks = cpuTicks(pid);
        this.startRssKb = rssKb(pid);
        this.peakRssKb = startRssKb;
        this.lastRssKb = startRssKb;
        this.sampler = Thread.ofPlatform().name("bench-rss-" + pid).daemon(true).start(this::sample);
    }

    /** Starts measuring {@code pid}; null if it is not a running process this Linux shows us. */
    static ProcStats start(long pid) {
        if (!Files.isReadable(Path.of("/proc/" + pid + "/stat"))) return null;
        return new ProcStats(pid);
    }

    static ProcStats self() {
        return start(ProcessHandle.current().pid());
    }

    private void sample() {
        while (running) {
            long rss = rssKb(pid);
            if (rss > 0) {
                lastRssKb = rss;
                if (rss > peakRssKb) peakRssKb = rss;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** What the process used since {@link #start}. */
    Usage usage() {
        long ticks = cpuTicks(pid) - startTicks;
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double cpu = ticks / (double) TICKS_PER_SECOND;
        long rss = rssKb(pid);
        return new Usage(pid, cpu, seconds, cpu / seconds, startRssKb, rss > 0 ? rss : lastRssKb, Math.max(peakRssKb, rss));
    }

    record Usage(long pid, double cpuSeconds, double wallSeconds, double cores, long startRssKb, long rssKb, long peakRssKb) {}

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }

    /** utime + stime; fields 14 and 15 of /proc/PID/stat, counted after the command name in parentheses. */
    static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException | RuntimeException e) {
            // the process is gone
        }
        return 0;
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) return Long.parseLong(out);
        } catch (IOException | RuntimeException e) {
            // fall through
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100; // what Linux uses on every architecture we run on
    }
}
