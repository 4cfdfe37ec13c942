package dev.parley.cluster;

import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.Nginx;
import dev.parley.testing.JarProcesses;
import dev.parley.testing.JarProcesses.JarProcess;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import dev.parley.testing.Redis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two nodes run from the built jar on one PostgreSQL and one Redis, behind Debian's nginx with
 * deploy/nginx.conf. Clients connect through nginx only. One node is taken away in the middle of
 * a conversation; every client must end with every message of the room exactly once, in order.
 */
@Timeout(300)
class LoadBalancerIT {
    static final int CLIENTS = 6;
    static final int SENDERS = 3;
    static final int EACH = 60;

    @RegisterExtension
    final JarProcesses processes = new JarProcesses();

    Redis redis;
    JarProcess a;
    JarProcess b;
    Nginx nginx;
    final List<ResumingClient> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        assumeTrue(Nginx.available() || System.getenv("CI") != null, "nginx is not installed (apt-get install nginx)");
        redis = Redis.startNew();
        Map<String, String> env = Map.of(
                "CHAT_DATABASE_URL", Postgres.shared().newDatabase(), "CHAT_DATABASE_USER", "postgres", "CHAT_DATABASE_PASSWORD", "postgres",
                "CHAT_REDIS_URL", redis.url(), "CHAT_PRESENCE_TTL", "3s", "CHAT_DRAIN_TIMEOUT", "5s", "CHAT_EVENT_LOOPS", "1",
                "CHAT_RATE_LIMIT", "1000", "CHAT_RATE_BURST", "1000", "CHAT_MAX_IN_FLIGHT", "100000");
        a = processes.node("lb-a", env);
        b = processes.node("lb-b", env);
        nginx = Nginx.start(List.of(a.port(), b.port()));
    }

    @AfterEach
    void stop() {
        clients.forEach(ResumingClient::close);
        if (nginx != null) nginx.close();
        if (redis != null) redis.close();
    }

    @Test
    void a_node_drained_with_SIGTERM_hands_its_clients_to_the_other_node_without_losing_a_message() throws Exception {
        String room = "drain-" + System.nanoTime() % 100_000;
        converse(room, () -> {
            int exit = a.stop();
            assertThat(exit).as("exit code after SIGTERM").isIn(0, 143);
            assertThat(a.output()).contains("draining").contains("stopped");
        });
        // Clients that were on the drained node were told to go away with 1001, not cut off.
        assertThat(clients.stream().flatMap(c -> c.closeCodes().stream())).isNotEmpty().allMatch(code -> code == 1001);
    }

    @Test
    void a_node_killed_with_SIGKILL_loses_no_acknowledged_message_for_clients_that_resume_elsewhere() throws Exception {
        String room = "crash-" + System.nanoTime() % 100_000;
        converse(room, a::kill);
        assertThat(clients.stream().mapToInt(ResumingClient::connectionCount).sum()).isGreaterThan(CLIENTS);
    }

    /** Clients join through nginx, some send while {@code fault} hits node a; then everything is checked. */
    private void converse(String room, Runnable fault) throws Exception {
        Http http = new Http(nginx.baseUrl());
        URI ws = URI.create(nginx.wsUrl()); // wss: nginx terminates TLS
        for (int i = 0; i < CLIENTS; i++) {
            String token = http.register(ParleyServer.unique("lb"));
            clients.add(new ResumingClient(URI.create(ws + "?token=" + token), Map.of("Origin", nginx.baseUrl()), room));
        }
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            Future<?> healer = pool.submit(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    clients.forEach(ResumingClient::heal);
                    Thread.sleep(20);
                }
                return null;
            });
            List<Future<?>> senders = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                ResumingClient c = clients.get(s);
                int sender = s;
                senders.add(pool.submit(() -> {
                    for (int k = 0; k < EACH; k++) {
                        c.send("s" + sender + "-" + k, "message " + k + " from sender " + sender);
                        Thread.sleep(15);
                    }
                    return null;
                }));
            }
            Thread.sleep(EACH * 15L / 2); // the fault strikes mid-conversation
            fault.run();
            for (Future<?> f : senders) f.get();
            Await.until("every send acked", Duration.ofSeconds(60), () -> clients.stream().mapToInt(ResumingClient::unacked).sum() == 0);
            long total = SENDERS * EACH;
            Await.until("every client to have all " + total + " messages", Duration.ofSeconds(60),
                    () -> clients.stream().allMatch(c -> c.lastSeq() >= total));
        } catch (Throwable t) {
            for (ResumingClient c : clients) {
                System.out.println("client: unacked=" + c.unacked() + " closes=" + c.closeCodes() + " seqs=" + c.seqs());
            }
            System.out.println("--- nginx ---\n" + nginx.log()); // the nodes' output is printed by JarProcesses
            throw t;
        } finally {
            pool.shutdownNow();
        }
        long total = SENDERS * EACH;
        for (ResumingClient c : clients) {
            assertThat(c.seqs()).as("each message exactly once, in order, across reconnects")
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
        }
        String token = http.register(ParleyServer.unique("reader"));
        var page = http.get("/api/rooms/" + room + "/messages?limit=100&before=" + (total + 1), token).json();
        assertThat(page.get("messages")).hasSize((int) Math.min(100, total));
        assertThat(http.get("/health/ready", null).status()).isEqualTo(200);
    }
}
