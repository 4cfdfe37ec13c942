package dev.parley.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code bench chart}: result files of earlier runs in, one SVG line chart out. Runs nothing. */
@Command(name = "chart", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Draws result files (what --json prints) as an SVG line chart: one curve per series.",
                "A fanout or capacity result is one point, a saturation result one point per step. Fields are dotted paths into the result (latency.p99, server.cores), looked up in the point, then the whole result, then its config (members, rooms, senders). cpuPerDeliveryUs (server CPU per delivery, µs) is computed from server.cores and deliveredPerSecond; file is the result file's name.",
                "Example: bench chart --x members --y cpuPerDeliveryUs --series label --out docs/charts/room-size-cpu.svg results/*.json",
                "The SVG is 800 x 450, the same bytes for the same input. Exit status 2 on bad input, with the reason."})
final class ChartCommand implements Callable<Integer> {
    /** Axis labels, with units, of the fields a report has; any other field is labelled by its name. */
    static final Map<String, String> LABELS = Map.ofEntries(
            Map.entry("rate", "send rate per sender (msgs/s)"),
            Map.entry("offeredMessagesPerSecond", "offered sends (msgs/s)"),
            Map.entry("offeredDeliveriesPerSecond", "offered deliveries/s (sends × members)"),
            Map.entry("deliveredPerSecond", "deliveries/s"),
            Map.entry(ChartData.CPU_PER_DELIVERY_US, "server CPU per delivery (µs)"),
            Map.entry("server.cores", "server CPU (cores)"),
            Map.entry("server.cpuSeconds", "server CPU (s)"),
            Map.entry("server.peakRssKiB", "server peak RSS (KiB)"),
            Map.entry("server.endRssKiB", "server RSS at the end (KiB)"),
            Map.entry("bench.cores", "bench CPU (cores)"),
            Map.entry("members", "members per room"),
            Map.entry("config.members", "members per room"),
            Map.entry("rooms", "rooms"),
            Map.entry("config.rooms", "rooms"),
            Map.entry("senders", "senders per room"),
            Map.entry("config.senders", "senders per room"),
            Map.entry("payload", "text size (bytes)"),
            Map.entry("config.payload", "text size (bytes)"),
            Map.entry("connections", "connections"),
            Map.entry("config.connections", "connections"),
            Map.entry("established", "connections established"),
            Map.entry("connectsPerSecond", "connects/s"),
            Map.entry("serverRssPerConnectionKiB", "server RSS per connection (KiB)"),
            Map.entry("serverHeapUsedAfterGcPerConnectionKiB", "server live heap per connection (KiB)"),
            Map.entry("benchRssPerConnectionKiB", "bench RSS per connection (KiB)"),
            Map.entry("step", "saturation step"));

    private static final Map<String, String> LATENCIES = Map.of("latency", "end-to-end latency", "ackLatency", "ack latency", "sendLag", "bench send lag");
    private static final Map<String, String> PERCENTILES = Map.of("p50", "p50", "p90", "p90", "p99", "p99", "p999", "p99.9", "max", "max", "mean", "mean");

    @Spec
    CommandSpec spec;

    @Option(names = "--x", paramLabel = "<field>", required = true, description = "the field along the x axis, e.g. members, rooms, connections, offeredDeliveriesPerSecond")
    String x;

    @Option(names = "--y", paramLabel = "<field>", required = true, description = "the field along the y axis, e.g. cpuPerDeliveryUs, latency.p99, deliveredPerSecond, server.cores")
    String y;

    @Option(names = "--series", paramLabel = "<field>", description = "the field whose value names each point's curve, e.g. label (the runs' --label), scenario, senders, file. Default: one curve")
    String series;

    @Option(names = "--title", paramLabel = "<text>", description = "the chart's title (also the SVG's <title>). Default: the y axis's label against the x axis's")
    String title;

    @Option(names = "--x-label", paramLabel = "<text>", description = "the x axis's label. Default: the field's, with its unit")
    String xLabel;

    @Option(names = "--y-label", paramLabel = "<text>", description = "the y axis's label. Default: the field's, with its unit")
    String yLabel;

    @Option(names = "--log-x", description = "logarithmic x axis (every value must be above 0)")
    boolean logX;

    @Option(names = "--log-y", description = "logarithmic y axis (every value must be above 0)")
    boolean logY;

    @Option(names = "--y-marker", paramLabel = "<value>", description = "a dashed horizontal line at this y, e.g. a bound: --y-marker 100 for saturation's p99 bound")
    Double yMarker;

    @Option(names = "--y-marker-label", paramLabel = "<text>", description = "the words on that line, e.g. \"p99 bound\"")
    String yMarkerLabel;

    @Option(names = "--desc", paramLabel = "<text>", description = "a sentence for the SVG's <desc>, before the one generated from the data (what was measured, where)")
    String desc;

    @Option(names = "--out", paramLabel = "<file.svg>", description = "where to write the SVG (its directory is made). Default: stdout")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "<result.json>", description = "result files of bench ... --json: one result each, or a JSON list of them")
    List<Path> files = new ArrayList<>();

    @Override
    public Integer call() {
        // Before anything touches AWT: text is measured with the fonts, no display is needed.
        System.setProperty("java.awt.headless", "true");
        PrintWriter err = spec.commandLine().getErr();
        try {
            List<ChartData.Series> data = ChartData.read(files, x, y, series);
            if (logX) requirePositive(data, true);
            if (logY) requirePositive(data, false);
            if (yMarker != null && logY && !(yMarker > 0)) throw new IllegalArgumentException("--y-marker must be above 0 on a --log-y axis");
            if (yMarkerLabel != null && yMarker == null) throw new IllegalArgumentException("--y-marker-label needs --y-marker");
            String xl = xLabel != null ? xLabel : label(x);
            String yl = yLabel != null ? yLabel : label(y);
            String t = title != null ? title : yl + " against " + xl;
            String svg = SvgChart.render(new SvgChart.Spec(t, xl, yl, logX, logY, yMarker, yMarkerLabel, description(data, xl, yl)), data);
            if (out == null) {
                PrintWriter o = spec.commandLine().getOut();
                o.print(svg);
                o.flush();
            } else {
                if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
                Files.writeString(out, svg, StandardCharsets.UTF_8);
                err.printf("chart: %d series, %d points -> %s%n", data.size(), data.stream().mapToInt(s -> s.points().size()).sum(), out);
                err.flush();
            }
            return 0;
        } catch (IllegalArgumentException | IOException e) {
            err.println("chart: " + e.getMessage());
            err.flush();
            return 2;
        }
    }

    static String label(String field) {
        String known = LABELS.get(field);
        if (known != null) return known;
        int dot = field.lastIndexOf('.');
        if (dot > 0 && LATENCIES.containsKey(field.substring(0, dot)) && PERCENTILES.containsKey(field.substring(dot + 1))) {
            return LATENCIES.get(field.substring(0, dot)) + " " + PERCENTILES.get(field.substring(dot + 1)) + " (ms)";
        }
        return field;
    }

    private static void requirePositive(List<ChartData.Series> data, boolean xAxis) {
        for (ChartData.Series s : data) {
            for (ChartData.Point p : s.points()) {
                double v = xAxis ? p.x() : p.y();
                if (!(v > 0)) {
                    throw new IllegalArgumentException("--log-" + (xAxis ? "x" : "y") + " needs values above 0; series \"" + s.name() + "\" has " + Report.fmt(v));
                }
            }
        }
    }

    /** What the SVG's {@code <desc>} says: the axes and each series' extent, for someone who cannot see the curves. */
    private String description(List<ChartData.Series> data, String xl, String yl) {
        StringBuilder b = new StringBuilder();
        if (desc != null) b.append(desc.strip()).append(' ');
        b.append("Line chart of ").append(yl).append(" against ").append(xl).append(". ");
        for (int i = 0; i < data.size(); i++) {
            ChartData.Series s = data.get(i);
            DoubleSummary xs = DoubleSummary.of(s.points(), true), ys = DoubleSummary.of(s.points(), false);
            b.append(i == 0 ? "Series " : "; ").append('"').append(s.name()).append("\": ").append(s.points().size())
                    .append(s.points().size() == 1 ? " point" : " points").append(", x ").append(xs).append(", y ").append(ys);
        }
        if (yMarker != null) {
            b.append(". A dashed line marks y = ").append(DoubleSummary.fmt(yMarker)).append(yMarkerLabel == null ? "" : " (" + yMarkerLabel + ")");
        }
        b.append(". From ").append(String.join(", ", files.stream().map(f -> f.getFileName().toString()).toList())).append('.');
        return b.toString();
    }

    private record DoubleSummary(double min, double max) {
        static DoubleSummary of(List<ChartData.Point> points, boolean xAxis) {
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
            for (ChartData.Point p : points) {
                double v = xAxis ? p.x() : p.y();
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            return new DoubleSummary(min, max);
        }

        @Override
        public String toString() {
            return min == max ? fmt(min) : fmt(min) + " to " + fmt(max);
        }

        private static String fmt(double v) {
            return new DecimalFormat("#,##0.###", DecimalFormatSymbols.getInstance(Locale.ROOT)).format(v);
        }
    }
}
