package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.WsClient;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the attack tests against the jar share ({@link NonReadingClientsIT}, {@link ConnectionFloodIT}):
 * a well-behaved client's chat with its latencies, the node's /metrics, and the bounds they state.
 */
final class JarAttacks {
    static final Duration WAIT = Duration.ofSeconds(60);
    /** The jar runs with {@code -Xmx256m} ({@link JarProcesses}): the heap used stays under this, whatever the attack. */
    static final long HEAP_BOUND = 200L << 20;
    /** What a client that reads nothing may hold of the node's memory: its outbox and its socket's buffer. */
    static final long HELD_BOUND = 2L << 20;
    /** An attacker's receive buffer: a slow link's, so that the server's side of its socket fills in kilobytes. */
    static final int SMALL_BUFFER = 16 * 1024;

    private JarAttacks() {}

    static WsClient ws(JarProcess node, String token) {
        return WsClient.connect(URI.create("ws://127.0.0.1:" + node.port() + "/ws?token=" + token), Map.of());
    }

    /*
     * NO_SYNC: the attack tests run their node with CHAT_JOURNAL_SYNC=none. What they compare is the
     * chat's latency with and without an attacker on the same cores; a disk sync per commit adds the
     * tail of whatever else writes to the shared disk (a CI run with helpers building beside it saw
     * a quiet p99 of 59 ms), which says nothing of the attack. SyncedAcksTest covers the sync.
     */

    /**
     * p99 under attack within twice the quiet p99, or within 500 ms of it. The wide floor is because
     * the attacker runs on the same two cores as the server and the test, with whatever else the
     * machine runs (a CI run with other builds beside it measured 164 ms against a quiet 42 ms, where
     * a 50 ms floor failed), and a p99 of a few dozen sends is nearly their maximum: this says the
     * well-behaved client stays served in human time, not how fast; bench measures that.
     */
    static void assertLatencyWithinTwiceQuiet(List<Long> quiet, List<Long> attacked) {
        long q = p99(quiet);
        long a = p99(attacked);
        assertThat(a).as("p99 ack latency under attack (µs) against quiet %d µs", q).isLessThanOrEqualTo(Math.max(2 * q, q + 500_000));
    }

    static long p99(List<Long> micros) {
        List<Long> sorted = new ArrayList<>(micros);
        sorted.sort(null);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1));
    }

    static void report(String attack, List<Long> quiet, List<Long> attacked, Sampler sampler) {
        System.out.printf("[NonReadingClientsIT] %s: quiet p99 %d µs (%d sends), then p99 %d µs (%d sends); most heap used %d MiB,"
                        + " most held for outboxes and sockets %d KiB%n",
                attack, p99(quiet), quiet.size(), p99(attacked), attacked.size(), sampler.mostHeap.get() >> 20, sampler.mostHeld.get() >> 10);
    }

    /** A well-behaved client's chat: one send at a time, each waiting for its ack, with the ack's latency kept. */
    static final class Chat {
        private final WsClient client;
        private final String room;
        private final Map<String, Long> acked = new HashMap<>(); // clientId -> seq
        private int n;

        Chat(WsClient client, String room) {
            this.client = client;
            this.room = room;
        }

        long lastSeq() {
            return acked.values().stream().mapToLong(Long::longValue).max().orElse(0);
        }

        long sendOne(String text) {
            String id = "m" + (++n);
            long start = System.nanoTime();
            client.send("type", "send", "room", room, "text", text, "clientId", id, "ref", id);
            JsonNode ack = client.await(Ws.is("ack", id), Ws.T, "ack " + id);
            acked.put(id, ack.get("seq").asLong());
            return (System.nanoTime() - start) / 1000;
        }

        /** Sends up to {@code max} messages, until {@code enough} says so; the latencies in µs. */
        List<Long> send(int max, java.util.function.BooleanSupplier enough) {
            List<Long> latencies = new ArrayList<>();
            for (int i = 0; i < max && !enough.getAsBoolean(); i++) latencies.add(sendOne("hello " + n));
            return latencies;
        }

        /** Every acknowledged message is in the history with its seq, and the reader got each once, in order. */
        void assertNothingLost(Http http, WsClient reader) {
            long last = acked.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            reader.await(f -> "message".equals(f.path("type").asText()) && f.path("seq").asLong() == last, WAIT, "the last message");
            List<Long> seqs = Ws.seqs(reader.messages(room));
            assertThat(seqs).as("each seq once, in order").isSorted().doesNotHaveDuplicates();
            assertThat(seqs).containsAll(acked.values());
            Map<String, Long> stored = new HashMap<>();
            String token = http.login("alice");
            String query = "?limit=100";
            while (true) {
                JsonNode page = http.get("/api/rooms/" + room + "/messages" + query, token).json();
                for (JsonNode m : page.get("messages")) stored.put(m.get("clientId").asText(), m.get("seq").asLong());
                if (!page.get("hasMore").asBoolean()) break;
                query = "?limit=100&before=" + page.get("messages").get(0).get("seq").asLong();
            }
            assertThat(stored).containsAllEntriesOf(acked);
        }
    }

    /** Reads the node's /metrics every 250 ms on a thread of its own, and keeps the most heap and bytes held it saw. */
    static final class Sampler implements AutoCloseable {
        final Metrics metrics;
        final AtomicLong mostHeap = new AtomicLong();
        final AtomicLong mostHeld = new AtomicLong();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;
        private volatile RuntimeException lastFailure;

        Sampler(Http http) {
            metrics = new Metrics(http);
            sample();
            thread = Thread.ofPlatform().name("sampler").start(() -> {
                while (!stop.get()) {
                    try {
                        Thread.sleep(250); // the sampling period, not a synchronisation
                        metrics.refresh();
                        sample();
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        lastFailure = e; // a scrape that failed: the next one will do
                    }
                }
            });
        }

        private void sample() {
            mostHeap.accumulateAndGet(metrics.heapUsed(), Math::max);
            mostHeld.accumulateAndGet(metrics.held(), Math::max);
        }

        double value(String name, String label) {
            return metrics.value(name, label);
        }

        /** The samples of {@code name} by their labels, and the last scrape that failed if any: for a failure's message. */
        String byLabel(String name) {
            Map<String, Double> samples = new java.util.TreeMap<>();
            metrics.samples(name, (labels, value) -> samples.merge(String.valueOf(labels), value, Double::sum));
            return samples + (lastFailure == null ? "" : " (the last scrape that failed: " + lastFailure + ")");
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(WAIT.toMillis());
        }
    }

    /** The node's /metrics, read again on {@link #refresh}. */
    static final class Metrics {
        private final Http http;
        private volatile String text = "";

        Metrics(Http http) {
            this.http = http;
            refresh();
        }

        void refresh() {
            Http.Response r = http.get("/metrics", null);
            if (r.status() != 200) throw new IllegalStateException("/metrics answered " + r.status());
            text = r.body();
        }

        /** The sum of the samples of {@code name} whose labels contain {@code label} (all if null). */
        double value(String name, String label) {
            double[] sum = {0};
            samples(name, (labels, value) -> {
                if (label == null || (labels != null && labels.contains(label))) sum[0] += value;
            });
            return sum[0];
        }

        /** Each sample of {@code name}: its labels ({@code {...}}, or null for none) and its value. */
        void samples(String name, java.util.function.ObjDoubleConsumer<String> each) {
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$").matcher(text);
            while (m.find()) each.accept(m.group(1), Double.parseDouble(m.group(2)));
        }

        long heapUsed() {
            return (long) value("jvm_memory_used_bytes", "area=\"heap\"");
        }

        long held() {
            return (long) (value("parley_outbox_bytes", null) + value("parley_socket_pending_bytes", null));
        }
    }
}
