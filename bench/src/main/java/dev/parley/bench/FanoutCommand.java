package dev.parley.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code bench fanout}: R rooms x M members, S of them sending at a fixed rate; exactness and latency. */
@Command(name = "fanout", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fixed-rate fan-out: exactness, delivered rate, latency, server CPU and RSS.",
                "R rooms x M members; the first S members of each room send --rate messages a second each, open loop (on a fixed schedule), for --warmup and then --duration.",
                "Reports sent, acked, expected and received deliveries, losses, duplicates and order violations (all must be 0), delivered messages a second, end-to-end and ack latency, and with --server-pid the server's CPU and peak RSS.",
                "Exit status 1 if any delivery went wrong."})
final class FanoutCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RoomShape shape;

    @Option(names = "--rate", paramLabel = "<msgs/s>", defaultValue = "100", description = "messages a second per sender. Default: ${DEFAULT-VALUE}")
    double rate;

    @Option(names = "--duration", paramLabel = "<time>", defaultValue = "20s", converter = CommonOptions.DurationConverter.class,
            description = "measured time (e.g. 20s). Default: ${DEFAULT-VALUE}")
    Duration duration;

    @Option(names = "--warmup", paramLabel = "<time>", defaultValue = "5s", converter = CommonOptions.DurationConverter.class,
            description = "sending before the measured time, not counted in latency or rate. Default: ${DEFAULT-VALUE}")
    Duration warmup;

    @Option(names = "--drain-timeout", paramLabel = "<time>", defaultValue = "10s", converter = CommonOptions.DurationConverter.class,
            description = "after the last send, how long to wait for the missing acks and deliveries. Default: ${DEFAULT-VALUE}")
    Duration drainTimeout;

    @Override
    public Integer call() throws Exception {
        shape.validate(0);
        if (rate <= 0) throw new IllegalArgumentException("--rate must be positive");
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("urls", common.urls);
        shape.describe(config);
        config.put("rate", rate);
        config.put("warmupSeconds", warmup.toMillis() / 1000.0);
        config.put("durationSeconds", duration.toMillis() / 1000.0);
        config.put("payload", shape.payload);
        config.put("threads", common.threads);
        try (Fleet fleet = Fleet.open(common, shape.rooms, shape.members, shape.senders, shape.payload, System.err)) {
            PhaseRunner.Result result = new PhaseRunner(fleet, common.serverPids, System.err, common.quiet)
                    .run("fanout ", rate, warmup, duration, drainTimeout);
            Map<String, Object> out = header("fanout", common, config);
            out.putAll(result.report());
            Report.print(System.out, out, common.json);
            return result.correct() ? 0 : 1;
        }
    }

    static Map<String, Object> header(String scenario, CommonOptions common, Map<String, Object> config) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("scenario", scenario);
        if (common.label != null) out.put("label", common.label);
        out.put("runId", common.runId());
        out.put("date", Instant.now().toString());
        out.put("jdk", Runtime.version().toString());
        out.put("benchCores", Runtime.getRuntime().availableProcessors());
        out.put("config", config);
        return out;
    }
}
