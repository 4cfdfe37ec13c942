package dev.parley.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The points of {@code bench chart}: reads result files (what {@code --json} prints) and picks the
 * named fields out of them. A fanout or capacity result is one point; a saturation result is one
 * point per element of its {@code steps}, a storm result (with {@code --json}) one per second of
 * its {@code timeline} ({@code seconds} from the signal, {@code joined}, {@code cores},
 * {@code rssKiB}). A field is a dotted path ({@code latency.p99},
 * {@code server.cores}); it is looked up in the point, then in the whole result (a step's
 * {@code config.members}), then in the result's {@code config} (so {@code members} is enough).
 * Everything that can be wrong with the input is an {@link IllegalArgumentException} whose message
 * names the file, the point and the field, which the command prints as it is.
 */
final class ChartData {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Fields computed from others, for results that do not carry them. */
    static final String CPU_PER_DELIVERY_US = "cpuPerDeliveryUs";
    /** The result file's name without {@code .json}: a series for runs recorded without {@code --label}. */
    static final String FILE = "file";

    record Point(double x, double y) {}

    record Series(String name, List<Point> points) {}

    private ChartData() {}

    /**
     * @param seriesField the field whose value names a point's series, or null for one series
     *                    (named after {@code yField})
     * @return the series in the order they first appear in the files, each point in file order
     */
    static List<Series> read(List<Path> files, String xField, String yField, String seriesField) {
        if (files.isEmpty()) throw new IllegalArgumentException("no result files given");
        Map<String, List<Point>> series = new LinkedHashMap<>();
        for (Path file : files) {
            for (Located p : points(file, xField, yField)) {
                if (p.reading() && (unread(p, xField) || unread(p, yField))) continue;
                double x = number(p, xField);
                double y = number(p, yField);
                String name = seriesField == null ? yField : seriesName(p, seriesField);
                series.computeIfAbsent(name, k -> new ArrayList<>()).add(new Point(x, y));
            }
        }
        if (series.isEmpty()) {
            throw new IllegalArgumentException("no results in " + names(files) + ": each file must hold a result of bench --json (a saturation's steps empty count as none)");
        }
        List<Series> out = new ArrayList<>();
        series.forEach((name, points) -> out.add(new Series(name, List.copyOf(points))));
        return out;
    }

    /**
     * One point and where it came from, for lookups and error messages.
     *
     * @param reading a second of a storm's timeline, whose fields are null for a second the bench
     *                could not read (the server's CPU while it restarts): such a point is left out
     */
    private record Located(Path file, String where, JsonNode point, JsonNode result, boolean reading) {
        String describe() {
            return file.getFileName() + (where.isEmpty() ? "" : ", " + where);
        }
    }

    private static List<Located> points(Path file, String xField, String yField) {
        JsonNode root;
        try {
            String text = Files.readString(file);
            if (text.isBlank()) throw new IllegalArgumentException(file + ": empty file, no result in it");
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read it (" + e + ")");
        }
        List<Located> out = new ArrayList<>();
        if (root.isArray()) {
            // Several results in one file, as jq -s writes them.
            for (int i = 0; i < root.size(); i++) addResult(out, file, "[" + i + "]", root.get(i), xField, yField);
        } else {
            addResult(out, file, "", root, xField, yField);
        }
        return out;
    }

    /**
     * A storm's timeline is its points only when the chart asks for a field of a second (its x or its
     * y is in the timeline's entries): a chart of {@code resume.allSeconds} across storms takes one
     * point a run, as before timelines were charted.
     */
    private static void addResult(List<Located> out, Path file, String where, JsonNode result, String xField, String yField) {
        if (!result.isObject()) throw new IllegalArgumentException(file.getFileName() + where + ": a result is a JSON object, this is " + result.getNodeType());
        JsonNode steps = result.get("steps");
        JsonNode timeline = result.get("timeline");
        if (steps != null && steps.isArray()) {
            for (int i = 0; i < steps.size(); i++) {
                out.add(new Located(file, (where.isEmpty() ? "" : where + ".") + "steps[" + i + "]", steps.get(i), result, false));
            }
        } else if (timeline != null && timeline.isArray() && !timeline.isEmpty()
                && (path(timeline.get(0), xField) != null || path(timeline.get(0), yField) != null)) {
            for (int i = 0; i < timeline.size(); i++) {
                out.add(new Located(file, (where.isEmpty() ? "" : where + ".") + "timeline[" + i + "]", timeline.get(i), result, true));
            }
        } else {
            out.add(new Located(file, where, result, result, false));
        }
    }

    /** A field the point has, null: a reading not taken. */
    private static boolean unread(Located p, String field) {
        JsonNode v = path(p.point(), field);
        return v != null && v.isNull();
    }

    private static double number(Located p, String field) {
        JsonNode v = lookup(p, field);
        if (v == null && CPU_PER_DELIVERY_US.equals(field)) return cpuPerDeliveryUs(p);
        if (v == null || v.isNull()) throw missing(p, field);
        if (!v.isNumber()) throw new IllegalArgumentException(p.describe() + ": field \"" + field + "\" is " + v + ", not a number");
        return v.asDouble();
    }

    /** Server CPU time per delivery: its cores over the deliveries a second, in microseconds. */
    private static double cpuPerDeliveryUs(Located p) {
        JsonNode cores = lookup(p, "server.cores");
        JsonNode delivered = lookup(p, "deliveredPerSecond");
        if (cores == null || !cores.isNumber() || delivered == null || !delivered.isNumber()) {
            throw new IllegalArgumentException(p.describe() + ": " + CPU_PER_DELIVERY_US
                    + " is computed from server.cores and deliveredPerSecond, and this result lacks "
                    + (cores == null || !cores.isNumber() ? "server.cores (run the bench with --server-pid)" : "deliveredPerSecond"));
        }
        if (delivered.asDouble() <= 0) throw new IllegalArgumentException(p.describe() + ": " + CPU_PER_DELIVERY_US + " needs deliveredPerSecond above 0");
        return cores.asDouble() / delivered.asDouble() * 1e6;
    }

    private static String seriesName(Located p, String field) {
        if (FILE.equals(field) && lookup(p, field) == null) {
            String name = p.file().getFileName().toString();
            return name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        }
        JsonNode v = lookup(p, field);
        if (v == null || v.isNull()) {
            IllegalArgumentException e = missing(p, field);
            if (!"label".equals(field)) throw e;
            throw new IllegalArgumentException(e.getMessage() + ". A run records a label with --label; --series file names each curve after its file");
        }
        if (v.isContainerNode()) throw new IllegalArgumentException(p.describe() + ": field \"" + field + "\" is an object or list, not a name");
        // A number alone ("100") says little in a legend: "members 100" says what it counts.
        if (v.isNumber()) return field.substring(field.lastIndexOf('.') + 1) + " " + Report.fmt(v.asDouble());
        return v.asText();
    }

    private static JsonNode lookup(Located p, String field) {
        JsonNode v = path(p.point(), field);
        if (v == null && p.result() != p.point()) v = path(p.result(), field);
        if (v == null) v = path(p.result().get("config"), field);
        return v;
    }

    private static JsonNode path(JsonNode node, String field) {
        for (String part : field.split("\\.", -1)) {
            if (node == null || !node.isObject()) return null;
            node = node.get(part);
        }
        return node;
    }

    private static IllegalArgumentException missing(Located p, String field) {
        TreeSet<String> fields = new TreeSet<>();
        leaves(p.point(), "", fields);
        if (p.result() != p.point()) leaves(p.result(), "", fields);
        fields.removeIf(f -> f.startsWith("steps.") || f.startsWith("timeline."));
        return new IllegalArgumentException(p.describe() + ": no field \"" + field + "\". Fields of this point: "
                + String.join(", ", fields) + (fields.contains("server.cores") && fields.contains("deliveredPerSecond") ? ", " + CPU_PER_DELIVERY_US : ""));
    }

    /** The dotted paths of every number, string and boolean under {@code node}. */
    private static void leaves(JsonNode node, String prefix, TreeSet<String> out) {
        if (node == null) return;
        if (node.isObject()) {
            node.properties().forEach(e -> leaves(e.getValue(), prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), out));
        } else if (node.isValueNode() && !node.isNull()) {
            out.add(prefix);
        }
    }

    private static String names(List<Path> files) {
        return String.join(", ", files.stream().map(f -> f.getFileName().toString()).toList());
    }
}
