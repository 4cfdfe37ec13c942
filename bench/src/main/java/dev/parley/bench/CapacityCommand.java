package dev.parley.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code bench capacity}: N authenticated, joined, idle connections; connect rate and memory per connection. */
@Command(name = "capacity", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Many idle joined connections: connect rate, memory per connection.",
                "Opens --connections WebSockets (authenticated, each joined to one of --rooms rooms), holds them idle for --hold, and reports the connect rate and, with --server-pid, the server's resident memory per connection.",
                "Past 28,000 connections to a loopback server it connects from several 127.0.0.x addresses. Each process needs a file descriptor per connection: check ulimit -n on both sides."})
final class CapacityCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--connections", paramLabel = "<n>", defaultValue = "1000", description = "connections to open. Default: ${DEFAULT-VALUE}")
    int connections;

    @Option(names = "--rooms", paramLabel = "<n>", description = "rooms to spread them over. Default: one per 100 connections")
    int rooms;

    @Option(names = "--hold", paramLabel = "<time>", defaultValue = "5s", converter = CommonOptions.DurationConverter.class,
            description = "how long to keep them open and idle before measuring. Default: ${DEFAULT-VALUE}")
    Duration hold;

    @Option(names = "--server-gc", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "with --server-pid: run a full GC in the server (jcmd PID GC.run) before each memory reading, so that garbage and heap grown by the connecting do not count as per-connection memory. Default: ${DEFAULT-VALUE}")
    boolean serverGc;

    @Override
    public Integer call() throws Exception {
        if (connections < 1) throw new IllegalArgumentException("--connections must be positive");
        if (common.serverPids.size() > 1) throw new IllegalArgumentException("capacity measures one server process: give --server-pid once");
        Long serverPid = common.serverPids.isEmpty() ? null : common.serverPids.get(0);
        int roomCount = rooms > 0 ? rooms : Math.max(1, (connections + 99) / 100);
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("urls", common.urls);
        config.put("connections", connections);
        config.put("rooms", roomCount);
        config.put("holdSeconds", hold.toMillis() / 1000.0);
        config.put("threads", common.threads);
        ProcStats[] server = new ProcStats[1];
        ProcStats[] self = new ProcStats[1];
        long[] heapBefore = {-1};
        Map<String, Object> out = FanoutCommand.header("capacity", common, config);
        try (Fleet fleet = Fleet.idle(common, connections, roomCount, System.err, () -> {
            if (serverPid != null && serverGc) heapBefore[0] = Jcmd.gcAndHeapUsedKb(serverPid);
            server[0] = serverPid == null ? null : ProcStats.start(serverPid);
            self[0] = ProcStats.self();
        })) {
            int established = connections - fleet.failed;
            ProcStats.Usage serverAfterConnect = server[0] == null ? null : server[0].usage();
            long deadline = System.nanoTime() + hold.toNanos();
            while (System.nanoTime() < deadline) {
                if (!common.quiet) {
                    System.err.printf("holding: %d open%s%n", fleet.open(), server[0] == null ? ""
                            : String.format(", server RSS %d MiB", ProcStats.rssKb(serverPid) / 1024));
                }
                TimeUnit.MILLISECONDS.sleep(Math.min(1000, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
            }
            LoopStats.Counters c = fleet.client.counters();
            long heapAfter = serverPid != null && serverGc ? Jcmd.gcAndHeapUsedKb(serverPid) : -1;
            ProcStats.Usage s = server[0] == null ? null : server[0].usage();
            ProcStats.Usage b = self[0].usage();
            out.put("established", established);
            out.put("failed", fleet.failed);
            out.put("openAtEnd", fleet.open());
            out.put("disconnects", c.disconnects());
            out.put("errors", c.errors());
            out.put("connectSeconds", Report.round(fleet.connectSeconds));
            out.put("connectsPerSecond", Report.round(established / fleet.connectSeconds));
            if (s != null) {
                out.put("serverRssPerConnectionKiB", Report.round((s.rssKb() - s.startRssKb()) / (double) Math.max(1, established)));
                out.put("serverCpuSecondsToConnect", serverAfterConnect == null ? null : Report.round(serverAfterConnect.cpuSeconds()));
                out.put("serverGcBeforeReadings", serverGc && heapAfter >= 0);
                if (heapBefore[0] >= 0 && heapAfter >= 0) {
                    out.put("serverHeapUsedAfterGcPerConnectionKiB", Report.round((heapAfter - heapBefore[0]) / (double) Math.max(1, established)));
                }
            }
            out.put("benchRssPerConnectionKiB", Report.round((b.rssKb() - b.startRssKb()) / (double) Math.max(1, established)));
            out.put("server", Report.usage(s));
            out.put("bench", Report.usage(b));
            boolean ok = fleet.failed == 0 && c.disconnects() == 0;
            out.put("correct", ok);
            Report.print(System.out, out, common.json);
            return ok ? 0 : 1;
        } finally {
            if (server[0] != null) server[0].close();
            if (self[0] != null) self[0].close();
        }
    }
}
