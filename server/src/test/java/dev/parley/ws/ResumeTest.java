package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 4, the seam: a client that drops and resumes with {@code since} while others keep sending
 * gets every later message exactly once, in order, replay first and live after, with no gap and no
 * duplicate where the two meet.
 */
class ResumeTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.RATE_LIMIT, "100000")
            .with(Setting.RATE_BURST, "100000")
            .with(Setting.MAX_IN_FLIGHT, "100000"); // sends pipelined past the default 128 unanswered

    private static final int SENDERS = 2;
    private static final int RESUMES = 8;
    private static final int AHEAD = 250;

    /** One connection of the resuming client: what it asked for and what it got, in order. */
    private record Session(long since, JsonNode joined, List<Long> seqs) {}

    @Test
    void a_client_resuming_again_and_again_during_a_stream_gets_every_message_once_in_order() throws Exception {
        String room = Ws.room("seam");
        String readerToken = server.newUser("reader");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sent = new AtomicInteger();
        AtomicLong readerAt = new AtomicLong();
        List<CompletableFuture<Integer>> senders = new ArrayList<>();
        List<WsClient> senderClients = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
            WsClient c = server.connect(server.newUser("streamer" + s));
            Ws.join(c, room);
            senderClients.add(c);
        }
        List<Session> sessions = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(SENDERS);
        try {
            WsClient reader = server.connect(readerToken);
            JsonNode joined = Ws.join(reader, room);
            for (int s = 0; s < SENDERS; s++) {
                senders.add(CompletableFuture.supplyAsync(stream(senderClients.get(s), room, "s" + s, stop, sent, readerAt), pool));
            }

            long since = 0;
            for (int k = 0; k <= RESUMES; k++) {
                long from = since;
                // Read a while: until some 30 to 80 messages more than where this session started.
                int want = 30 + (k * 17) % 50;
                WsClient r = reader;
                Await.until("session " + k + " to read " + want + " messages", Duration.ofSeconds(60),
                        () -> r.messages(room).size() >= want || !r.isOpen());
                // Drop the connection (half the time without a closing handshake) and keep what arrived.
                if (k % 2 == 0) reader.abort();
                else reader.close();
                List<Long> seqs = Ws.seqs(reader.messages(room));
                sessions.add(new Session(from, joined, seqs));
                if (!seqs.isEmpty()) since = seqs.get(seqs.size() - 1);
                // Resume while the senders are still at it.
                reader = server.connect(readerToken);
                joined = Ws.join(reader, room, since);
                readerAt.set(since);
            }
            stop.set(true);
            int sum = 0;
            for (CompletableFuture<Integer> f : senders) sum += f.get(60, TimeUnit.SECONDS);
            int total = sum;
            for (int s = 0; s < SENDERS; s++) awaitAck(senderClients.get(s), "s" + s + "-" + senders.get(s).get());
            WsClient r = reader;
            long lastSince = since;
            Await.until("the last session to catch up to " + total, Duration.ofSeconds(60),
                    () -> r.messages(room).size() >= total - lastSince);
            Ws.alive(reader);
            sessions.add(new Session(since, joined, Ws.seqs(reader.messages(room))));
            reader.close();

            // Each session is exactly since+1, since+2, ...: replay then live, nothing missing, nothing twice.
            List<Long> all = new ArrayList<>();
            int midStream = 0;
            for (Session s : sessions) {
                assertThat(s.joined().get("recovered").asBoolean()).isTrue();
                if (!s.seqs().isEmpty()) {
                    List<Long> expected = LongStream.rangeClosed(s.since() + 1, s.since() + s.seqs().size()).boxed().toList();
                    assertThat(s.seqs()).as("session since %d (joined at lastSeq %d)", s.since(), s.joined().get("lastSeq").asLong())
                            .containsExactlyElementsOf(expected);
                }
                all.addAll(s.seqs());
                if (s.since() > 0 && s.joined().get("lastSeq").asLong() < total
                        && s.seqs().stream().anyMatch(q -> q > s.joined().get("lastSeq").asLong())) {
                    midStream++;
                }
            }
            assertThat(all).containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
            assertThat(midStream).as("resumes that met live messages at the seam, of %s", sessions.stream()
                    .map(s -> "since " + s.since() + " lastSeq " + s.joined().get("lastSeq") + " got " + s.seqs().size()).toList())
                    .isGreaterThanOrEqualTo(3);
        } finally {
            stop.set(true);
            pool.shutdownNow();
            senderClients.forEach(WsClient::close);
        }
    }

    /**
     * Sends until told to stop (and at least 300), keeping at most 10 sends unacknowledged and staying
     * at most {@link #AHEAD} messages ahead of the reader, so that a resume never misses more than the
     * replay limit however slowly the reader reconnects. Returns how many it sent.
     */
    private static Supplier<Integer> stream(WsClient c, String room, String prefix, AtomicBoolean stop, AtomicInteger sent, AtomicLong readerAt) {
        return () -> {
            int i = 0;
            while (!stop.get() || i < 300) {
                while (!stop.get() && sent.get() - readerAt.get() > AHEAD) pace();
                i++;
                sent.incrementAndGet();
                c.send("type", "send", "room", room, "text", prefix + " message " + i, "clientId", prefix + "-" + i, "ref", prefix + "-" + i);
                if (i > 10) c.await(Ws.is("ack", prefix + "-" + (i - 10)), Duration.ofSeconds(60), "ack " + (i - 10));
            }
            return i;
        };
    }

    /** Flow control of the senders (not a synchronisation): wait a moment for the reader. */
    private static void pace() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void awaitAck(WsClient c, String ref) {
        c.await(Ws.is("ack", ref), Duration.ofSeconds(60), "ack " + ref);
    }

    @Test
    void a_join_with_since_replays_every_later_message_then_goes_live() {
        String token = server.newUser("late");
        String room = Ws.room("replay");
        try (WsClient writer = server.connect(server.newUser("writer"))) {
            Ws.join(writer, room);
            for (int i = 1; i <= 10; i++) Ws.send(writer, room, "m" + i, "c" + i);

            try (WsClient c = server.connect(token)) {
                JsonNode joined = Ws.join(c, room, 4);
                c.awaitMessages(room, 6, Ws.T);
                Ws.send(writer, room, "m11", "c11");
                c.awaitMessages(room, 7, Ws.T);
                Ws.alive(c);

                assertThat(joined.get("lastSeq").asLong()).isEqualTo(10);
                assertThat(joined.get("recovered").asBoolean()).isTrue();
                assertThat(Ws.seqs(c.messages(room))).containsExactly(5L, 6L, 7L, 8L, 9L, 10L, 11L);
                assertThat(c.frames().indexOf(joined)).as("joined comes before the replay")
                        .isLessThan(c.frames().indexOf(c.messages(room).get(0)));
            }
            try (WsClient c = server.connect(token)) {
                JsonNode joined = Ws.join(c, room, 0);
                c.awaitMessages(room, 11, Ws.T);
                assertThat(joined.get("recovered").asBoolean()).isTrue();
                assertThat(Ws.seqs(c.messages(room))).containsExactlyElementsOf(LongStream.rangeClosed(1, 11).boxed().toList());
            }
            try (WsClient c = server.connect(token)) {
                JsonNode joined = Ws.join(c, room, 11);
                Ws.alive(c);
                assertThat(joined.get("recovered").asBoolean()).isTrue();
                assertThat(c.messages(room)).as("nothing missed, nothing replayed").isEmpty();
            }
        }
    }

    @Test
    void with_the_default_settings_a_resume_that_missed_1000_messages_gets_them_all_and_1001_is_not_recovered() {
        String room = Ws.room("thousand");
        String token = server.newUser("long-gone");
        try (WsClient writer = server.connect(server.newUser("writer"))) {
            Ws.join(writer, room);
            for (int i = 1; i <= 1005; i++) {
                writer.send("type", "send", "room", room, "text", "m" + i, "clientId", "c" + i, "ref", "r" + i);
                if (i > 20) writer.await(Ws.is("ack", "r" + (i - 20)), Ws.T, "ack r" + (i - 20));
            }
            writer.await(Ws.is("ack", "r1005"), Ws.T, "last ack");
        }
        try (WsClient c = server.connect(token)) {
            JsonNode joined = Ws.join(c, room, 5);
            c.awaitMessages(room, 1000, Duration.ofSeconds(60));
            Ws.alive(c);

            assertThat(c.isOpen()).as("closed with %s", c.closeCode()).isTrue();
            assertThat(joined.get("recovered").asBoolean()).isTrue();
            assertThat(Ws.seqs(c.messages(room))).containsExactlyElementsOf(LongStream.rangeClosed(6, 1005).boxed().toList());
        }
        try (WsClient c = server.connect(token)) {
            JsonNode joined = Ws.join(c, room, 4);
            c.awaitMessages(room, 1000, Duration.ofSeconds(60));
            Ws.alive(c);

            assertThat(joined.get("recovered").asBoolean()).isFalse();
            assertThat(Ws.seqs(c.messages(room))).containsExactlyElementsOf(LongStream.rangeClosed(6, 1005).boxed().toList());
        }
    }

    @Test
    void joining_again_with_since_on_the_same_connection_repeats_nothing_and_is_no_new_arrival() {
        String token = server.newUser("rejoiner");
        String room = Ws.room("rejoin");
        try (WsClient c = server.connect(token); WsClient watcher = server.connect(server.newUser("watcher"))) {
            Ws.join(watcher, room);
            Ws.join(c, room);
            for (int i = 1; i <= 5; i++) Ws.send(c, room, "m" + i, "c" + i);
            c.awaitMessages(room, 5, Ws.T);

            // Guarantee 1 holds within a connection whatever since says: 3 to 5 came already.
            JsonNode joined = Ws.join(c, room, 2);
            Ws.send(c, room, "m6", "c6");
            c.awaitMessages(room, 6, Ws.T);
            Ws.alive(c);
            Ws.alive(watcher);

            assertThat(joined.get("lastSeq").asLong()).isEqualTo(5);
            assertThat(Ws.seqs(c.messages(room))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
            assertThat(watcher.frames("presence")).as("the first join only: a rejoin is not a new arrival")
                    .extracting(f -> f.get("status").asText()).containsExactly("online");
        }
    }
}
