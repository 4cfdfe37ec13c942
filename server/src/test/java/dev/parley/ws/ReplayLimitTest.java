package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 4, past the replay limit: a client that missed more than the limit gets
 * {@code recovered: false} and the newest messages, and pages the rest with {@code history}.
 */
class ReplayLimitTest {
    private static final int LIMIT = 20;

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.REPLAY_LIMIT, String.valueOf(LIMIT))
            .with(Setting.RATE_LIMIT, "10000")
            .with(Setting.RATE_BURST, "10000")
            .with(Setting.MAX_IN_FLIGHT, "100000"); // sends pipelined past the default 128 unanswered

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    /** A room with {@code n} messages, written by a user of its own. */
    private static String roomWith(int n) {
        String room = Ws.room("missed");
        try (WsClient writer = server.connect(server.newUser("writer"))) {
            Ws.join(writer, room);
            for (int i = 1; i <= n; i++) writer.send("type", "send", "room", room, "text", "m" + i, "clientId", "c" + i, "ref", "r" + i);
            writer.await("ack", "r" + n);
        }
        return room;
    }

    @Test
    void a_resume_that_missed_more_than_the_replay_limit_is_not_recovered_gets_the_newest_and_pages_the_rest() {
        String room = roomWith(65);
        try (WsClient c = server.connect(server.newUser("away"))) {
            JsonNode joined = Ws.join(c, room, 5);
            c.awaitMessages(room, LIMIT, Ws.T);
            Ws.alive(c);

            assertThat(joined.get("recovered").asBoolean()).isFalse();
            assertThat(joined.get("lastSeq").asLong()).isEqualTo(65);
            assertThat(Ws.seqs(c.messages(room))).as("the newest %d", LIMIT).containsExactlyElementsOf(range(65 - LIMIT + 1, 65));

            // The client pages back with history from the oldest message it got, down to its since.
            List<Long> paged = new ArrayList<>();
            long before = c.messages(room).get(0).get("seq").asLong();
            boolean more = true;
            while (more && before > 6) {
                String ref = Ws.ref("page");
                c.send("type", "history", "room", room, "before", before, "limit", 15, "ref", ref);
                JsonNode page = c.await(Ws.is("history", ref), Ws.T, "history");
                List<Long> seqs = new ArrayList<>();
                page.get("messages").forEach(m -> seqs.add(m.get("seq").asLong()));
                paged.addAll(0, seqs);
                more = page.get("hasMore").asBoolean();
                before = seqs.get(0);
            }
            List<Long> got = new ArrayList<>(paged.stream().filter(s -> s > 5).toList());
            got.addAll(Ws.seqs(c.messages(room)));
            assertThat(got).containsExactlyElementsOf(range(6, 65));
        }
    }

    @Test
    void a_resume_that_missed_exactly_the_replay_limit_is_recovered() {
        String room = roomWith(LIMIT + 5);
        try (WsClient c = server.connect(server.newUser("just-in-time"))) {
            JsonNode joined = Ws.join(c, room, 5);
            c.awaitMessages(room, LIMIT, Ws.T);
            Ws.alive(c);

            assertThat(joined.get("recovered").asBoolean()).isTrue();
            assertThat(Ws.seqs(c.messages(room))).containsExactlyElementsOf(range(6, LIMIT + 5));
        }
    }

    @Test
    void a_resume_that_missed_one_more_than_the_replay_limit_is_not_recovered() {
        String room = roomWith(LIMIT + 5);
        try (WsClient c = server.connect(server.newUser("one-late"))) {
            JsonNode joined = Ws.join(c, room, 4);
            c.awaitMessages(room, LIMIT, Ws.T);
            Ws.alive(c);

            assertThat(joined.get("recovered").asBoolean()).isFalse();
            assertThat(Ws.seqs(c.messages(room))).containsExactlyElementsOf(range(6, LIMIT + 5));
        }
    }

    @Test
    void a_join_without_since_is_recovered_whatever_the_room_holds() {
        String room = roomWith(LIMIT + 10);
        try (WsClient c = server.connect(server.newUser("newcomer"))) {
            JsonNode joined = Ws.join(c, room);
            Ws.alive(c);

            assertThat(joined.get("recovered").asBoolean()).isTrue();
            assertThat(c.messages(room)).isEmpty();
        }
    }
}
