package dev.parley.bench;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@code --server-pid} reports, on real processes. */
class ProcStatsTest {
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stop() {
        for (Process p : started) p.descendants().forEach(ProcessHandle::destroyForcibly);
        for (Process p : started) p.destroyForcibly();
    }

    private Process sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    /** A fixed amount of work for the shell, about half a second of CPU here; a line on stdout when done. */
    private static final String BUSY = "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done";

    /** A storm's timeline: between the kill and the new node's ready no node is watched, and that second is unknown, not idle. */
    @Test
    void a_cpu_window_with_no_process_read_at_both_ends_is_unknown_not_idle() throws Exception {
        CpuWindows cpu = new CpuWindows();
        List<Long> self = List.of(ProcessHandle.current().pid());
        assertThat(cpu.sample(self)).isNaN(); // the first call
        Thread.sleep(600);
        assertThat(cpu.sample(List.of())).isNaN(); // none watched
        Thread.sleep(600);
        assertThat(cpu.sample(self)).isNaN(); // read at the end of the window only
        Thread.sleep(600);
        assertThat(cpu.sample(self)).isNotNaN().isGreaterThanOrEqualTo(0);
    }

    @Test
    void a_process_counts_the_cpu_of_children_that_ended() throws Exception {
        // The shell only waits: the work is its child's, which ends and is waited for (in its cutime).
        Process parent = sh("sleep 0.3; sh -c '" + BUSY + "'; echo ended; sleep 60");
        try (ProcStats stats = ProcStats.start(parent.pid())) {
            assertThat(stats).isNotNull();
            assertThat(parent.inputReader().readLine()).isEqualTo("ended");
            ProcStats.Usage u = stats.usage();
            assertThat(u.pids()).containsExactly(parent.pid());
            assertThat(u.each()).isEmpty();
            assertThat(u.cpuSeconds()).isGreaterThan(0.1); // BUSY; the shell alone uses next to nothing
            assertThat(u.rssKb()).isPositive();
        }
    }

    @Test
    void a_process_counts_the_cpu_of_children_still_running() throws Exception {
        // Like a PostgreSQL's backends: the child that did the work is alive when the usage is read.
        Process parent = sh("sleep 0.3; sh -c '" + BUSY + "; echo worked; sleep 60'; true");
        try (ProcStats stats = ProcStats.start(parent.pid())) {
            assertThat(parent.inputReader().readLine()).isEqualTo("worked");
            assertThat(parent.descendants()).isNotEmpty();
            assertThat(stats.usage().cpuSeconds()).isGreaterThan(0.1);
        }
    }

    @Test
    void several_processes_are_reported_as_their_sum_and_each_ones_own() throws Exception {
        Process a = sh(BUSY + "; echo done; sleep 60");
        Process b = sh("echo done; sleep 60");
        try (ProcStats stats = ProcStats.start(List.of(a.pid(), b.pid()))) {
            assertThat(a.inputReader().readLine()).isEqualTo("done");
            assertThat(b.inputReader().readLine()).isEqualTo("done");
            ProcStats.Usage u = stats.usage();
            assertThat(u.pids()).containsExactly(a.pid(), b.pid());
            assertThat(u.each()).extracting(e -> e.pids().get(0)).containsExactly(a.pid(), b.pid());
            assertThat(u.cpuSeconds()).isEqualTo(u.each().get(0).cpuSeconds() + u.each().get(1).cpuSeconds());
            assertThat(u.each().get(0).cpuSeconds()).isGreaterThan(u.each().get(1).cpuSeconds());
            assertThat(u.rssKb()).isEqualTo(u.each().get(0).rssKb() + u.each().get(1).rssKb());
            assertThat(u.peakRssKb()).isGreaterThanOrEqualTo(u.rssKb());

            Map<String, Object> report = Report.usage(u);
            assertThat(report).containsEntry("pids", List.of(a.pid(), b.pid())).doesNotContainKey("pid");
            assertThat((List<?>) report.get("each")).hasSize(2);
            assertThat(Report.usage(u.each().get(0))).containsEntry("pid", a.pid()).doesNotContainKey("each");
        }
    }

    @Test
    void a_process_that_is_not_there_is_not_measured() throws Exception {
        Process gone = sh("exit 0");
        assertThat(gone.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ProcStats.start(gone.pid())).isNull();
        assertThat(ProcStats.start(List.of())).isNull();
    }

    @Test
    void a_restart_counts_from_then_on() throws Exception {
        // The phase runner starts measuring with the warm-up and restarts when the window opens.
        Process p = sh(BUSY + "; echo worked; sleep 60");
        try (ProcStats stats = ProcStats.start(p.pid())) {
            assertThat(p.inputReader().readLine()).isEqualTo("worked");
            assertThat(stats.usage().cpuSeconds()).isGreaterThan(0.1);
            assertThat(stats.usageForProgress().cpuSeconds()).isGreaterThan(0.1);
            stats.restart();
            ProcStats.Usage u = stats.usage();
            assertThat(u.cpuSeconds()).isLessThan(0.05); // only sleeping since
            assertThat(u.wallSeconds()).isLessThan(1);
            assertThat(u.rssKb()).isPositive();
            assertThat(u.startRssKb()).isEqualTo(ProcStats.rssKb(p.pid()));
        }
    }
}
