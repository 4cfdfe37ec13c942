package dev.parley.bench;

import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs one phase of sending on a {@link Fleet}: every sender at {@code rate}, a warm-up, the measured
 * window, then a drain that waits (up to a bound) until every send is acked and every member has
 * every acked message. Prints a progress line a second, and returns the phase's numbers.
 */
final class PhaseRunner {
    private final Fleet fleet;
    private final List<Long> serverPids;
    private final PrintStream err;
    private final boolean quiet;

    PhaseRunner(Fleet fleet, List<Long> serverPids, PrintStream err, boolean quiet) {
        this.fleet = fleet;
        this.serverPids = serverPids;
        this.err = err;
        this.quiet = quiet;
    }

    record Result(Map<String, Object> report, double deliveredPerSecond, double p99Millis, boolean correct, boolean drained) {}

    Result run(String label, double rate, Duration warmup, Duration duration, Duration drainTimeout) throws InterruptedException {
        Client client = fleet.client;
        RunClock clock = client.clock;
        // Exact starting point, and discard what the recorders hold from before.
        LoopStats.Counters before = client.counters();
        long lossesBefore = fleet.losses(), expectedBefore = fleet.expected(), sentBefore = fleet.sent(), ackedBefore = fleet.acked();
        for (LoopStats s : client.stats()) {
            s.latency.interval();
            s.latencyOutside.interval();
            s.ackLatency.interval();
            s.sendLag.interval();
        }
        Histogram latency = LoopStats.histogram(), ack = LoopStats.histogram(), lag = LoopStats.histogram();
        Histogram interval = LoopStats.histogram(), intervalAck = LoopStats.histogram(); // the progress line's second

        long start = clock.now() + TimeUnit.MILLISECONDS.toNanos(200);
        RunClock.Phase phase = new RunClock.Phase(start, start + warmup.toNanos(), start + warmup.toNanos() + duration.toNanos());
        clock.phase(phase);
        double period = 1e9 / rate;
        int n = fleet.senders.size();
        List<CompletableFuture<Void>> sending = new ArrayList<>();
        for (int i = 0; i < n; i++) sending.add(fleet.senders.get(i).start(phase, rate, (long) (i * period / n)));

        // Started with the warm-up and restarted when the window opens: their code is then warm when it
        // counts, instead of being compiled on the bench's core during the first seconds of the window.
        ProcStats server = ProcStats.start(serverPids), self = ProcStats.self();
        boolean windowOpen = false;
        ProcStats.Usage[] usageAtEnd = null; // server, bench: over the measured window
        long nextTick = start + TimeUnit.SECONDS.toNanos(1);
        LoopStats.Counters last = before;
        long lastTick = start;
        long drainDeadline = Long.MAX_VALUE;
        boolean drained = false;
        try {
            while (true) {
                long now = clock.now();
                if (!windowOpen && now >= phase.warmupEnd()) {
                    windowOpen = true;
                    if (server != null) server.restart();
                    if (self != null) self.restart();
                }
                if (now >= phase.sendEnd() && drainDeadline == Long.MAX_VALUE) {
                    drainDeadline = now + drainTimeout.toNanos();
                    usageAtEnd = new ProcStats.Usage[]{server == null ? null : server.usage(), self == null ? null : self.usage()};
                }
                if (drainDeadline != Long.MAX_VALUE) {
                    LoopStats.Counters c = client.countersNow();
                    boolean allAcked = fleet.acked() + c.errorCount() >= fleet.sent();
                    if (allAcked && sendingDone(sending) && fleet.distinct() >= fleet.expected()) {
                        drained = true;
                        break;
                    }
                    if (now >= drainDeadline) break;
                }
                if (now >= nextTick) {
                    LoopStats.Counters c = client.countersNow();
                    interval.reset();
                    intervalAck.reset();
                    for (LoopStats s : client.stats()) {
                        Histogram m = s.latency.interval();
                        latency.add(m);
                        interval.add(m);
                        interval.add(s.latencyOutside.interval());
                        Histogram a = s.ackLatency.interval();
                        ack.add(a);
                        intervalAck.add(a);
                        lag.add(s.sendLag.interval());
                    }
                    if (!quiet) progress(label, now, (now - lastTick) / 1e9, phase, c, last, interval, intervalAck, server);
                    last = c;
                    lastTick = now;
                    nextTick = Math.max(nextTick + TimeUnit.SECONDS.toNanos(1), now + TimeUnit.MILLISECONDS.toNanos(500));
                }
                Thread.sleep(20);
            }
        } finally {
            if (usageAtEnd == null) usageAtEnd = new ProcStats.Usage[]{server == null ? null : server.usage(), self == null ? null : self.usage()};
            if (server != null) server.close();
            if (self != null) self.close();
        }
        for (CompletableFuture<Void> s : sending) s.cancel(false);
        LoopStats.Counters delta = client.counters().minus(before);
        for (LoopStats s : client.stats()) {
            latency.add(s.latency.interval());
            ack.add(s.ackLatency.interval());
            lag.add(s.sendLag.interval());
        }
        long sent = fleet.sent() - sentBefore, acked = fleet.acked() - ackedBefore;
        long expected = fleet.expected() - expectedBefore, losses = fleet.losses() - lossesBefore;
        double seconds = duration.toNanos() / 1e9;
        double delivered = delta.measuredMessages() / seconds;
        int members = fleet.connections.size();

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("rate", rate);
        r.put("offeredMessagesPerSecond", Report.round(rate * n));
        r.put("offeredDeliveriesPerSecond", Report.round(rate * offeredFanout()));
        r.put("sent", sent);
        r.put("acked", acked);
        r.put("expected", expected);
        r.put("received", delta.messages());
        r.put("losses", losses);
        r.put("duplicates", delta.duplicates());
        r.put("orderViolations", delta.outOfOrder());
        r.put("gapsSeen", delta.gaps());
        r.put("errors", delta.errors());
        r.put("disconnects", delta.disconnects());
        r.put("drained", drained);
        r.put("deliveredPerSecond", Report.round(delivered));
        r.put("latency", Report.latency(latency));
        r.put("ackLatency", Report.latency(ack));
        r.put("sendLag", Report.latency(lag));
        r.put("server", Report.usage(usageAtEnd[0]));
        r.put("bench", Report.usage(usageAtEnd[1]));
        r.put("connections", members);
        boolean correct = sent == acked && delta.messages() == expected && losses == 0 && delta.duplicates() == 0
                && delta.outOfOrder() == 0 && delta.disconnects() == 0 && delta.errorCount() == 0;
        r.put("correct", correct);
        return new Result(r, delivered, Report.ms(latency.getValueAtPercentile(99)), correct, drained);
    }

    private long offeredFanout() {
        long f = 0;
        for (Fleet.Room room : fleet.rooms) f += (long) room.senders().size() * room.members().size();
        return f;
    }

    private static boolean sendingDone(List<CompletableFuture<Void>> sending) {
        for (CompletableFuture<Void> s : sending) if (!s.isDone()) return false;
        return true;
    }

    /** The servers' cores since the readings (re)started; nothing in the instant after a restart, which would read 0.00. */
    private static String serverCores(ProcStats server) {
        if (server == null) return "";
        ProcStats.Usage u = server.usageForProgress();
        return u.wallSeconds() < 0.5 ? "" : String.format(Locale.ROOT, "  server %.2f cores", u.cores());
    }

    private void progress(String label, long now, double seconds, RunClock.Phase phase, LoopStats.Counters c, LoopStats.Counters last,
                          Histogram lat, Histogram ack, ProcStats server) {
        String stage = now < phase.warmupEnd() ? "warm-up" : now < phase.sendEnd() ? "measure" : "drain";
        long t = TimeUnit.NANOSECONDS.toSeconds(now - phase.start());
        err.printf(Locale.ROOT, "%s[%3ds %-7s] sent %7d/s  acked %7d/s  recv %9d/s  lat p50 %7.3f p99 %8.3f max %8.3f ms"
                        + "  ack p99 %8.3f ms  gaps %d dup %d ooo %d disc %d%s%n",
                label, t, stage, Math.round((c.sent() - last.sent()) / seconds), Math.round((c.acked() - last.acked()) / seconds),
                Math.round((c.messages() - last.messages()) / seconds),
                Report.ms(lat.getValueAtPercentile(50)), Report.ms(lat.getValueAtPercentile(99)), Report.ms(lat.getMaxValue()),
                Report.ms(ack.getValueAtPercentile(99)), c.gaps(), c.duplicates(), c.outOfOrder(), c.disconnects(),
                serverCores(server));
    }
}
