package dev.parley.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The servers' CPU in windows of about a second, for the peak of a storm (the whole-run figure of
 * {@link ProcStats} would average it away): each {@link #sample} reads {@code utime + stime} of each
 * process and returns the cores they used since the last one. The processes may change between
 * readings (a node killed, one started again): one that is gone counts no more, and a new one
 * counts from its first reading on. A window in which no process was read at both ends (none
 * watched, between a kill and the new node's ready; or only one just added) is unknown, NaN: a 0
 * there would say an idle node where there was none to read. Used by one thread.
 */
final class CpuWindows {
    private Map<Long, Long> lastTicks = new HashMap<>();
    private long lastNanos = -1;

    /** Cores used by {@code pids} since the last call; NaN on the first call, less than half a second after the last, or when none was read at both. */
    double sample(List<Long> pids) {
        long now = System.nanoTime();
        if (lastNanos >= 0 && now - lastNanos < 500_000_000L) return Double.NaN;
        Map<Long, Long> ticks = new HashMap<>();
        long used = 0;
        int readTwice = 0;
        for (long pid : pids) {
            long t = ProcStats.ownTicks(pid);
            if (t < 0) continue;
            ticks.put(pid, t);
            Long before = lastTicks.get(pid);
            if (before != null) {
                used += Math.max(0, t - before);
                readTwice++;
            }
        }
        double cores = lastNanos < 0 || readTwice == 0 ? Double.NaN : used / (double) ProcStats.TICKS_PER_SECOND / ((now - lastNanos) / 1e9);
        lastTicks = ticks;
        lastNanos = now;
        return cores;
    }
}
