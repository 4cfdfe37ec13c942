package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 20, item 6, against the real jar: an attacker's clients join thousands of new room names,
 * hoard rooms over several connections, flood history, typing, ping and join frames, pipeline
 * reads past the cap in flight and hang up on them, and post rooms, for a bounded time, while a
 * well-behaved pair keeps chatting. The attacker gets the documented refusals and closes; the pair
 * is served throughout, every acknowledged message is delivered once and in order and is in the
 * history; the attacker made no more rooms than its quota; the server stays up and logs no error.
 */
@Tag("serial") // measures latency beside an attacker: runs alone (server/pom.xml, failsafe)
class FrameFloodIT {
    private static final Duration ATTACK = Duration.ofSeconds(12);
    private static final Duration T = Duration.ofSeconds(30);
    private static final int ROOMS_PER_CONNECTION = 20, ROOMS_PER_USER = 40, QUOTA = 30;

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    private final Map<String, AtomicInteger> codes = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicInteger> closes = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();

    @Test
    void an_attacker_gets_refusals_and_closes_while_a_pair_keeps_chatting_and_loses_nothing() throws Exception {
        JarProcess node = processes.node("flood", Map.of("CHAT_JOURNAL_SYNC", "none" /* JarAttacks.NO_SYNC */, 
                "CHAT_MAX_ROOMS_PER_CONNECTION", String.valueOf(ROOMS_PER_CONNECTION),
                "CHAT_MAX_ROOMS_PER_USER", String.valueOf(ROOMS_PER_USER),
                "CHAT_ROOMS_PER_HOUR", String.valueOf(QUOTA)));
        Http http = new Http(node.baseUrl());
        String alice = http.register("alice"), bob = http.register("bob"), mallory = http.register("mallory");
        // Rooms that exist, for the attacker to hoard: made by three builders within their quotas.
        List<String> pool = new ArrayList<>();
        for (int b = 0; b < 3; b++) {
            String builder = http.register("builder" + b);
            for (int i = 0; i < 20; i++) {
                String name = "pool-" + b + "-" + i;
                assertThat(http.request("POST", "/api/rooms", builder, "{\"name\":\"" + name + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
                pool.add(name);
            }
        }
        String room = "lobby";
        WsClient a = connectCalm(node, alice), b = connectCalm(node, bob);
        Ws.join(a, room);
        Ws.join(b, room);

        List<Long> quiet = chat(a, room, "quiet", Duration.ofSeconds(4));

        Duration serverCpu0 = cpu(node.pid()), testCpu0 = cpu(ProcessHandle.current().pid());
        ExecutorService attackers = Executors.newFixedThreadPool(5);
        long end = System.nanoTime() + ATTACK.toNanos();
        attackers.submit(() -> squat(node, mallory, end));
        attackers.submit(() -> hoard(node, mallory, pool, end));
        attackers.submit(() -> flood(node, mallory, room, end));
        attackers.submit(() -> pipeline(node, mallory, room, end));
        attackers.submit(() -> post(http, mallory, end));
        List<Long> attacked = chat(a, room, "busy", ATTACK);
        attackers.shutdown();
        assertThat(attackers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        System.out.printf("[FrameFloodIT] CPU during the attack (%d s, 2 cores shared): server %d ms, the test JVM (attacker and pair) %d ms%n",
                ATTACK.toSeconds(), cpu(node.pid()).minus(serverCpu0).toMillis(), cpu(ProcessHandle.current().pid()).minus(testCpu0).toMillis());

        System.out.printf("[FrameFloodIT] quiet: %d sends, p50 %.1f ms, p99 %.1f ms; under attack: %d sends, p50 %.1f ms, p99 %.1f ms;"
                        + " attacker connections %d, refusals %s, closes %s%n",
                quiet.size(), ms(pct(quiet, 50)), ms(pct(quiet, 99)), attacked.size(), ms(pct(attacked, 50)), ms(pct(attacked, 99)),
                connections.get(), codes, closes);

        // The attacker met every documented refusal, and was closed for flooding.
        assertThat(codes.keySet()).contains("rate_limited", "too_many_rooms", "quota_exceeded");
        assertThat(closes.keySet()).contains(4029);
        // The pair was served throughout: every send acknowledged (chat() fails otherwise), quickly.
        assertThat(pct(attacked, 99)).as("p99 of an ack under attack, ns").isLessThan(Duration.ofSeconds(1).toNanos());
        // Nothing acknowledged is lost, doubled or out of order, live or in the history.
        int sent = quiet.size() + attacked.size();
        List<JsonNode> got = b.awaitMessages(room, sent, T);
        List<String> ids = got.stream().map(m -> m.get("clientId").asText()).toList();
        assertThat(ids).hasSize(sent).doesNotHaveDuplicates();
        assertThat(Ws.seqs(got)).isSorted();
        List<String> stored = new ArrayList<>();
        for (JsonNode page = http.get("/api/rooms/" + room + "/messages?limit=100", alice).json(); ; ) {
            List<String> chunk = new ArrayList<>();
            page.get("messages").forEach(m -> chunk.add(m.get("clientId").asText()));
            stored.addAll(0, chunk);
            if (!page.get("hasMore").asBoolean()) break;
            long before = page.get("messages").get(0).get("seq").asLong();
            page = http.get("/api/rooms/" + room + "/messages?limit=100&before=" + before, alice).json();
        }
        assertThat(stored).containsExactlyElementsOf(ids);
        // The rows the attacker left behind: no more rooms than its quota, whatever it tried.
        int made = http.get("/api/rooms?prefix=sq-&limit=500", mallory).json().size()
                + http.get("/api/rooms?prefix=posted-&limit=500", mallory).json().size();
        assertThat(made).isBetween(1, QUOTA);
        Http.Response metrics = http.get("/metrics", null);
        if (metrics.status() == 200) {
            double heap = metrics.body().lines().filter(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\""))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
            System.out.printf("[FrameFloodIT] heap in use after the attack: %.0f MiB (the jar runs with -Xmx256m)%n", heap / (1 << 20));
        }
        // Up, and nothing unexpected in its log.
        assertThat(http.get("/health/ready", null).status()).isEqualTo(200);
        Ws.alive(a);
        assertThat(node.output()).doesNotContain(" ERROR ");
        a.close();
        b.close();
    }

    /** Sends one message every 100 ms for {@code d}, each waited for; returns the ack latencies, in ns. */
    private static List<Long> chat(WsClient c, String room, String tag, Duration d) {
        List<Long> latencies = new ArrayList<>();
        long start = System.nanoTime(), end = start + d.toNanos();
        for (int i = 1; System.nanoTime() < end; i++) {
            LockSupport.parkNanos(start + i * 100_000_000L - System.nanoTime()); // a steady 10 a second
            String id = tag + "-" + i;
            long t0 = System.nanoTime();
            c.send("type", "send", "room", room, "text", "hello " + i, "clientId", id, "ref", id);
            JsonNode answer = c.await(f -> id.equals(f.path("ref").asText()), T, "the answer to " + id);
            assertThat(answer.get("type").asText()).as(answer.toString()).isEqualTo("ack");
            latencies.add(System.nanoTime() - t0);
        }
        return latencies;
    }

    /** Joins new names as fast as it can, thousands of them, leaving to stay under the cap. */
    private void squat(JarProcess node, String token, long end) {
        int n = 0;
        while (System.nanoTime() < end) {
            WsClient c = connect(node, token);
            try {
                while (System.nanoTime() < end && c.isOpen()) {
                    String name = "sq-" + (n++);
                    c.send("type", "join", "room", name, "ref", "j" + n);
                    c.send("type", "leave", "room", name, "ref", "l" + n);
                }
            } catch (RuntimeException closed) {
                // closed by the server while sending
            }
            done(c, true);
        }
    }

    /** Three connections at a time joining every room of the pool: past the caps per connection and per user. */
    private void hoard(JarProcess node, String token, List<String> pool, long end) {
        while (System.nanoTime() < end) {
            List<WsClient> cs = List.of(connect(node, token), connect(node, token), connect(node, token));
            try {
                for (WsClient c : cs) for (String r : pool) c.send("type", "join", "room", r, "ref", "h-" + r);
                for (WsClient c : cs) c.await(f -> "too_many_rooms".equals(f.path("code").asText()) || !c.isOpen(), T, "a refusal");
            } catch (RuntimeException | AssertionError closed) {
                // closed meanwhile
            }
            for (WsClient c : cs) done(c, false);
        }
    }

    /** Every kind of cheap frame, as fast as the socket takes them, again after each close. */
    private void flood(JarProcess node, String token, String room, long end) {
        while (System.nanoTime() < end) {
            WsClient c = connect(node, token);
            try {
                c.send("type", "join", "room", room, "ref", "fj");
                for (int i = 0; System.nanoTime() < end && c.isOpen(); i++) {
                    switch (i % 5) {
                        case 0 -> c.send("type", "history", "room", room, "ref", "fh" + i);
                        case 1 -> c.send("type", "typing", "room", room);
                        case 2 -> c.send("type", "ping", "ref", "fp" + i);
                        case 3 -> c.send("type", "join", "room", room, "ref", "fj" + i);
                        default -> c.send("type", "refresh", "token", token, "ref", "fr" + i);
                    }
                }
            } catch (RuntimeException closed) {
                // closed by the server while sending
            }
            done(c, true);
        }
    }

    /** Two hundred history reads in one write, past the cap in flight, then hangs up on them. */
    private void pipeline(JarProcess node, String token, String room, long end) {
        List<String> frames = new ArrayList<>();
        for (int i = 0; i < 200; i++) frames.add("{\"type\":\"history\",\"room\":\"" + room + "\",\"ref\":\"p" + i + "\"}");
        while (System.nanoTime() < end) {
            try (RawWebSocket raw = RawWebSocket.open(node.port(), token)) {
                connections.incrementAndGet();
                raw.sendTextsAtOnce(frames);
                RawWebSocket.Frame f = raw.readText(T);
                if (f != null && f.opcode() == RawWebSocket.TEXT) {
                    JsonNode first = Http.JSON.readTree(f.text());
                    if (first.has("code")) codes.computeIfAbsent(first.get("code").asText(), k -> new AtomicInteger()).incrementAndGet();
                }
            } catch (Exception | AssertionError gone) {
                // refused or cut off: try again
            }
        }
    }

    /** Makes rooms over HTTP until the quota refuses. */
    private void post(Http http, String token, long end) {
        for (int i = 0; System.nanoTime() < end; i++) {
            Http.Response r = http.request("POST", "/api/rooms", token, "{\"name\":\"posted-" + i + "\",\"visibility\":\"public\"}");
            if (r.status() != 201) codes.computeIfAbsent(r.json().path("error").asText("http_" + r.status()), k -> new AtomicInteger()).incrementAndGet();
            LockSupport.parkNanos(20_000_000L);
        }
    }

    /** The attacker's connections: through an HttpClient of their own (see WsClient.connect), one per thread. */
    private final ThreadLocal<HttpClient> attackerClient = ThreadLocal.withInitial(HttpClient::newHttpClient);

    private WsClient connect(JarProcess node, String token) {
        connections.incrementAndGet();
        return WsClient.connect(URI.create("ws://127.0.0.1:" + node.port() + "/ws?token=" + token), Map.of(), attackerClient.get());
    }

    /** The pair's connections, apart from the attacker's. */
    private static WsClient connectCalm(JarProcess node, String token) {
        return WsClient.connect(URI.create("ws://127.0.0.1:" + node.port() + "/ws?token=" + token), Map.of());
    }

    /** Counts what the server answered the connection and how it closed it ({@code closing}: it should), then lets it go. */
    private void done(WsClient c, boolean closing) {
        if (closing) {
            try {
                c.awaitClose(Duration.ofSeconds(10));
            } catch (AssertionError stillOpen) {
                // the attack's time ran out first
            }
        }
        for (JsonNode f : c.frames("error")) codes.computeIfAbsent(f.path("code").asText(), k -> new AtomicInteger()).incrementAndGet();
        if (c.closeCode() != null) closes.computeIfAbsent(c.closeCode(), k -> new AtomicInteger()).incrementAndGet();
        c.abort();
    }

    private static Duration cpu(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration()).orElse(Duration.ZERO);
    }

    private static long pct(List<Long> xs, int p) {
        List<Long> s = new ArrayList<>(xs);
        Collections.sort(s);
        return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1));
    }

    private static double ms(long ns) {
        return ns / 1e6;
    }
}
