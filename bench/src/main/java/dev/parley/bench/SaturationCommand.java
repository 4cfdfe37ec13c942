package dev.parley.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code bench saturation}: raises the send rate step by step until p99 passes a bound or a delivery goes wrong. */
@Command(name = "saturation", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Steps the rate up until p99 or exactness fails; the highest sustained rate.",
                "The fanout set-up, sending --rate messages a second per sender, then --step-factor times more each step, until a step's end-to-end p99 exceeds --p99-bound, a delivery is lost, duplicated or out of order, a connection drops, or --max-steps ran.",
                "Reports every step and the highest delivered rate sustained within the bound."})
final class SaturationCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RoomShape shape;

    @Option(names = "--rate", paramLabel = "<msgs/s>", defaultValue = "100", description = "first step's messages a second per sender. Default: ${DEFAULT-VALUE}")
    double rate;

    @Option(names = "--step-factor", paramLabel = "<x>", defaultValue = "1.5", description = "rate multiplier from one step to the next. Default: ${DEFAULT-VALUE}")
    double factor;

    @Option(names = "--max-steps", paramLabel = "<n>", defaultValue = "12", description = "most steps. Default: ${DEFAULT-VALUE}")
    int maxSteps;

    @Option(names = "--duration", paramLabel = "<time>", defaultValue = "5s", converter = CommonOptions.DurationConverter.class,
            description = "measured time of each step. Default: ${DEFAULT-VALUE}")
    Duration duration;

    @Option(names = "--warmup", paramLabel = "<time>", defaultValue = "1s", converter = CommonOptions.DurationConverter.class,
            description = "unmeasured sending at the start of each step. Default: ${DEFAULT-VALUE}")
    Duration warmup;

    @Option(names = "--initial-warmup", paramLabel = "<time>", defaultValue = "15s", converter = CommonOptions.DurationConverter.class,
            description = "sending at the first step's rate before step 1, not reported: a fresh server JVM compiles its hot paths meanwhile. Default: ${DEFAULT-VALUE}")
    Duration initialWarmup;

    @Option(names = "--drain-timeout", paramLabel = "<time>", defaultValue = "10s", converter = CommonOptions.DurationConverter.class,
            description = "after each step, how long to wait for missing acks and deliveries. Default: ${DEFAULT-VALUE}")
    Duration drainTimeout;

    @Option(names = "--p99-bound", paramLabel = "<time>", defaultValue = "100ms", converter = CommonOptions.DurationConverter.class,
            description = "a step whose end-to-end p99 is above this is not sustained. Default: ${DEFAULT-VALUE}")
    Duration p99Bound;

    @Override
    public Integer call() throws Exception {
        shape.validate(1);
        if (rate <= 0 || factor <= 1) throw new IllegalArgumentException("--rate must be positive and --step-factor above 1");
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("urls", common.urls);
        shape.describe(config);
        config.put("startRate", rate);
        config.put("stepFactor", factor);
        config.put("maxSteps", maxSteps);
        config.put("initialWarmupSeconds", initialWarmup.toMillis() / 1000.0);
        config.put("stepWarmupSeconds", warmup.toMillis() / 1000.0);
        config.put("stepDurationSeconds", duration.toMillis() / 1000.0);
        config.put("p99BoundMillis", (double) p99Bound.toMillis());
        config.put("payload", shape.payload);
        config.put("threads", common.threads);
        double boundMillis = p99Bound.toNanos() / 1e6;
        List<Map<String, Object>> steps = new ArrayList<>();
        Map<String, Object> best = null;
        String stopped = "max steps reached";
        try (Fleet fleet = Fleet.open(common, shape.rooms, shape.members, shape.senders, shape.payload, System.err)) {
            PhaseRunner runner = new PhaseRunner(fleet, common.serverPids, System.err, common.quiet);
            if (!initialWarmup.isZero()) runner.run("warm-up ", rate, initialWarmup, Duration.ofSeconds(1), drainTimeout);
            double r = rate;
            for (int step = 1; step <= maxSteps; step++) {
                PhaseRunner.Result result = runner.run(String.format("step %2d ", step), r, warmup, duration, drainTimeout);
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("step", step);
                s.putAll(result.report());
                boolean sustained = result.correct() && result.p99Millis() <= boundMillis;
                s.put("sustained", sustained);
                steps.add(s);
                if (!common.quiet) {
                    System.err.printf("step %d: rate %.1f/s per sender, delivered %.0f/s, p99 %.3f ms: %s%n", step, r,
                            result.deliveredPerSecond(), result.p99Millis(), sustained ? "sustained" : "NOT sustained");
                }
                if (!sustained) {
                    stopped = !result.drained() ? "overloaded: acks and deliveries did not catch up within --drain-timeout"
                            : !result.correct() ? "a delivery went wrong or a connection dropped" : "p99 above the bound";
                    break;
                }
                best = s;
                r *= factor;
            }
        }
        Map<String, Object> out = FanoutCommand.header("saturation", common, config);
        out.put("stoppedBecause", stopped);
        out.put("highestSustainedDeliveredPerSecond", best == null ? 0.0 : best.get("deliveredPerSecond"));
        out.put("highestSustainedRate", best == null ? 0.0 : best.get("rate"));
        out.put("highestSustainedP99Millis", best == null ? 0.0 : ((Map<?, ?>) best.get("latency")).get("p99"));
        out.put("steps", steps);
        if (common.json) {
            Report.print(System.out, out, true);
        } else {
            Map<String, Object> head = new LinkedHashMap<>(out);
            head.remove("steps");
            Report.print(System.out, head, false);
            printSteps(steps);
        }
        return 0;
    }

    private static void printSteps(List<Map<String, Object>> steps) {
        System.out.printf("  %4s %12s %14s %14s %9s %9s %9s %7s %5s %5s %7s %7s  %s%n", "step", "rate/sender", "offered/s",
                "delivered/s", "p50 ms", "p99 ms", "max ms", "losses", "dup", "ooo", "srv cpu", "bench", "sustained");
        for (Map<String, Object> s : steps) {
            Map<?, ?> lat = (Map<?, ?>) s.get("latency");
            Map<?, ?> server = (Map<?, ?>) s.get("server");
            Map<?, ?> bench = (Map<?, ?>) s.get("bench");
            System.out.printf(java.util.Locale.ROOT, "  %4s %12.1f %14.0f %14.0f %9s %9s %9s %7s %5s %5s %7s %7s  %s%n",
                    s.get("step"), (Double) s.get("rate"), (Double) s.get("offeredDeliveriesPerSecond"), (Double) s.get("deliveredPerSecond"),
                    lat.get("p50"), lat.get("p99"), lat.get("max"), s.get("losses"), s.get("duplicates"), s.get("orderViolations"),
                    server.isEmpty() ? "-" : server.get("cores"), bench.isEmpty() ? "-" : bench.get("cores"), s.get("sustained"));
        }
    }
}
