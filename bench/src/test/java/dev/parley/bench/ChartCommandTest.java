package dev.parley.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import picocli.CommandLine;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code bench chart} on result files written here, as {@code --json} writes them; the SVG read back as XML. */
class ChartCommandTest {
    @TempDir
    Path dir;

    /** What a run of the command printed and returned. */
    private record Run(int status, String out, String err) {}

    private Run chart(String... args) {
        CommandLine cmd = BenchCommand.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of("chart"));
        all.addAll(List.of(args));
        int status = cmd.execute(all.toArray(String[]::new));
        return new Run(status, out.toString(), err.toString());
    }

    /** A fanout result with the fields the chart reads, shaped as FanoutCommand prints it. */
    private Path fanout(String label, int members, double cores, double p99) throws Exception {
        Path f = dir.resolve(label + "-" + members + ".json");
        Files.writeString(f, """
                {"scenario":"fanout","label":"%s","runId":"t1","config":{"rooms":1,"members":%d,"senders":10,"rate":100.0},
                 "sent":2000,"deliveredPerSecond":%d.0,"latency":{"count":2000,"p50":1.0,"p99":%s,"max":20.0},
                 "server":{"pid":42,"cpuSeconds":8.0,"cores":%s},"correct":true}
                """.formatted(label, members, members * 1000, p99, cores));
        return f;
    }

    private Path saturation(String name, int steps) throws Exception {
        StringBuilder s = new StringBuilder();
        for (int i = 1; i <= steps; i++) {
            if (i > 1) s.append(',');
            s.append("{\"step\":%d,\"rate\":%d.0,\"offeredDeliveriesPerSecond\":%d.0,\"deliveredPerSecond\":%d.0,\"latency\":{\"p99\":%d.5}}"
                    .formatted(i, 100 * i, 100_000 * i, 100_000 * i, i * 3));
        }
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\"scenario\":\"saturation\",\"config\":{\"rooms\":1,\"members\":100},\"steps\":[" + s + "]}");
        return f;
    }

    private List<Path> roomSizes() throws Exception {
        List<Path> files = new ArrayList<>();
        for (int m : new int[]{10, 100, 1000}) {
            files.add(fanout("epoll", m, 0.1 + m / 2000.0, 2.5 + m / 100.0));
            files.add(fanout("io_uring", m, 0.08 + m / 2500.0, 2.0 + m / 120.0));
        }
        return files;
    }

    private static String[] args(List<Path> files, String... options) {
        List<String> all = new ArrayList<>(List.of(options));
        files.forEach(f -> all.add(f.toString()));
        return all.toArray(String[]::new);
    }

    private static Document xml(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static List<String> texts(Document d) {
        List<String> out = new ArrayList<>();
        NodeList texts = d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "text");
        for (int i = 0; i < texts.getLength(); i++) out.add(texts.item(i).getTextContent());
        return out;
    }

    /** Points drawn per series: each marker is in a group that names its series and item. */
    private static Map<String, Integer> pointsPerSeries(Document d) {
        Map<String, Integer> out = new LinkedHashMap<>();
        NodeList groups = d.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g");
        for (int i = 0; i < groups.getLength(); i++) {
            String ref = ((Element) groups.item(i)).getAttributeNS("http://www.jfree.org/jfreesvg/svg", "ref");
            if (!ref.contains("seriesKey")) continue;
            String series = ref.replaceAll(".*\"seriesKey\": \"([^\"]*)\".*", "$1");
            out.merge(series, 1, Integer::sum);
        }
        return out;
    }

    @Test
    void a_chart_of_room_sizes_is_an_svg_with_its_axis_labels_one_curve_per_label_and_a_point_per_run() throws Exception {
        Path svg = dir.resolve("charts/room-size-cpu.svg");
        Run run = chart(args(roomSizes(), "--x", "members", "--y", "cpuPerDeliveryUs", "--series", "label",
                "--title", "Room size & CPU", "--out", svg.toString()));

        assertThat(run.status()).as(run.err()).isZero();
        assertThat(run.err()).contains("2 series, 6 points");
        Document d = xml(Files.readString(svg));
        Element root = d.getDocumentElement();
        assertThat(root.getLocalName()).isEqualTo("svg");
        assertThat(root.getAttribute("width")).isEqualTo("800.0");
        assertThat(root.getAttribute("height")).isEqualTo("450.0");
        // <title> and <desc> first, for screen readers; the desc says what the curves show.
        Element title = (Element) root.getFirstChild();
        assertThat(title.getLocalName()).isEqualTo("title");
        assertThat(title.getTextContent()).isEqualTo("Room size & CPU");
        Element desc = (Element) title.getNextSibling();
        assertThat(desc.getLocalName()).isEqualTo("desc");
        assertThat(desc.getTextContent()).contains("server CPU per delivery (µs) against members per room",
                "\"epoll\": 3 points, x 10 to 1,000", "\"io_uring\": 3 points");
        assertThat(texts(d)).contains("Room size & CPU", "members per room", "server CPU per delivery (µs)", "epoll", "io_uring");
        assertThat(pointsPerSeries(d)).containsOnly(Map.entry("epoll", 3), Map.entry("io_uring", 3));
    }

    @Test
    void a_saturation_result_is_one_point_per_step_and_its_config_fields_are_found_from_a_step() throws Exception {
        Path a = saturation("before", 5), b = saturation("after", 3);
        Run run = chart(a.toString(), b.toString(), "--x", "offeredDeliveriesPerSecond", "--y", "latency.p99", "--series", "file", "--log-y",
                "--y-marker", "100", "--y-marker-label", "p99 bound");

        assertThat(run.status()).as(run.err()).isZero();
        Document d = xml(run.out());
        assertThat(pointsPerSeries(d)).containsOnly(Map.entry("before", 5), Map.entry("after", 3));
        assertThat(texts(d)).contains("offered deliveries/s (sends × members)", "end-to-end latency p99 (ms)", "p99 bound");

        // members is the result's config.members, the same for every step: a numeric series says what it counts.
        Run byMembers = chart(a.toString(), "--x", "step", "--y", "deliveredPerSecond", "--series", "members");
        assertThat(byMembers.status()).as(byMembers.err()).isZero();
        assertThat(pointsPerSeries(xml(byMembers.out()))).containsExactly(Map.entry("members 100", 5));
    }

    /** A storm's timeline, as StormCommand writes it with --json: a reading a second, null where the server's CPU was not read. */
    private Path storm(String label, String cores2) throws Exception {
        Path f = dir.resolve(label + ".json");
        Files.writeString(f, """
                {"scenario":"storm","label":"%s","config":{"connections":19000,"rooms":100},"resume":{"allSeconds":29.2},
                 "timeline":[{"seconds":-1.0,"joined":19000,"cores":0.4,"rssKiB":300000},
                             {"seconds":0.0,"joined":0,"cores":null,"rssKiB":null},
                             {"seconds":1.0,"joined":0,"cores":%s,"rssKiB":190000},
                             {"seconds":2.0,"joined":9000,"cores":1.0,"rssKiB":400000},
                             {"seconds":3.0,"joined":19000,"cores":0.5,"rssKiB":500000}]}
                """.formatted(label, cores2));
        return f;
    }

    @Test
    void a_storm_result_is_one_point_per_second_of_its_timeline_leaving_out_seconds_not_read() throws Exception {
        Path a = storm("main", "null"), b = storm("admin loop", "0.9");

        Run joined = chart(a.toString(), b.toString(), "--x", "seconds", "--y", "joined", "--series", "label");
        Run cores = chart(a.toString(), b.toString(), "--x", "seconds", "--y", "cores", "--series", "label");

        assertThat(joined.status()).as(joined.err()).isZero();
        assertThat(pointsPerSeries(xml(joined.out()))).containsOnly(Map.entry("main", 5), Map.entry("admin loop", 5));
        assertThat(cores.status()).as(cores.err()).isZero();
        assertThat(pointsPerSeries(xml(cores.out()))).containsOnly(Map.entry("main", 3), Map.entry("admin loop", 4));
        // A field no second has is still refused, naming the second and what it has.
        Run missing = chart(a.toString(), "--x", "seconds", "--y", "resumed");
        assertThat(missing.status()).isEqualTo(2);
        assertThat(missing.err()).contains("main.json, timeline[0]: no field \"resumed\"", "joined", "rssKiB");
        // Fields of the whole run make one point a run, as before timelines were charted.
        Run perRun = chart(a.toString(), b.toString(), "--x", "connections", "--y", "resume.allSeconds", "--series", "label");
        assertThat(perRun.status()).as(perRun.err()).isZero();
        assertThat(pointsPerSeries(xml(perRun.out()))).containsOnly(Map.entry("main", 1), Map.entry("admin loop", 1));
    }

    @Test
    void the_same_results_make_the_same_bytes() throws Exception {
        List<Path> files = roomSizes();
        Path first = dir.resolve("first.svg"), second = dir.resolve("second.svg");
        assertThat(chart(args(files, "--x", "members", "--y", "latency.p99", "--series", "label", "--log-x", "--out", first.toString())).status()).isZero();
        assertThat(chart(args(files, "--x", "members", "--y", "latency.p99", "--series", "label", "--log-x", "--out", second.toString())).status()).isZero();

        assertThat(Files.readAllBytes(second)).isEqualTo(Files.readAllBytes(first));
        String svg = Files.readString(first);
        // Nothing of the time or the machine: no timestamps, ids from a fixed prefix, no absolute paths.
        assertThat(svg).contains("clip-path='url(#chartclip-0)'").doesNotContain(dir.toString());
    }

    @Test
    void a_field_the_results_lack_is_refused_naming_the_file_the_field_and_the_fields_there_are() throws Exception {
        List<Path> files = roomSizes();
        Run run = chart(args(files, "--x", "members", "--y", "latency.p98"));

        assertThat(run.status()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).startsWith("chart: epoll-10.json: no field \"latency.p98\". Fields of this point: ")
                .contains("latency.p99", "config.members", "server.cores", "cpuPerDeliveryUs");

        Run unlabelled = chart(saturation("unlabelled", 2).toString(), "--x", "step", "--y", "latency.p99", "--series", "label");
        assertThat(unlabelled.status()).isEqualTo(2);
        assertThat(unlabelled.err()).contains("unlabelled.json, steps[0]: no field \"label\"", "--series file names each curve after its file");

        Path stepless = saturation("stepless", 2);
        Run derived = chart(stepless.toString(), "--x", "step", "--y", "cpuPerDeliveryUs");
        assertThat(derived.status()).isEqualTo(2);
        assertThat(derived.err()).contains("stepless.json, steps[0]: cpuPerDeliveryUs is computed from server.cores and deliveredPerSecond",
                "run the bench with --server-pid");
    }

    @Test
    void empty_input_is_refused_with_the_reason() throws Exception {
        Path empty = dir.resolve("empty.json");
        Files.writeString(empty, "\n");
        Run run = chart(empty.toString(), "--x", "members", "--y", "latency.p99");
        assertThat(run.status()).isEqualTo(2);
        assertThat(run.err()).contains("empty.json: empty file, no result in it");

        Path noSteps = saturation("nosteps", 0);
        Run none = chart(noSteps.toString(), "--x", "rate", "--y", "latency.p99");
        assertThat(none.status()).isEqualTo(2);
        assertThat(none.err()).contains("no results in nosteps.json");

        Path notJson = dir.resolve("table.txt");
        Files.writeString(notJson, "  step  rate/sender\n");
        Run text = chart(notJson.toString(), "--x", "rate", "--y", "latency.p99");
        assertThat(text.status()).isEqualTo(2);
        assertThat(text.err()).contains("table.txt: not JSON");

        Run noFiles = chart("--x", "members", "--y", "latency.p99");
        assertThat(noFiles.status()).isEqualTo(2);
        assertThat(noFiles.err()).contains("Missing required parameter: '<result.json>'");
    }

    @Test
    void a_logarithmic_axis_refuses_a_value_of_zero() throws Exception {
        Path zero = fanout("idle", 10, 0.0, 1.0);
        Run run = chart(zero.toString(), "--x", "members", "--y", "server.cores", "--log-y");
        assertThat(run.status()).isEqualTo(2);
        assertThat(run.err()).contains("--log-y needs values above 0; series \"server.cores\" has 0");

        Run label = chart(zero.toString(), "--x", "members", "--y", "latency.p99", "--y-marker-label", "bound");
        assertThat(label.status()).isEqualTo(2);
        assertThat(label.err()).contains("--y-marker-label needs --y-marker");
    }

    @Test
    void a_run_given_a_label_carries_it_in_its_report() {
        CommonOptions common = new CommonOptions();
        common.label = "io_uring";
        common.runId = "t1";
        assertThat(FanoutCommand.header("fanout", common, Map.of())).containsEntry("label", "io_uring");
        common.label = null;
        assertThat(FanoutCommand.header("fanout", common, Map.of())).doesNotContainKey("label");
    }
}
