package dev.parley.hardening;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.client.Backoff;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 22, item 4, against the real jar: a reconnect storm. 300 clients in 5 rooms, one of each room
 * sending all along; the node is SIGKILLed and started again on its data dir. Every client follows the
 * reconnect rule of PROTOCOL.md 10 (the one {@code parley client} ships, {@link Backoff}) and resumes with
 * {@code join} + {@code since}; the node's rate of upgrades is set low (50 a second, so that 300 clients
 * arriving within a second pass it) and it refuses the surplus with 503 and Retry-After, which the
 * clients honour and come back. Every client comes back; each receives every message of its room once, in order, with
 * no gap across the restart; every acknowledged message is stored once; and no connection is closed
 * for reading too slowly (4002) or for its rate (4029) on the way.
 */
class ReconnectStormIT {
    private static final int CLIENTS = 300;
    private static final int ROOMS = 5;
    private static final Duration SEND_EVERY = Duration.ofMillis(200);

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    @Test
    void three_hundred_clients_of_a_killed_node_all_resume_paced_by_503_retry_after_and_nothing_acked_is_lost_doubled_or_reordered() throws Exception {
        long began = System.nanoTime();
        JarProcess node = processes.node("storm", Map.of("CHAT_JOURNAL_SYNC", "none" /* a SIGKILL, not a power cut */,
                "CHAT_UPGRADE_RATE", "50"));
        Http http = new Http(node.baseUrl());
        URI ws = URI.create("ws://127.0.0.1:" + node.port() + "/ws");
        List<StormClient> clients = new ArrayList<>();
        try (ExecutorService registering = Executors.newFixedThreadPool(8)) {
            List<Future<String>> tokens = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int n = i;
                tokens.add(registering.submit(() -> http.register("storm" + n)));
            }
            for (int i = 0; i < CLIENTS; i++) clients.add(new StormClient(ws, tokens.get(i).get(), "storm-" + (i % ROOMS), i < ROOMS));
        }
        phase("node up, users registered", began);
        ExecutorService running = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (StormClient c : clients) running.submit(c::run);
            Await.until("every client joined", Duration.ofSeconds(30), () -> clients.stream().allMatch(c -> c.joinedNow));
            phase("every client joined", began);
            for (StormClient c : clients) c.sending = true;
            Await.until("traffic in every room", Duration.ofSeconds(10), () -> clients.stream().allMatch(c -> c.lastSeq() >= 3));
            // 300 clients at once against 50 upgrades a second: the surplus was refused, and came back on its turn.
            double refusedAtFirst = refusedForRate(new Http(node.adminBaseUrl()));
            assertThat(refusedAtFirst).isPositive();

            assertThat(node.kill()).as("killed by SIGKILL").isEqualTo(137);
            long killed = System.nanoTime();
            JarProcess again = processes.restart(node, "storm-again");
            long ready = System.nanoTime();
            phase("node ready again", began);
            // A deadline, not a measure: the longer the node was away, the longer a client's next wait (up to
            // 30 s by the rule), then the turns of the refused (300 at 50 a second: 6 s).
            Await.until("every client resumed with since", Duration.ofSeconds(45), () -> clients.stream().allMatch(c -> c.resumedAfter(killed)));
            long resumed = System.nanoTime();
            Thread.sleep(1_000); // traffic after the storm too
            for (StormClient c : clients) c.sending = false;
            Await.until("every send acknowledged", Duration.ofSeconds(15), () -> clients.stream().allMatch(StormClient::allAcked));

            Map<String, List<JsonNode>> history = new HashMap<>();
            for (int r = 0; r < ROOMS; r++) history.put("storm-" + r, history(http, clients.get(r).token, "storm-" + r));
            Await.until("every client has its room up to its last message", Duration.ofSeconds(15), () -> clients.stream()
                    .allMatch(c -> c.lastSeq() == last(history.get(c.room))));
            for (StormClient c : clients) c.stop = true;

            // Every acknowledged message is stored once, where its ack said; a room's seqs have no gap.
            for (int r = 0; r < ROOMS; r++) {
                String room = "storm-" + r;
                List<JsonNode> stored = history.get(room);
                assertThat(stored).extracting(m -> m.get("seq").asLong()).as(room).containsExactlyElementsOf(LongStream.rangeClosed(1, last(stored)).boxed().toList());
                Map<String, Long> seqOf = new HashMap<>();
                for (JsonNode m : stored) {
                    if (m.hasNonNull("clientId")) assertThat(seqOf.put(m.get("clientId").asText(), m.get("seq").asLong())).as("stored twice in %s", room).isNull();
                }
                StormClient sender = clients.get(r);
                List<Long> sentOrder = new ArrayList<>();
                for (Map.Entry<String, Long> ack : sender.acks().entrySet()) {
                    assertThat(seqOf.get(ack.getKey())).as("acked %s in %s", ack.getKey(), room).isEqualTo(ack.getValue());
                }
                for (String clientId : sender.sentOrder()) sentOrder.add(seqOf.get(clientId));
                assertThat(sentOrder).as("%s's messages stored in the order sent", room).doesNotContainNull().isSorted();
                assertThat(sentOrder).hasSizeGreaterThan(5);
            }
            // Each client received every message of its room after its first join once, in order, across the restart.
            for (StormClient c : clients) {
                assertThat(c.received()).as("seqs %s received in %s", c.token.substring(c.token.length() - 8), c.room)
                        .containsExactlyElementsOf(LongStream.rangeClosed(c.firstLastSeq + 1, last(history.get(c.room))).boxed().toList());
            }
            // The storm passed the rate of upgrades: refusals, each a 503 with Retry-After, counted by the node.
            List<String> refusals = clients.stream().flatMap(c -> c.refusals.stream()).toList();
            assertThat(refusals).isNotEmpty().allMatch(r -> r.startsWith("503 ") && !r.equals("503 0"));
            // After the restart the clients come back spread by their back-off: over more seconds the longer
            // the node was away (up to 30 s). Whether the rate refuses some of them again depends on that.
            double refusedAfterRestart = refusedForRate(new Http(again.adminBaseUrl()));
            // No cascade: nobody was closed as too slow or for its rate.
            List<Integer> closes = clients.stream().flatMap(c -> c.closeCodes.stream()).toList();
            assertThat(closes).doesNotContain(4002, 4029);
            System.out.printf("[ReconnectStormIT] %d clients; node ready %.1f s after the kill, all resumed %.1f s after that; %d upgrades refused "
                            + "with 503 (%.0f by the first node, %.0f after the restart); %d messages stored; %.1f s in all%n", CLIENTS,
                    (ready - killed) / 1e9, (resumed - ready) / 1e9, refusals.size(), refusedAtFirst, refusedAfterRestart,
                    history.values().stream().mapToInt(List::size).sum(), (System.nanoTime() - began) / 1e9);
        } finally {
            for (StormClient c : clients) c.stop = true;
            running.shutdownNow();
        }
    }

    private static void phase(String what, long began) {
        System.out.printf("[ReconnectStormIT] %5.1f s: %s%n", (System.nanoTime() - began) / 1e9, what);
    }

    private static long last(List<JsonNode> messages) {
        return messages.isEmpty() ? 0 : messages.get(messages.size() - 1).get("seq").asLong();
    }

    /** A room's whole history, oldest first, a page at a time from the newest. */
    private static List<JsonNode> history(Http http, String token, String room) {
        List<JsonNode> all = new ArrayList<>();
        String query = "?limit=100";
        while (true) {
            Http.Response page = http.get("/api/rooms/" + room + "/messages" + query, token);
            assertThat(page.status()).as(page.body()).isEqualTo(200);
            long lowest = Long.MAX_VALUE;
            for (JsonNode m : page.json().get("messages")) {
                all.add(m);
                lowest = Math.min(lowest, m.get("seq").asLong());
            }
            if (lowest <= 1 || lowest == Long.MAX_VALUE) break;
            query = "?before=" + lowest + "&limit=100";
        }
        all.sort((a, b) -> Long.compare(a.get("seq").asLong(), b.get("seq").asLong()));
        return all;
    }

    private static double refusedForRate(Http admin) {
        String text = admin.get("/metrics", null).body();
        Matcher m = Pattern.compile("(?m)^parley_connections_refused_total\\{[^}]*reason=\"rate\"[^}]*\\} (\\S+)$").matcher(text);
        double sum = 0;
        while (m.find()) sum += Double.parseDouble(m.group(1));
        return sum;
    }

    /**
     * One client, on a virtual thread of its own: connects, joins its room (with {@code since} after the
     * first time), re-sends what was not acknowledged in order, sends if it is its room's sender, and when
     * the connection ends waits as {@link Backoff} says (a refusal's Retry-After included) and goes again.
     */
    private static final class StormClient {
        final URI ws;
        final String token;
        final String room;
        final boolean sender;
        final List<String> refusals = new CopyOnWriteArrayList<>(); // "status retryAfter"
        final List<Integer> closeCodes = new CopyOnWriteArrayList<>();
        private final List<WsClient> connections = new CopyOnWriteArrayList<>();
        private final List<Long> resumes = new CopyOnWriteArrayList<>(); // nanoTime of each join with since
        private final LinkedHashMap<String, String> sent = new LinkedHashMap<>(); // guarded by this
        private final Backoff backoff = new Backoff(ThreadLocalRandom.current());
        volatile long firstLastSeq = -1;
        volatile boolean joinedNow;
        volatile boolean sending;
        volatile boolean stop;

        StormClient(URI ws, String token, String room, boolean sender) {
            this.ws = ws;
            this.token = token;
            this.room = room;
            this.sender = sender;
        }

        void run() {
            try {
                for (int attempt = 0; !stop; attempt++) {
                    WsClient c;
                    try {
                        c = WsClient.connect(URI.create(ws + "?token=" + token), Map.of());
                    } catch (WsClient.Refused r) {
                        refusals.add(r.status + " " + r.retryAfter);
                        Thread.sleep(backoff.nextMillis(-1, r.retryAfter));
                        continue;
                    } catch (AssertionError | RuntimeException down) { // the node is not there (yet)
                        Thread.sleep(backoff.nextMillis(-1, 0));
                        continue;
                    }
                    long opened = System.nanoTime();
                    if (!joined(c, "join-" + attempt)) {
                        c.abort();
                        closeCodes.add(c.closeCode() == null ? -1 : c.closeCode());
                        Thread.sleep(backoff.nextMillis(c.closeCode() == null ? -1 : c.closeCode(), 0));
                        continue;
                    }
                    long nextSend = System.nanoTime();
                    while (!stop && c.isOpen()) {
                        if (sender && sending && System.nanoTime() >= nextSend) {
                            send(c, UUID.randomUUID().toString(), "m" + System.nanoTime());
                            nextSend += SEND_EVERY.toNanos();
                        }
                        Thread.sleep(sender ? 20 : 100);
                    }
                    joinedNow = false;
                    if (stop) {
                        c.close();
                        return;
                    }
                    int code = c.closeCode() == null ? -1 : c.closeCode();
                    closeCodes.add(code);
                    backoff.wasUp((System.nanoTime() - opened) / 1_000_000);
                    Thread.sleep(backoff.nextMillis(code, 0));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private boolean joined(WsClient c, String ref) {
            Long since = firstLastSeq < 0 ? null : lastSeq();
            try {
                if (since == null) c.send("type", "join", "room", room, "ref", ref);
                else c.send("type", "join", "room", room, "since", since, "ref", ref);
                JsonNode joined = c.await("joined", ref);
                if (since == null) firstLastSeq = joined.get("lastSeq").asLong();
            } catch (AssertionError | RuntimeException e) {
                return false;
            }
            connections.add(c);
            if (since != null) resumes.add(System.nanoTime());
            joinedNow = true;
            Map<String, String> unacked = new LinkedHashMap<>();
            synchronized (this) {
                Map<String, Long> acked = acks();
                sent.forEach((id, text) -> {
                    if (!acked.containsKey(id)) unacked.put(id, text);
                });
            }
            unacked.forEach((id, text) -> send(c, id, text)); // in the order first sent, under the same clientIds
            return true;
        }

        private void send(WsClient c, String clientId, String text) {
            synchronized (this) {
                sent.putIfAbsent(clientId, text);
            }
            try {
                c.send("type", "send", "room", room, "text", text, "clientId", clientId);
            } catch (RuntimeException lost) {
                // the connection is going: sent again on the next one
            }
        }

        /** clientId -> seq of every ack received, over all connections. */
        Map<String, Long> acks() {
            Map<String, Long> out = new HashMap<>();
            for (WsClient c : connections) for (JsonNode a : c.frames("ack")) out.put(a.get("clientId").asText(), a.get("seq").asLong());
            return out;
        }

        synchronized List<String> sentOrder() {
            return List.copyOf(sent.keySet());
        }

        synchronized boolean allAcked() {
            return acks().keySet().containsAll(sent.keySet());
        }

        /** The seqs of every message received, over all connections, in arrival order. */
        List<Long> received() {
            List<Long> out = new ArrayList<>();
            for (WsClient c : connections) for (JsonNode m : c.messages(room)) out.add(m.get("seq").asLong());
            return out;
        }

        long lastSeq() {
            List<Long> r = received();
            return r.isEmpty() ? firstLastSeq : Math.max(firstLastSeq, r.get(r.size() - 1));
        }

        boolean resumedAfter(long nanoTime) {
            return joinedNow && resumes.stream().anyMatch(t -> t > nanoTime);
        }
    }
}
