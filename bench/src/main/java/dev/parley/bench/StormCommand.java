package dev.parley.bench;

import org.HdrHistogram.Histogram;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench storm}: the reconnect storm of issue 22. A fleet like fanout's with traffic flowing,
 * every connection following the reconnect rule of PROTOCOL.md 10 ({@link Reconnect}); then the node
 * is killed and started again, or drained to another node, and the bench measures how long until its
 * clients are all back, what the node spent meanwhile, and that no acknowledged message was lost,
 * doubled or reordered across it.
 *
 * <p>Just over 400 lines: the options, the run's phases and its report read as one story; the node's
 * side is in {@link Storm}, the connections' in {@link Reconnect}.
 */
@Command(name = "storm", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Reconnect storm: a node killed (or drained) under traffic; time until every client resumed, nothing lost.",
                "--connections spread over --rooms, the first --senders of each room sending --rate messages a second. Every connection reconnects as PROTOCOL.md 10 says (back-off with full jitter, 503 Retry-After honoured) and rejoins with since = its last seq; a sender re-sends what was not acknowledged, with the same clientId.",
                "After --before: --kill sends SIGKILL to the first --server-pid and runs --restart-command, which starts the node in the background and writes its pid to --pid-file; the bench then polls --ready-url /health/ready. --drain sends SIGTERM instead: without --restart-command the clients go to the other nodes behind --url (nginx), the second --server-pid being measured.",
                "Reports the time from ready (or, for a drain to other nodes, from the drained node's exit) and from the signal until 99%% and 100%% of the dropped connections joined again, the server's peak CPU (1 s windows) and RSS in the storm, the 503s and close codes on the way, and sent, acked, losses, duplicates and order violations over the whole run.",
                "Exit status 1 if a message was lost, doubled or reordered, or not every connection resumed within --resume-timeout."})
final class StormCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--connections", paramLabel = "<n>", defaultValue = "19000", description = "connections, spread evenly over the rooms. Default: ${DEFAULT-VALUE}")
    int connections;

    @Option(names = "--rooms", paramLabel = "<n>", defaultValue = "100", description = "rooms. Default: ${DEFAULT-VALUE}")
    int rooms;

    @Option(names = "--senders", paramLabel = "<n>", defaultValue = "1", description = "members of each room that send. Default: ${DEFAULT-VALUE}")
    int senders;

    @Option(names = "--rate", paramLabel = "<msgs/s>", defaultValue = "2", description = "messages a second per sender. Default: ${DEFAULT-VALUE}")
    double rate;

    @Option(names = "--payload", paramLabel = "<bytes>", defaultValue = "100", description = "message text size (at least 16). Default: ${DEFAULT-VALUE}")
    int payload;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Signal signal;

    static final class Signal {
        @Option(names = "--kill", required = true, description = "SIGKILL the first --server-pid, then --restart-command")
        boolean kill;

        @Option(names = "--drain", required = true, description = "SIGTERM the first --server-pid (it drains); the clients go to the other nodes behind --url, or to the node --restart-command starts again")
        boolean drain;
    }

    @Option(names = "--restart-command", paramLabel = "<sh>",
            description = "shell command (sh -c) that starts the node again in the background, its output to a file, and writes its pid to --pid-file, then returns; e.g. 'java -jar parley.jar serve ... > node.log 2>&1 & echo $! > node.pid'")
    String restartCommand;

    @Option(names = "--pid-file", paramLabel = "<path>", description = "where --restart-command writes the new node's pid (deleted before it runs)")
    Path pidFile;

    @Option(names = "--ready-url", paramLabel = "<url>", description = "the restarted node itself, whose /health/ready says it is ready. Default: the first --url")
    String readyUrl;

    @Option(names = "--before", paramLabel = "<time>", defaultValue = "20s", converter = CommonOptions.DurationConverter.class,
            description = "traffic before the signal. Default: ${DEFAULT-VALUE}")
    Duration before;

    @Option(names = "--after", paramLabel = "<time>", defaultValue = "5s", converter = CommonOptions.DurationConverter.class,
            description = "traffic after every connection resumed. Default: ${DEFAULT-VALUE}")
    Duration after;

    @Option(names = "--resume-timeout", paramLabel = "<time>", defaultValue = "60s", converter = CommonOptions.DurationConverter.class,
            description = "from ready (or the drained node's exit), how long every dropped connection has to join again. Default: ${DEFAULT-VALUE}")
    Duration resumeTimeout;

    @Option(names = "--ready-timeout", paramLabel = "<time>", defaultValue = "120s", converter = CommonOptions.DurationConverter.class,
            description = "how long the node may take to exit, and the restarted one to be ready. Default: ${DEFAULT-VALUE}")
    Duration readyTimeout;

    @Option(names = "--settle-timeout", paramLabel = "<time>", defaultValue = "10s", converter = CommonOptions.DurationConverter.class,
            description = "after the last send, how long to wait for the missing acks and deliveries. Default: ${DEFAULT-VALUE}")
    Duration settleTimeout;

    private static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final PrintStream err = System.err;

    @Override
    public Integer call() throws Exception {
        Storm.Mode mode = signal.kill ? Storm.Mode.KILL : Storm.Mode.DRAIN;
        validate(mode);
        int members = (connections + rooms - 1) / rooms;
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("urls", common.urls);
        config.put("mode", mode == Storm.Mode.KILL ? "kill" : "drain");
        config.put("restart", restartCommand != null);
        config.put("rooms", rooms);
        config.put("members", members);
        config.put("connections", rooms * members);
        config.put("senders", senders);
        config.put("rate", rate);
        config.put("payload", payload);
        config.put("beforeSeconds", before.toMillis() / 1000.0);
        config.put("afterSeconds", after.toMillis() / 1000.0);
        config.put("resumeTimeoutSeconds", resumeTimeout.toMillis() / 1000.0);
        config.put("threads", common.threads);
        try (Fleet fleet = Fleet.reconnecting(common, rooms, members, senders, payload, err)) {
            Map<String, Object> out = FanoutCommand.header("storm", common, config);
            boolean correct = new Run(fleet, mode).run(out);
            Report.print(System.out, out, common.json);
            return correct ? 0 : 1;
        }
    }

    private void validate(Storm.Mode mode) {
        if (connections < 1 || rooms < 1 || connections < rooms) throw new IllegalArgumentException("need connections >= rooms >= 1");
        if (senders < 1 || senders > (connections + rooms - 1) / rooms) throw new IllegalArgumentException("need 1 <= senders <= connections per room");
        if (rate <= 0) throw new IllegalArgumentException("--rate must be positive");
        if (common.serverPids.isEmpty()) throw new IllegalArgumentException("--server-pid: the node to " + (mode == Storm.Mode.KILL ? "kill" : "drain"));
        if ((restartCommand == null) != (pidFile == null)) throw new IllegalArgumentException("--restart-command and --pid-file go together");
        if (mode == Storm.Mode.KILL && restartCommand == null) throw new IllegalArgumentException("--kill needs --restart-command and --pid-file");
        if (mode == Storm.Mode.DRAIN && restartCommand == null && common.serverPids.size() < 2) {
            throw new IllegalArgumentException("--drain without --restart-command: give the node the clients go to as a second --server-pid");
        }
    }

    /** One run: the state of its phases, reported into one map. */
    private final class Run {
        private final Fleet fleet;
        private final Storm.Mode mode;
        private final Client client;
        private final RunClock clock;
        private final List<Long> watched = new ArrayList<>(common.serverPids); // the server processes measured now
        private final CpuWindows cpu = new CpuWindows();
        private final List<Map<String, Object>> timeline = new ArrayList<>();
        private final List<Long> timelineAt = new ArrayList<>(); // run-clock time of each entry
        private long signalAt = Long.MAX_VALUE;
        private boolean stormOver;
        private double peakCores;
        private LoopStats.Counters lastCounters = LoopStats.Counters.ZERO;

        Run(Fleet fleet, Storm.Mode mode) {
            this.fleet = fleet;
            this.mode = mode;
            this.client = fleet.client;
            this.clock = client.clock;
        }

        boolean run(Map<String, Object> out) throws InterruptedException {
            long start = clock.now() + TimeUnit.MILLISECONDS.toNanos(200);
            // Everything is measured (the storm is the point), and nothing is due after the end: finish() ends the sending.
            RunClock.Phase phase = new RunClock.Phase(start, start, Long.MAX_VALUE / 4);
            clock.phase(phase);
            double period = 1e9 / rate;
            int n = fleet.senders.size();
            for (int i = 0; i < n; i++) fleet.senders.get(i).start(phase, rate, (long) (i * period / n));
            ProcStats self = ProcStats.self();
            cpu.sample(watched);
            lastCounters = client.countersNow();

            long stormAt = start + before.toNanos();
            runUntil(stormAt, "before");
            Map<String, Long> eventsBefore = reconnectEvents();
            long killedPid = common.serverPids.get(0);
            fleet.reconnect.stormFrom = clock.now();
            Storm storm = new Storm(mode, killedPid, restartCommand, pidFile, Target.parse(readyUrl != null ? readyUrl : common.urls.get(0)),
                    readyTimeout, clock, err);
            CompletableFuture<Storm.Outcome> acting = new CompletableFuture<>();
            Thread.ofPlatform().daemon(true).name("bench-storm").start(() -> {
                try {
                    acting.complete(storm.run());
                } catch (Throwable e) {
                    acting.completeExceptionally(e);
                }
            });
            signalAt = clock.now(); // within microseconds of the signal; replaced by its time once known
            ProcStats server = mode == Storm.Mode.DRAIN ? ProcStats.start(List.copyOf(watched)) : null;
            if (mode == Storm.Mode.KILL) watched.remove(Long.valueOf(killedPid));
            Storm.Outcome outcome = null;
            String failure = null;
            long resumeFrom = -1, deadline = Long.MAX_VALUE, allResumedAt = -1;
            long nextTick = clock.now() + TimeUnit.SECONDS.toNanos(1);
            while (true) {
                if (outcome == null && acting.isDone()) {
                    try {
                        outcome = acting.join();
                    } catch (CompletionException e) {
                        Throwable cause = e.getCause();
                        failure = cause.getMessage() != null ? cause.getMessage() : cause.toString();
                        err.println("storm: " + failure);
                        break;
                    }
                    signalAt = outcome.signalAt();
                    if (outcome.newPid() > 0) {
                        watched.remove(Long.valueOf(killedPid));
                        watched.add(0, outcome.newPid());
                        if (server != null) server.close();
                        server = ProcStats.start(List.copyOf(watched));
                    }
                    resumeFrom = outcome.readyAt() >= 0 ? outcome.readyAt() : outcome.exitedAt();
                    deadline = resumeFrom + resumeTimeout.toNanos();
                }
                long now = clock.now();
                // Half a second after the node's end at least: a drop its clients' loops have not read yet must not pass for joined.
                if (outcome != null && now > outcome.exitedAt() + GRACE_NANOS && allResumed()) {
                    allResumedAt = now;
                    break;
                }
                if (now > deadline) break;
                if (now >= nextTick) {
                    tick(now, "storm");
                    nextTick += TimeUnit.SECONDS.toNanos(1);
                }
                Thread.sleep(20);
            }
            stormOver = true;
            ProcStats.Usage serverInStorm = server == null ? null : server.usage();
            if (failure == null && allResumedAt >= 0) runUntil(clock.now() + after.toNanos(), "after");
            for (Sender s : fleet.senders) s.finish();
            boolean settled = settle();
            ProcStats.Usage bench = self == null ? null : self.usage();
            if (server != null) server.close();
            if (self != null) self.close();

            LoopStats.Counters c = client.counters();
            Map<String, Long> events = reconnectEvents();
            // A client not back at the end has not been given what its room stored meanwhile: reported
            // apart (the run fails anyway, as not all resumed), so that losses are what a joined member lacks.
            long absent = fleet.lossesOfAbsent();
            long losses = fleet.losses() - absent, extra = fleet.extra(), sent = fleet.sent(), acked = fleet.acked();
            out.put("mode", mode == Storm.Mode.KILL ? "kill" : "drain");
            if (failure != null) out.put("failure", failure);
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("pid", killedPid);
            if (outcome != null) {
                node.put("goneSecondsAfterSignal", seconds(outcome.exitedAt() - signalAt));
                if (outcome.newPid() > 0) {
                    node.put("newPid", outcome.newPid());
                    node.put("readySecondsAfterSignal", seconds(outcome.readyAt() - signalAt));
                }
            }
            out.put("node", node);
            boolean allBack = resumes(out, outcome, resumeFrom, allResumedAt);
            out.put("reconnectEvents", minus(events, eventsBefore));
            out.put("reconnectEventsBeforeStorm", eventsBefore);
            out.put("sent", sent);
            out.put("acked", acked);
            out.put("resent", fleet.resent());
            out.put("skippedWhileAway", fleet.skipped());
            out.put("repeatedAcks", fleet.repeatedAcks());
            out.put("expected", fleet.expected());
            out.put("received", c.messages());
            out.put("distinctReceived", fleet.distinct());
            out.put("losses", losses);
            out.put("undeliveredToAbsent", absent);
            out.put("extra", extra);
            out.put("duplicates", c.duplicates());
            out.put("orderViolations", c.outOfOrder());
            out.put("errors", c.errors());
            out.put("settled", settled);
            Histogram latency = LoopStats.histogram(), ack = LoopStats.histogram();
            for (LoopStats s : client.stats()) {
                latency.add(s.latency.interval());
                ack.add(s.ackLatency.interval());
            }
            out.put("latency", Report.latency(latency));
            out.put("ackLatency", Report.latency(ack));
            Map<String, Object> srv = new LinkedHashMap<>();
            srv.put("peakCores", Report.round(peakCores));
            srv.putAll(Report.usage(serverInStorm));
            out.put("server", srv);
            out.put("bench", Report.usage(bench));
            for (int i = 0; i < timeline.size(); i++) timeline.get(i).put("seconds", seconds(timelineAt.get(i) - signalAt));
            if (common.json) out.put("timeline", timeline);
            // Error frames are reported, not judged: a draining node answers a send with unavailable, and the send,
            // unacknowledged, goes again on the next connection. sent == acked says whether every one got through.
            boolean correct = failure == null && allBack && losses == 0 && extra == 0 && c.duplicates() == 0 && c.outOfOrder() == 0
                    && sent == acked;
            out.put("correct", correct);
            return correct;
        }

        /** Every connection the storm dropped has joined again and none gave up; every one is joined now. */
        private boolean allResumed() {
            for (BenchConnection c : fleet.connections) {
                Reconnect r = c.reconnect;
                if (r.gaveUp || (r.droppedAt >= 0 && r.resumedAt < 0) || !c.isJoined()) return false;
            }
            return true;
        }

        /** Puts the resume times into {@code out}; whether every dropped connection came back in time. */
        private boolean resumes(Map<String, Object> out, Storm.Outcome outcome, long resumeFrom, long allResumedAt) {
            List<Long> back = new ArrayList<>();
            int dropped = 0, gaveUp = 0;
            for (BenchConnection c : fleet.connections) {
                Reconnect r = c.reconnect;
                if (r.gaveUp) gaveUp++;
                if (r.droppedAt < 0) continue;
                dropped++;
                if (r.resumedAt >= 0) back.add(r.resumedAt);
            }
            back.sort(null);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("connections", fleet.connections.size());
            m.put("dropped", dropped);
            m.put("resumed", back.size());
            m.put("gaveUp", gaveUp);
            m.put("from", outcome == null ? "-" : outcome.readyAt() >= 0 ? "ready" : "exit");
            int p99 = (int) Math.ceil(dropped * 0.99) - 1;
            boolean all = dropped > 0 && back.size() == dropped && allResumedAt >= 0;
            if (resumeFrom >= 0 && dropped > 0) {
                m.put("p99Seconds", p99 < back.size() ? seconds(back.get(p99) - resumeFrom) : null);
                m.put("allSeconds", all ? seconds(back.get(back.size() - 1) - resumeFrom) : null);
            }
            if (dropped > 0) {
                m.put("p99SecondsAfterSignal", p99 < back.size() ? seconds(back.get(p99) - signalAt) : null);
                m.put("allSecondsAfterSignal", all ? seconds(back.get(back.size() - 1) - signalAt) : null);
            }
            m.put("allWithinTimeout", all);
            out.put("resume", m);
            return all && gaveUp == 0;
        }

        /** Traffic until {@code end}, a progress line a second. */
        private void runUntil(long end, String stage) throws InterruptedException {
            long nextTick = clock.now() + TimeUnit.SECONDS.toNanos(1);
            while (true) {
                long now = clock.now();
                if (now >= end) return;
                if (now >= nextTick) {
                    tick(now, stage);
                    nextTick += TimeUnit.SECONDS.toNanos(1);
                }
                Thread.sleep(Math.max(1, Math.min(20, (end - now) / 1_000_000)));
            }
        }

        /** The end: waits until every send is acked and every member has every acked message, or the settle timeout. */
        private boolean settle() throws InterruptedException {
            long deadline = System.nanoTime() + settleTimeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (fleet.acked() >= fleet.sent() && fleet.distinct() >= fleet.expected()) return true;
                Thread.sleep(20);
            }
            return false;
        }

        /** A second's reading: the servers' cores, the timeline's entry and the progress line. */
        private void tick(long now, String stage) {
            double cores = cpu.sample(watched);
            if (now >= signalAt && !stormOver && !Double.isNaN(cores)) peakCores = Math.max(peakCores, cores);
            long rss = 0;
            for (long pid : watched) rss += ProcStats.rssKb(pid);
            int joined = 0, resumed = 0, dropped = 0;
            for (BenchConnection c : fleet.connections) {
                if (c.isJoined()) joined++;
                if (c.reconnect.droppedAt >= 0) {
                    dropped++;
                    if (c.reconnect.resumedAt >= 0) resumed++;
                }
            }
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("seconds", null); // from the signal: put in at the end, when the signal's time is known
            t.put("joined", joined);
            t.put("cores", Double.isNaN(cores) ? null : Report.round(cores));
            t.put("rssKiB", watched.isEmpty() ? null : rss); // no node watched: between a kill and the new node's ready
            timeline.add(t);
            timelineAt.add(now);
            if (common.quiet) return;
            LoopStats.Counters c = client.countersNow();
            String when = signalAt == Long.MAX_VALUE ? "" : String.format(Locale.ROOT, " %+5.1fs", (now - signalAt) / 1e9);
            err.printf(Locale.ROOT, "storm [%-6s%s] joined %6d/%d  resumed %6d/%d  sent %6d/s  acked %6d/s  recv %8d/s  dup %d ooo %d  events %s%s%n",
                    stage, when, joined, fleet.connections.size(), resumed, dropped, c.sent() - lastCounters.sent(), c.acked() - lastCounters.acked(),
                    c.messages() - lastCounters.messages(), c.duplicates(), c.outOfOrder(), reconnectEvents(),
                    Double.isNaN(cores) ? "" : String.format(Locale.ROOT, "  server %.2f cores %d MiB", cores, rss / 1024));
            lastCounters = c;
        }

        /** Every loop's reconnect events, summed (exact: read on each loop). */
        private Map<String, Long> reconnectEvents() {
            Map<String, Long> sum = new TreeMap<>();
            for (Map<String, Long> m : client.onEachLoop(s -> new TreeMap<>(s.reconnects))) m.forEach((k, v) -> sum.merge(k, v, Long::sum));
            return sum;
        }

        private static Map<String, Long> minus(Map<String, Long> a, Map<String, Long> b) {
            Map<String, Long> d = new TreeMap<>(a);
            b.forEach((k, v) -> d.merge(k, -v, Long::sum));
            d.values().removeIf(v -> v == 0);
            return d;
        }

        private static double seconds(long nanos) {
            return Report.round(nanos / 1e9);
        }
    }
}
