package dev.parley.hardening;

import dev.parley.testing.Http;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 20, item 3, against the real jar: a flood of logins at many usernames with wrong passwords,
 * at production's bcrypt cost, while a well-behaved client keeps chatting. The flood is refused
 * (429 past the address's limit, 503 when the password pool's queue is full, each with Retry-After),
 * the chatting client is served all along (its joins, sends and history reads are answered), and the
 * server stays up. A form-encoded registration, as another site's page could post, makes no account.
 */
@Tag("serial") // measures latency beside an attacker: runs alone (server/pom.xml, failsafe)
class LoginFloodIT {
    private static final int FLOODERS = 24;
    private static final Duration LEAST_FLOOD = Duration.ofSeconds(3), MOST_FLOOD = Duration.ofSeconds(15);

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    @Test
    void a_login_flood_is_refused_with_retry_after_while_a_chatting_client_is_served_and_the_server_stays_up() throws Exception {
        JarProcess node = processes.node("flooded", Map.of("CHAT_JOURNAL_SYNC", "none" /* JarAttacks.NO_SYNC */, 
                "CHAT_BCRYPT_COST", "10",              // what production hashes with: each check costs real CPU
                "CHAT_PASSWORD_THREADS", "1",
                "CHAT_PASSWORD_QUEUE", "8",
                "CHAT_LOGIN_FAILURES_PER_IP", "20",
                "CHAT_REGISTRATIONS_PER_IP", "20",
                "CHAT_ROOMS_PER_HOUR", "0"));          // the chatting client joins a new room each round: the quota has its own tests
        Http http = new Http(node.baseUrl());

        // A cross-site form post makes no account.
        Http.Response form = Http.send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/api/auth/register"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=mallory&password=correct+horse")).build());
        assertThat(form.status()).as(form.body()).isEqualTo(415);
        assertThat(form.json().get("error").asText()).isEqualTo("unsupported_media_type");

        String token = http.register("carol");
        WsClient carol = WsClient.connect(URI.create("ws://127.0.0.1:" + node.port() + "/ws?token=" + token), Map.of());
        carol.send("type", "join", "room", "lobby", "ref", "j0");
        carol.await("joined", "j0");

        // A quiet baseline of the same rounds, for the report.
        long quietSlowest = 0;
        for (int i = 1; i <= 5; i++) quietSlowest = Math.max(quietSlowest, round(carol, http, token, "quiet-" + i));

        Map<Integer, AtomicInteger> answers = new ConcurrentHashMap<>();
        AtomicInteger refusalsWithoutRetryAfter = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService flood = Executors.newFixedThreadPool(FLOODERS);
        for (int t = 0; t < FLOODERS; t++) {
            flood.submit(() -> {
                while (!stop.get()) {
                    String user = "victim" + ThreadLocalRandom.current().nextInt(1_000_000);
                    Http.Response r;
                    try {
                        r = http.post("/api/auth/login", "{\"username\":\"" + user + "\",\"password\":\"guess-" + System.nanoTime() + "\"}");
                    } catch (RuntimeException e) {
                        answers.computeIfAbsent(-1, k -> new AtomicInteger()).incrementAndGet(); // no answer at all
                        continue;
                    }
                    answers.computeIfAbsent(r.status(), k -> new AtomicInteger()).incrementAndGet();
                    if ((r.status() == 429 || r.status() == 503) && r.header("Retry-After").isEmpty()) refusalsWithoutRetryAfter.incrementAndGet();
                }
                return null;
            });
        }

        // Meanwhile carol chats: a send acknowledged, a join of another room, a page of history, over and over.
        long start = System.nanoTime();
        int rounds = 0;
        long slowestNanos = 0;
        while (true) {
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            boolean refusedBoth = count(answers, 429) > 0 && count(answers, 503) > 0;
            if (elapsed.compareTo(MOST_FLOOD) >= 0 || (elapsed.compareTo(LEAST_FLOOD) >= 0 && refusedBoth)) break;
            rounds++;
            slowestNanos = Math.max(slowestNanos, round(carol, http, token, String.valueOf(rounds)));
        }
        long floodMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        stop.set(true);
        flood.shutdown();
        assertThat(flood.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        // Reported, not asserted: the flood's client threads share this machine's cores with the server.
        System.out.printf("[LoginFloodIT] quiet: the slowest of 5 rounds of carol's chat (send+ack, join, history page) %d ms;"
                + " flood: %d rounds in %d ms, the slowest %d ms; the flood's answers by status: %s%n",
                quietSlowest / 1_000_000, rounds, floodMillis, slowestNanos / 1_000_000, answers);

        assertThat(rounds).as("carol was served throughout").isGreaterThanOrEqualTo(3);
        assertThat(count(answers, 429)).as("refused past the address's limit").isPositive();
        assertThat(count(answers, 503)).as("refused when the password pool was full").isPositive();
        assertThat(refusalsWithoutRetryAfter.get()).as("every 429 and 503 says when to come back").isZero();
        assertThat(answers.keySet()).as("nothing but wrong passwords, refusals").isSubsetOf(401, 429, 503);

        assertThat(node.isAlive()).isTrue();
        assertThat(http.get("/health/ready", null).status()).isEqualTo(200);
        var last = http.get("/api/rooms/lobby/messages?limit=1", token).json().get("messages");
        assertThat(last.get(0).get("text").asText()).as("every acknowledged message is stored").isEqualTo("still here " + rounds);
        assertThat(node.output()).doesNotContain(" ERROR ");
        carol.close();
    }

    /** One round of carol's chat, each answer awaited (WsClient's deadline: 10 s): a send acknowledged, a join, a history page. @return its nanoseconds */
    private static long round(WsClient carol, Http http, String token, String n) {
        long start = System.nanoTime();
        carol.send("type", "send", "room", "lobby", "text", "still here " + n, "clientId", "c" + n, "ref", "s" + n);
        assertThat(carol.await("ack", "s" + n).get("seq").asLong()).isPositive();
        carol.send("type", "join", "room", "side-" + n, "ref", "j" + n);
        carol.await("joined", "j" + n);
        Http.Response history = http.get("/api/rooms/lobby/messages?limit=5", token);
        assertThat(history.status()).as(history.body()).isEqualTo(200);
        return System.nanoTime() - start;
    }

    private static int count(Map<Integer, AtomicInteger> answers, int status) {
        AtomicInteger n = answers.get(status);
        return n == null ? 0 : n.get();
    }
}
