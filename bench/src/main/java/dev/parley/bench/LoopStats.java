package dev.parley.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

import java.util.Map;
import java.util.TreeMap;

/**
 * The counters and latency recorders of one client event loop. Only that loop writes them (plain
 * fields, no atomics on the receive path); the progress thread reads the counters racily, which is
 * fine for a progress line, and the final numbers are read after a task on the loop has run.
 * Latencies are in microseconds.
 */
final class LoopStats {
    static final long HIGHEST_MICROS = 3_600_000_000L;

    long messages;          // message frames received (duplicates included)
    long measuredMessages;  // ... of messages sent inside the measured window
    long duplicates;
    long outOfOrder;
    long gaps;              // times a seq skipped ahead (a loss, unless it arrives later)
    long sent;
    long acked;
    long readsSent;         // read frames sent (--read-every)
    long otherFrames;       // presence, typing, pong, joined...
    long unknownFrames;
    long disconnects;
    final Map<String, Long> errors = new TreeMap<>();
    /** bench storm: how sockets ended ("closed 1001", "refused 503", "dropped", "connect failed"...), and rejoins "not recovered". */
    final Map<String, Long> reconnects = new TreeMap<>();
    /** Where the loop's connections copy a text frame to scan it: one array per loop, reused. */
    private byte[] scratch = new byte[64 * 1024];

    byte[] scratch(int size) {
        if (size > scratch.length) scratch = new byte[Math.max(size, scratch.length * 2)];
        return scratch;
    }

    /** End-to-end latency, from the intended send time to receipt, of messages sent in the measured window. */
    final Recorder latency = new Recorder();
    /** The same during warm-up and drain: shown live, never in the summary. */
    final Recorder latencyOutside = new Recorder();
    final Recorder ackLatency = new Recorder();
    /** How late the bench itself wrote each send after its intended time: its own scheduling error. */
    final Recorder sendLag = new Recorder();

    static Histogram histogram() {
        return new Histogram(1, HIGHEST_MICROS, 3);
    }

    /**
     * Latencies in microseconds, written by the loop and read an interval at a time by the progress
     * thread. The interval histograms are recycled: a new one each second per recorder was 180 KB to
     * allocate and zero on the bench's core, in the middle of the sends it times.
     */
    static final class Recorder {
        private final SingleWriterRecorder recorder = new SingleWriterRecorder(1, HIGHEST_MICROS, 3);
        private Histogram spare; // the interval handed out last; reused by the next call

        void record(long nanos) {
            long micros = nanos / 1000;
            recorder.recordValue(micros < 1 ? 1 : Math.min(micros, HIGHEST_MICROS));
        }

        /** What was recorded since the last call; valid until the next call, which reuses it. One reading thread. */
        Histogram interval() {
            spare = recorder.getIntervalHistogram(spare);
            return spare;
        }
    }

    void error(String code) {
        errors.merge(code, 1L, Long::sum);
    }

    void reconnect(String what) {
        reconnects.merge(what, 1L, Long::sum);
    }

    /** Counters at one instant; taken on the loop for exact totals. */
    Counters counters() {
        return new Counters(messages, measuredMessages, duplicates, outOfOrder, gaps, sent, acked, otherFrames, unknownFrames,
                disconnects, new TreeMap<>(errors));
    }

    record Counters(long messages, long measuredMessages, long duplicates, long outOfOrder, long gaps, long sent, long acked,
                    long otherFrames, long unknownFrames, long disconnects, Map<String, Long> errors) {
        static final Counters ZERO = new Counters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of());

        Counters plus(Counters o) {
            Map<String, Long> e = new TreeMap<>(errors);
            o.errors.forEach((k, v) -> e.merge(k, v, Long::sum));
            return new Counters(messages + o.messages, measuredMessages + o.measuredMessages, duplicates + o.duplicates,
                    outOfOrder + o.outOfOrder, gaps + o.gaps, sent + o.sent, acked + o.acked, otherFrames + o.otherFrames,
                    unknownFrames + o.unknownFrames, disconnects + o.disconnects, e);
        }

        Counters minus(Counters o) {
            Map<String, Long> e = new TreeMap<>(errors);
            o.errors.forEach((k, v) -> e.merge(k, -v, Long::sum));
            e.values().removeIf(v -> v == 0);
            return new Counters(messages - o.messages, measuredMessages - o.measuredMessages, duplicates - o.duplicates,
                    outOfOrder - o.outOfOrder, gaps - o.gaps, sent - o.sent, acked - o.acked, otherFrames - o.otherFrames,
                    unknownFrames - o.unknownFrames, disconnects - o.disconnects, e);
        }

        long errorCount() {
            return errors.values().stream().mapToLong(Long::longValue).sum();
        }
    }
}
