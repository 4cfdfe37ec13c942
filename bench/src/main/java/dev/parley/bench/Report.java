package dev.parley.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a run prints at the end: a two-column table for people, or with {@code --json} one JSON
 * object for machines (same keys, nested the same way). Latencies are milliseconds, memory KiB.
 */
final class Report {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Report() {}

    static Map<String, Object> latency(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.getTotalCount());
        m.put("p50", ms(h.getValueAtPercentile(50)));
        m.put("p90", ms(h.getValueAtPercentile(90)));
        m.put("p99", ms(h.getValueAtPercentile(99)));
        m.put("p999", ms(h.getValueAtPercentile(99.9)));
        m.put("max", ms(h.getMaxValue()));
        m.put("mean", round(h.getTotalCount() == 0 ? 0 : h.getMean() / 1000.0));
        return m;
    }

    static Map<String, Object> usage(ProcStats.Usage u) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (u == null) return m;
        if (u.pids().size() == 1) m.put("pid", u.pids().get(0));
        else m.put("pids", u.pids());
        m.put("cpuSeconds", round(u.cpuSeconds()));
        m.put("wallSeconds", round(u.wallSeconds()));
        m.put("cores", round(u.cores()));
        m.put("startRssKiB", u.startRssKb());
        m.put("endRssKiB", u.rssKb());
        m.put("peakRssKiB", u.peakRssKb());
        if (!u.each().isEmpty()) m.put("each", u.each().stream().map(Report::usage).toList());
        return m;
    }

    static double ms(long micros) {
        return round(micros / 1000.0);
    }

    static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    static void print(PrintStream out, Map<String, Object> report, boolean json) {
        if (json) {
            try {
                out.println(JSON.writeValueAsString(report));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        } else {
            table(out, "", report);
        }
        out.flush();
    }

    @SuppressWarnings("unchecked")
    private static void table(PrintStream out, String prefix, Map<String, Object> m) {
        for (Map.Entry<String, Object> e : m.entrySet()) {
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            Object v = e.getValue();
            if (v instanceof Map<?, ?> sub && isLatency((Map<String, Object>) sub)) {
                Map<String, Object> s = (Map<String, Object>) sub;
                out.printf("  %-34s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s ms  (n=%s)%n", key,
                        s.get("p50"), s.get("p90"), s.get("p99"), s.get("p999"), s.get("max"), s.get("count"));
            } else if (v instanceof Map<?, ?> sub) {
                if (sub.isEmpty()) {
                    out.printf("  %-34s %s%n", key, "-");
                } else {
                    table(out, key, (Map<String, Object>) sub);
                }
            } else if (v instanceof Iterable<?> list) {
                int i = 0;
                for (Object o : list) {
                    if (o instanceof Map<?, ?> row) table(out, key + "[" + i++ + "]", (Map<String, Object>) row);
                    else out.printf("  %-34s %s%n", key + "[" + i++ + "]", o);
                }
            } else {
                out.printf("  %-34s %s%n", key, v instanceof Double d ? fmt(d) : v);
            }
        }
    }

    private static boolean isLatency(Map<String, Object> m) {
        return m.containsKey("p99");
    }

    static String fmt(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) return String.valueOf((long) d);
        return String.format(Locale.ROOT, "%.3f", d);
    }
}
