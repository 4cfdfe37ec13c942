package dev.parley.durability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.Ports;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The durable-ack guarantee (PROTOCOL.md §5.2) against a real crash: the jar runs as a process on its
 * default embedded H2 file, takes a burst of sends, and is SIGKILLed while acks are still coming; a new
 * process on the same data dir must have every acked message, the accounts, and a gap-free sequence.
 */
class CrashRecoveryIT {
    private static final String SECRET = "crash-test-secret-0123456789-0123456789ab";
    // From the environment: serve refuses a secret given as a flag, which ps shows to every user.
    private static final Map<String, String> SECRET_ENV = Map.of("CHAT_JWT_SECRET", SECRET);
    private static final String ROOM = "crash";
    private static final int WARM_UP = 20;
    private static final int BURST = 400;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    @TempDir
    Path tmp;

    @Test
    void every_acked_message_survives_a_sigkill_with_its_seq_id_and_text() throws Exception {
        Path dataDir = tmp.resolve("data");
        int port = Ports.free();
        List<String> args = List.of("serve", "--port", String.valueOf(port), "--data-dir", dataDir.toString(),
                // the burst is one client sending as fast as it can, far beyond the default 20/s
                "--rate-limit", "100000", "--rate-burst", "100000", "--max-in-flight", "100000",
                // Each sender is a member and reads every send of the burst (8,000 messages and its 2,000 acks):
                // an outbox that holds them all keeps a client slowed by a busy CI machine from being closed as
                // a slow consumer (4002), which is another test's subject.
                "--outbox-frames", "16384");
        JarProcess first = processes.start("first", tmp, args, SECRET_ENV);
        first.awaitReady(port, WAIT);
        assertThat(dataDir.resolve("parley.mv.db")).exists();

        Http http = new Http("http://127.0.0.1:" + port);
        Map<String, String> tokens = new HashMap<>();
        for (String user : List.of("alice", "bob", "carol")) tokens.put(user, http.register(user));

        WsClient alice = connect(port, tokens.get("alice"));
        WsClient bob = connect(port, tokens.get("bob"));
        WsClient carol = connect(port, tokens.get("carol"));
        for (WsClient c : List.of(alice, bob, carol)) join(c, null);

        // Bob sees the first messages, then goes away; carol stays until the crash.
        for (int i = 1; i <= WARM_UP; i++) send(alice, "w" + i, "warm-up " + i);
        Await.until("acks of the warm-up", WAIT, () -> alice.frames("ack").size() == WARM_UP);
        long bobSaw = bob.awaitMessages(ROOM, WARM_UP, WAIT).get(WARM_UP - 1).get("seq").asLong();
        bob.close();

        // A sign-up answered just before the burst, and so well within half a second of the crash: the
        // embedded H2 writes its pages only every half second (the journal covers messages, not this).
        String daveToken = http.register("dave");
        AtomicInteger sent = new AtomicInteger();
        Thread sender = Thread.ofPlatform().name("burst").start(() -> {
            try {
                for (int i = 1; i <= BURST; i++) {
                    send(alice, "b" + i, "burst " + i + " ✓");
                    sent.incrementAndGet();
                }
            } catch (RuntimeException e) {
                // the server was killed under us: the rest was never sent
            }
        });
        Await.until("half the burst acked", WAIT, () -> alice.frames("ack").size() >= WARM_UP + BURST / 2);
        int exit = first.kill();
        sender.join(30_000);
        assertThat(exit).as("killed by SIGKILL").isEqualTo(137);
        Await.until("the clients to see the connection die", WAIT, () -> !alice.isOpen() && !carol.isOpen());

        Map<String, JsonNode> acked = new HashMap<>();
        for (JsonNode ack : alice.frames("ack")) acked.put(ack.get("clientId").asText(), ack);
        long carolSaw = carol.messages(ROOM).stream().mapToLong(m -> m.get("seq").asLong()).max().orElse(0);
        alice.close();
        carol.close();

        JarProcess second = processes.start("second", tmp, args, SECRET_ENV);
        second.awaitReady(port, WAIT);

        // Accounts survived, the last one too.
        assertThat(daveToken).isNotBlank();
        for (String user : List.of("alice", "bob", "carol", "dave")) tokens.put(user, http.login(user));

        // Every acked message is stored, with the same seq, id and text; the sequence has no gap.
        TreeMap<Long, JsonNode> history = history(http, tokens.get("alice"));
        long last = history.lastKey();
        assertThat(history.keySet()).containsExactlyElementsOf(LongStream.rangeClosed(1, last).boxed().toList());
        Map<String, JsonNode> byClientId = new HashMap<>();
        for (JsonNode m : history.values()) {
            assertThat(byClientId.put(m.get("clientId").asText(), m)).as("clientId %s stored twice", m.get("clientId").asText()).isNull();
        }
        for (JsonNode ack : acked.values()) {
            JsonNode stored = history.get(ack.get("seq").asLong());
            assertThat(stored).as("acked message %s", ack).isNotNull();
            assertThat(stored.get("id").asText()).isEqualTo(ack.get("id").asText());
            assertThat(stored.get("clientId").asText()).isEqualTo(ack.get("clientId").asText());
            assertThat(stored.get("ts").asText()).isEqualTo(ack.get("ts").asText());
            assertThat(stored.get("text").asText()).isEqualTo(textOf(ack.get("clientId").asText()));
        }
        int committedNotAcked = (int) byClientId.keySet().stream().filter(c -> !acked.containsKey(c)).count();
        System.out.printf("[CrashRecoveryIT] sent %d, acked %d before SIGKILL; stored %d (%d committed but not acked); bob saw seq %d, carol %d%n",
                WARM_UP + sent.get(), acked.size(), last, committedNotAcked, bobSaw, carolSaw);

        // A client resuming with the last seq it saw gets exactly what it missed, then live messages.
        WsClient bobAgain = connect(port, tokens.get("bob"));
        WsClient carolAgain = connect(port, tokens.get("carol"));
        WsClient aliceAgain = connect(port, tokens.get("alice"));
        JsonNode bobJoined = join(bobAgain, bobSaw);
        JsonNode carolJoined = join(carolAgain, carolSaw);
        assertThat(join(aliceAgain, null).get("lastSeq").asLong()).isEqualTo(last);
        assertThat(bobJoined.get("recovered").asBoolean()).isTrue();
        assertThat(carolJoined.get("recovered").asBoolean()).isTrue();

        // The sequence continues after the last stored seq.
        send(aliceAgain, "after-restart", "after the restart");
        JsonNode afterAck = aliceAgain.await("ack", "after-restart");
        assertThat(afterAck.get("seq").asLong()).isEqualTo(last + 1);

        assertResumed(bobAgain, bobSaw, last + 1, history);
        assertResumed(carolAgain, carolSaw, last + 1, history);

        // Re-sending an acked clientId returns the original ack and stores nothing new.
        for (JsonNode ack : acked.values()) {
            String clientId = ack.get("clientId").asText();
            aliceAgain.send("type", "send", "room", ROOM, "text", "retry of " + clientId, "clientId", clientId, "ref", "retry-" + clientId);
        }
        for (JsonNode ack : acked.values()) {
            String clientId = ack.get("clientId").asText();
            JsonNode again = aliceAgain.await("ack", "retry-" + clientId);
            assertThat(again.get("seq").asLong()).as("seq of retried %s", clientId).isEqualTo(ack.get("seq").asLong());
            assertThat(again.get("id").asText()).isEqualTo(ack.get("id").asText());
            assertThat(again.get("ts").asText()).isEqualTo(ack.get("ts").asText());
        }
        // Re-sending the ones that were never acked stores each at most once.
        List<String> unacked = new ArrayList<>();
        for (int i = 1; i <= BURST; i++) if (!acked.containsKey("b" + i)) unacked.add("b" + i);
        for (String clientId : unacked) send(aliceAgain, clientId, textOf(clientId));
        for (String clientId : unacked) {
            JsonNode ack = aliceAgain.await("ack", clientId);
            JsonNode before = byClientId.get(clientId);
            if (before != null) assertThat(ack.get("id").asText()).isEqualTo(before.get("id").asText());
            else assertThat(ack.get("seq").asLong()).isGreaterThan(last + 1);
        }
        TreeMap<Long, JsonNode> finalHistory = history(http, tokens.get("alice"));
        long finalLast = finalHistory.lastKey();
        assertThat(finalHistory.keySet()).containsExactlyElementsOf(LongStream.rangeClosed(1, finalLast).boxed().toList());
        assertThat(finalLast).isEqualTo(WARM_UP + BURST + 1);
        Set<String> clientIds = new HashSet<>();
        for (JsonNode m : finalHistory.values()) assertThat(clientIds.add(m.get("clientId").asText())).isTrue();
        // Live delivery after the resume: still every seq once, none twice (a late duplicate shows here).
        assertResumed(bobAgain, bobSaw, finalLast, finalHistory);
        assertResumed(carolAgain, carolSaw, finalLast, finalHistory);

        for (WsClient c : List.of(aliceAgain, bobAgain, carolAgain)) c.close();
        second.terminate();
        second.waitFor(WAIT);
    }

    @Test
    void a_sigterm_during_a_burst_commits_what_was_queued_and_every_acked_message_is_kept() throws Exception {
        Path dataDir = tmp.resolve("data");
        int port = Ports.free();
        List<String> args = List.of("serve", "--port", String.valueOf(port), "--data-dir", dataDir.toString(),
                "--rate-limit", "100000", "--rate-burst", "100000", "--max-in-flight", "100000",
                // Each sender is a member and reads every send of the burst (8,000 messages and its 2,000 acks):
                // an outbox that holds them all keeps a client slowed by a busy CI machine from being closed as
                // a slow consumer (4002), which is another test's subject.
                "--outbox-frames", "16384");
        JarProcess first = processes.start("first", tmp, args, SECRET_ENV);
        first.awaitReady(port, WAIT);
        Http http = new Http("http://127.0.0.1:" + port);
        int senders = 4;
        List<WsClient> clients = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            WsClient c = connect(port, http.register("sender" + s));
            join(c, null);
            clients.add(c);
        }
        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            WsClient c = clients.get(s);
            int sender = s;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 1; i <= 2000; i++) send(c, "s" + sender + "-" + i, "burst " + i);
                } catch (RuntimeException e) {
                    // the node closed the connection
                }
            }));
        }
        Await.until("a quarter of the sends acked", WAIT, () -> {
            assertThat(clients.stream().map(WsClient::closeCode).toList()).as("close codes before the SIGTERM").containsOnlyNulls();
            return clients.stream().mapToInt(c -> c.frames("ack").size()).sum() >= 2000;
        });
        long start = System.nanoTime();
        first.terminate();
        int exit = first.waitFor(Duration.ofSeconds(10));
        long stopMs = (System.nanoTime() - start) / 1_000_000;
        for (Thread t : threads) t.join(30_000);

        Map<String, JsonNode> acked = new HashMap<>();
        int unavailable = 0;
        for (WsClient c : clients) {
            for (JsonNode ack : c.frames("ack")) acked.put(ack.get("clientId").asText(), ack);
            unavailable += (int) c.frames("error").stream().filter(e -> "unavailable".equals(e.path("code").asText())).count();
            c.close();
        }
        String output = first.output();
        System.out.printf("[CrashRecoveryIT] SIGTERM mid-burst: exit %d after %d ms; %d acked, %d unavailable%n", exit, stopMs, acked.size(), unavailable);
        assertThat(output).contains("stopped node=");
        assertThat(output).as("a commit failed during the drain").doesNotContain("group commit of");

        JarProcess second = processes.start("second", tmp, args, SECRET_ENV);
        second.awaitReady(port, WAIT);
        TreeMap<Long, JsonNode> history = history(http, http.login("sender0"));
        assertThat(history.keySet()).containsExactlyElementsOf(LongStream.rangeClosed(1, history.lastKey()).boxed().toList());
        for (JsonNode ack : acked.values()) {
            JsonNode stored = history.get(ack.get("seq").asLong());
            assertThat(stored).as("acked message %s", ack).isNotNull();
            assertThat(stored.get("id").asText()).isEqualTo(ack.get("id").asText());
        }
        second.terminate();
        second.waitFor(WAIT);
    }

    /** After a join with {@code since}, the client has every seq from since+1 to {@code upTo} once, in order, as stored. */
    private static void assertResumed(WsClient c, long since, long upTo, TreeMap<Long, JsonNode> history) {
        int expected = (int) (upTo - since);
        List<JsonNode> got = c.awaitMessages(ROOM, expected, WAIT);
        assertThat(got).extracting(m -> m.get("seq").asLong()).containsExactlyElementsOf(LongStream.rangeClosed(since + 1, upTo).boxed().toList());
        for (JsonNode m : got) {
            JsonNode stored = history.get(m.get("seq").asLong());
            if (stored != null) assertThat(m.get("id").asText()).isEqualTo(stored.get("id").asText());
        }
    }

    private static String textOf(String clientId) {
        return clientId.startsWith("w") ? "warm-up " + clientId.substring(1) : "burst " + clientId.substring(1) + " ✓";
    }

    private static WsClient connect(int port, String token) {
        return WsClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws?token=" + token), Map.of());
    }

    private static JsonNode join(WsClient c, Long since) {
        String ref = "join-" + System.nanoTime();
        if (since == null) c.send("type", "join", "room", ROOM, "ref", ref);
        else c.send("type", "join", "room", ROOM, "since", since, "ref", ref);
        return c.await(f -> "joined".equals(f.path("type").asText()) && ref.equals(f.path("ref").asText()), WAIT, "joined " + ref);
    }

    private static void send(WsClient c, String clientId, String text) {
        c.send("type", "send", "room", ROOM, "text", text, "clientId", clientId, "ref", clientId);
    }

    /** The whole room, read backwards page by page: the newest page, then {@code before} its oldest seq. */
    private static TreeMap<Long, JsonNode> history(Http http, String token) {
        TreeMap<Long, JsonNode> out = new TreeMap<>();
        String cursor = "";
        while (true) {
            Http.Response r = http.get("/api/rooms/" + ROOM + "/messages?limit=100" + cursor, token);
            assertThat(r.status()).as("history: %s", r.body()).isEqualTo(200);
            for (JsonNode m : r.json().get("messages")) out.put(m.get("seq").asLong(), m);
            if (!r.json().get("hasMore").asBoolean()) return out;
            cursor = "&before=" + out.firstKey();
        }
    }
}
