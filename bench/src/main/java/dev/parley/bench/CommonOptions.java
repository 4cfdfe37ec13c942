package dev.parley.bench;

import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/** The options every bench scenario takes. */
final class CommonOptions {
    @Option(names = "--url", paramLabel = "<url>", defaultValue = "http://127.0.0.1:8080",
            description = "a server node, http://host:port; repeat for several nodes (users are spread round-robin). Default: ${DEFAULT-VALUE}")
    List<String> urls = new ArrayList<>();

    @Option(names = "--server-pid", paramLabel = "<pid>",
            description = "a server process to measure (Linux /proc): its CPU seconds, with those of its child processes (a PostgreSQL's backends), and its peak RSS. Repeat it to measure several as one (two nodes, Redis, PostgreSQL): the report gives their sum and each one's")
    List<Long> serverPids = new ArrayList<>();

    @Option(names = "--json", description = "print the summary as one JSON object on stdout (progress stays on stderr)")
    boolean json;

    @Option(names = "--threads", paramLabel = "<n>", description = "client event loops; default: the cores this process may use (taskset counts)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--users", paramLabel = "<n>", description = "distinct users to register; connections share them round-robin. 0: one per connection (fanout, saturation) or min(connections, 1000) (capacity). Default: 0")
    int users;

    @Option(names = "--register-concurrency", paramLabel = "<n>", defaultValue = "16", description = "registrations in flight. Default: ${DEFAULT-VALUE}")
    int registerConcurrency;

    @Option(names = "--connect-concurrency", paramLabel = "<n>", defaultValue = "256", description = "connection attempts (TCP + upgrade + join) in flight. Default: ${DEFAULT-VALUE}")
    int connectConcurrency;

    @Option(names = "--source-addresses", paramLabel = "<ip>", split = ",",
            description = "local addresses to connect from, round-robin (e.g. 127.0.0.1,127.0.0.2); one address has about 28,000 ephemeral ports. Default: the system's choice, or 127.0.0.1..N when more than 28,000 connections go to a loopback server")
    List<String> sourceAddresses = new ArrayList<>();

    @Option(names = "--run-id", paramLabel = "<id>", description = "prefix of this run's user and room names (lowercase letters and digits). Default: random")
    String runId;

    @Option(names = "--label", paramLabel = "<text>",
            description = "a name for this run, written into the report as label (e.g. epoll, io_uring, H2, PostgreSQL): bench chart --series label draws one curve per label")
    String label;

    @Option(names = "--quiet", description = "no progress lines")
    boolean quiet;

    @Option(names = "--read-every", paramLabel = "<time>", defaultValue = "0s", converter = DurationConverter.class,
            description = "each connection marks its room read (a read frame up to the newest seq it has) this often, if it got a message since; 0s: never. The web client marks at most once a second. Default: ${DEFAULT-VALUE}")
    java.time.Duration readEvery;

    List<Target> targets() {
        return urls.stream().map(Target::parse).toList();
    }

    String runId() {
        if (runId == null) {
            runId = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36, 36L * 36 * 36 * 36 * 36 * 36), 36);
        }
        if (!runId.matches("[a-z0-9]{1,12}")) throw new IllegalArgumentException("--run-id: lowercase letters and digits, 1 to 12 (got " + runId + ")");
        return runId;
    }

    /** Source addresses for {@code connections} connections to the targets. */
    List<InetAddress> sources(int connections) {
        List<String> names = sourceAddresses;
        if (names.isEmpty() && connections > 28_000 && targets().stream().allMatch(Target::loopback)) {
            names = new ArrayList<>();
            for (int i = 1; i <= (connections + 27_999) / 28_000; i++) names.add("127.0.0." + i);
        }
        List<InetAddress> out = new ArrayList<>();
        for (String n : names) {
            try {
                out.add(InetAddress.getByName(n.trim()));
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("--source-addresses: unknown address " + n);
            }
        }
        return out;
    }

    /** Reads {@code 20s}, {@code 500ms}, {@code 2m} or plain seconds. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String v) {
            String s = v.trim().toLowerCase(Locale.ROOT);
            try {
                if (s.endsWith("ms")) return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
                if (s.endsWith("s")) return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
                if (s.endsWith("m")) return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60);
                return Duration.ofMillis(Math.round(Double.parseDouble(s) * 1000));
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + v + "' is not a duration (expected e.g. 20s, 500ms, 2m)");
            }
        }
    }
}
