package dev.parley.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * CPU time and resident memory of one or more processes, from Linux's {@code /proc}; measures the
 * servers given by {@code --server-pid}, and the bench itself.
 *
 * <ul>
 *   <li>CPU: {@code utime + stime} of {@code /proc/PID/stat} (in clock ticks, {@code getconf CLK_TCK}),
 *       with that of the process's descendants: the live ones, and through {@code cutime + cstime}
 *       those that ended. So a PostgreSQL counts with its backends.</li>
 *   <li>Memory: {@code VmRSS} of {@code /proc/PID/status} of the processes themselves (not their
 *       descendants, which share much of it), sampled every 100 ms for the peak.</li>
 * </ul>
 * Several processes (two nodes, Redis, PostgreSQL) are measured as a group: the usage is their sum,
 * with each one's own.
 */
final class ProcStats implements AutoCloseable {
    static final long TICKS_PER_SECOND = clockTicks();

    private final long[] pids;
    private volatile Baseline baseline;              // what usage() counts from
    private volatile Map<Long, List<Long>> children; // the last listing of /proc
    private long[] lastRssKb;        // guarded by this
    private long[] peakRssKb;        // guarded by this
    private long peakTotalRssKb;     // guarded by this
    private final Thread sampler;
    private volatile boolean running = true;

    private record Baseline(long nanos, long[] ticks, long[] rssKb) {}

    private ProcStats(long[] pids) {
        this.pids = pids;
        restart();
        this.sampler = Thread.ofPlatform().name("bench-rss").daemon(true).start(this::sample);
    }

    /** Counts from now on: CPU, start and peak memory. /proc is read outside the lock, as in usage(). */
    void restart() {
        Map<Long, List<Long>> scan = children();
        long[] ticks = new long[pids.length];
        long[] rss = new long[pids.length];
        for (int i = 0; i < pids.length; i++) {
            ticks[i] = treeTicks(pids[i], scan);
            rss[i] = rssKb(pids[i]);
        }
        synchronized (this) {
            lastRssKb = rss.clone();
            peakRssKb = rss.clone();
            peakTotalRssKb = Arrays.stream(rss).sum();
        }
        children = scan;
        baseline = new Baseline(System.nanoTime(), ticks, rss);
    }

    /** Starts measuring {@code pid}; null if it is not a running process this Linux shows us. */
    static ProcStats start(long pid) {
        return start(List.of(pid));
    }

    /** Starts measuring the group; null if one of them is not a running process this Linux shows us. */
    static ProcStats start(List<Long> pids) {
        if (pids.isEmpty()) return null;
        for (long pid : pids) if (!Files.isReadable(Path.of("/proc/" + pid + "/stat"))) return null;
        return new ProcStats(pids.stream().mapToLong(Long::longValue).toArray());
    }

    static ProcStats self() {
        return start(ProcessHandle.current().pid());
    }

    private void sample() {
        while (running) {
            long[] now = new long[pids.length];
            for (int i = 0; i < pids.length; i++) now[i] = rssKb(pids[i]);
            record(now);
            try {
                TimeUnit.MILLISECONDS.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Takes in a reading of every process's RSS (0: gone) and returns the current one of each. */
    private synchronized long[] record(long[] rss) {
        for (int i = 0; i < pids.length; i++) {
            if (rss[i] > 0) lastRssKb[i] = rss[i];
            peakRssKb[i] = Math.max(peakRssKb[i], lastRssKb[i]);
        }
        peakTotalRssKb = Math.max(peakTotalRssKb, Arrays.stream(lastRssKb).sum());
        return lastRssKb.clone();
    }

    /** What the processes used since {@link #start} or {@link #restart}: their sum, and each one's in {@link Usage#each()}. */
    Usage usage() {
        return usage(true);
    }

    /**
     * The same for a progress line, with the descendants found by the last full reading: listing
     * /proc and reading every process's stat each second took milliseconds of the bench's core.
     */
    Usage usageForProgress() {
        return usage(false);
    }

    private Usage usage(boolean rescan) {
        Map<Long, List<Long>> kids = rescan ? (children = children()) : children;
        Baseline from = baseline;
        double seconds = (System.nanoTime() - from.nanos()) / 1e9;
        long[] rssNow = new long[pids.length];
        double[] cpu = new double[pids.length];
        for (int i = 0; i < pids.length; i++) {
            rssNow[i] = rssKb(pids[i]);
            cpu[i] = Math.max(0, treeTicks(pids[i], kids) - from.ticks()[i]) / (double) TICKS_PER_SECOND;
        }
        long[] rss, peak;
        long peakTotal;
        synchronized (this) {
            rss = record(rssNow);
            peak = peakRssKb.clone();
            peakTotal = peakTotalRssKb;
        }
        List<Usage> each = new ArrayList<>(pids.length);
        for (int i = 0; i < pids.length; i++) {
            each.add(new Usage(List.of(pids[i]), cpu[i], seconds, cpu[i] / seconds, from.rssKb()[i], rss[i], peak[i], List.of()));
        }
        if (pids.length == 1) return each.get(0);
        double cpuTotal = Arrays.stream(cpu).sum();
        return new Usage(Arrays.stream(pids).boxed().toList(), cpuTotal, seconds, cpuTotal / seconds, Arrays.stream(from.rssKb()).sum(), Arrays.stream(rss).sum(), peakTotal, each);
    }

    /** @param each for a group, each process's own usage; empty for a single process */
    record Usage(List<Long> pids, double cpuSeconds, double wallSeconds, double cores, long startRssKb, long rssKb, long peakRssKb, List<Usage> each) {}

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }

    /** CPU ticks of {@code pid} and its descendants, live or ended (and waited for). */
    private static long treeTicks(long pid, Map<Long, List<Long>> children) {
        long[] own = statTimes(pid);
        long total = own[0] + own[1];
        for (long child : children.getOrDefault(pid, List.of())) total += treeTicks(child, children);
        return total;
    }

    /**
     * {utime + stime, cutime + cstime}: fields 14 to 17 of /proc/PID/stat, counted after the
     * command name in parentheses (which may hold spaces); zeros if the process is gone.
     */
    private static long[] statTimes(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[] {Long.parseLong(f[11]) + Long.parseLong(f[12]), Long.parseLong(f[13]) + Long.parseLong(f[14])};
        } catch (IOException | RuntimeException e) {
            return new long[2];
        }
    }

    /** CPU ticks ({@code utime + stime}) of the process itself, or -1 if it is gone: one read of its stat, for readings a second apart. */
    static long ownTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Parent pid to its children, for every process /proc shows. */
    private static Map<Long, List<Long>> children() {
        Map<Long, List<Long>> out = new HashMap<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path p : procs) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    long ppid = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ", 3)[1]);
                    out.computeIfAbsent(ppid, k -> new ArrayList<>()).add(Long.parseLong(p.getFileName().toString()));
                } catch (IOException | RuntimeException e) {
                    // ended meanwhile
                }
            }
        } catch (IOException e) {
            // no /proc: no descendants counted
        }
        return out;
    }

    /** {@code VmRSS} of /proc/PID/status in KiB; 0 if the process is gone. Ten times a second, so no regex. */
    static long rssKb(long pid) {
        try {
            String status = Files.readString(Path.of("/proc/" + pid + "/status"));
            int i = status.indexOf("\nVmRSS:");
            if (i < 0) return 0;
            long kb = 0;
            for (i += 7; i < status.length() && status.charAt(i) != '\n'; i++) {
                char c = status.charAt(i);
                if (c >= '0' && c <= '9') kb = kb * 10 + (c - '0');
            }
            return kb;
        } catch (IOException | RuntimeException e) {
            return 0; // the process is gone
        }
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
