package dev.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JDK's {@code jcmd}, beside the java running the bench, to ask a server JVM for a full GC and
 * its heap use. A capacity run measures memory per connection as the change in resident memory; a
 * JVM keeps garbage and grown heap resident until a collection, so the run collects before both
 * readings (G1 also returns free heap to the OS after a full GC).
 */
final class Jcmd {
    // The last line of GC.class_histogram: "Total <instances> <bytes>", live objects after a full GC,
    // whatever the collector (a JVM pinned to one CPU picks Serial, whose heap_info splits generations).
    private static final Pattern TOTAL = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");

    private Jcmd() {}

    /** Full GC in {@code pid}; then its live heap, in KiB, or -1 if jcmd is not there or failed. */
    static long gcAndHeapUsedKb(long pid) {
        if (run(pid, "GC.run") == null) return -1;
        String histogram = run(pid, "GC.class_histogram");
        if (histogram == null) return -1;
        Matcher m = TOTAL.matcher(histogram);
        return m.find() ? Long.parseLong(m.group(1)) / 1024 : -1;
    }

    private static String run(long pid, String command) {
        Path jcmd = ProcessHandle.current().info().command().map(Path::of).map(java -> java.resolveSibling("jcmd")).orElse(null);
        if (jcmd == null || !Files.isExecutable(jcmd)) return null;
        try {
            Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
