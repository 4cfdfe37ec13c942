package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md section 1, paging of {@code GET /api/rooms/{room}/messages}: one room of 25 messages,
 * read from every side, with {@code hasMore} checked at its boundaries.
 */
class HistoryApiTest {
    private static final int TOTAL = 25;

    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    static String token;
    static String author;
    static String room;

    @BeforeAll
    static void a_room_of_25_messages() {
        author = ParleyServer.unique("author");
        token = server.http().register(author);
        room = Rooms.unique("paged");
        try (WsClient c = server.connect(token)) {
            Rooms.join(c, room);
            Rooms.post(c, room, TOTAL);
        }
    }

    private static JsonNode page(String query) {
        Http.Response r = server.http().get("/api/rooms/" + room + "/messages" + query, token);
        assertThat(r.status()).as(query + ": " + r.body()).isEqualTo(200);
        assertThat(r.json().get("room").asText()).isEqualTo(room);
        return r.json();
    }

    private static List<Long> seqs(JsonNode page) {
        List<Long> out = new ArrayList<>();
        page.get("messages").forEach(m -> out.add(m.get("seq").asLong()));
        return out;
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    void without_a_cursor_a_page_is_the_newest_messages_up_to_the_default_limit_of_50_ascending() {
        JsonNode all = page("");

        assertThat(seqs(all)).containsExactlyElementsOf(range(1, TOTAL));
        assertThat(all.get("hasMore").asBoolean()).isFalse();
        JsonNode first = all.get("messages").get(0);
        assertThat(first.get("type").asText()).isEqualTo("message");
        assertThat(first.get("room").asText()).isEqualTo(room);
        assertThat(first.get("from").asText()).isEqualTo(author);
        assertThat(first.get("text").asText()).isEqualTo("m1");
        assertThat(first.get("clientId").asText()).isEqualTo(room + "-1");
        assertThat(first.get("id").asText()).isNotBlank();
        assertThat(first.get("ts").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    }

    @ParameterizedTest(name = "{0} -> {1}..{2} hasMore={3}")
    @CsvSource({
            // no cursor: the newest `limit`
            "?limit=5,          21, 25, true",
            "?limit=24,         2,  25, true",
            "?limit=25,         1,  25, false", // exactly `limit` messages: nothing beyond
            "?limit=100,        1,  25, false",
            "?limit=1,          25, 25, true",
            // before: the newest `limit` below N, paging backwards
            "?before=21&limit=5, 16, 20, true",
            "?before=7&limit=5,  2,  6,  true",
            "?before=6&limit=5,  1,  5,  false", // exactly `limit` left
            "?before=4&limit=5,  1,  3,  false",
            "?before=26&limit=3, 23, 25, true",
            "?before=1000,       1,  25, false",
            // after: the oldest `limit` above N, paging forwards
            "?after=1&limit=5,   2,  6,  true",
            "?after=19&limit=5,  20, 24, true",
            "?after=20&limit=5,  21, 25, false", // exactly `limit` left
            "?after=22&limit=5,  23, 25, false",
            "?after=10,          11, 25, false",
            // after=0: from the start of the room
            "?after=0&limit=5,   1,  5,  true",
            "?after=0,           1,  25, false",
    })
    void a_page_is_ascending_and_has_more_exactly_when_messages_lie_beyond_it(String query, long from, long to, boolean hasMore) {
        JsonNode p = page(query);

        assertThat(seqs(p)).containsExactlyElementsOf(range(from, to));
        assertThat(p.get("hasMore").asBoolean()).isEqualTo(hasMore);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"?before=1", "?after=25", "?after=1000"})
    void a_page_beyond_either_end_is_empty_without_more(String query) {
        JsonNode p = page(query);

        assertThat(p.get("messages")).isEmpty();
        assertThat(p.get("hasMore").asBoolean()).isFalse();
    }

    @Test
    void paging_backwards_then_forwards_visits_every_message_once() {
        List<Long> backwards = new ArrayList<>();
        JsonNode p = page("?limit=7");
        backwards.addAll(0, seqs(p));
        while (p.get("hasMore").asBoolean()) {
            p = page("?limit=7&before=" + backwards.get(0));
            backwards.addAll(0, seqs(p));
        }
        List<Long> forwards = new ArrayList<>(List.of(backwards.get(0)));
        do {
            p = page("?limit=7&after=" + forwards.get(forwards.size() - 1));
            forwards.addAll(seqs(p));
        } while (p.get("hasMore").asBoolean());

        assertThat(backwards).containsExactlyElementsOf(range(1, TOTAL));
        assertThat(forwards).containsExactlyElementsOf(range(1, TOTAL));
    }

    @Test
    void paging_forwards_from_the_start_with_after_0_visits_every_message_once() {
        List<Long> forwards = new ArrayList<>();
        JsonNode p = page("?limit=7&after=0");
        forwards.addAll(seqs(p));
        while (p.get("hasMore").asBoolean()) {
            p = page("?limit=7&after=" + forwards.get(forwards.size() - 1));
            forwards.addAll(seqs(p));
        }

        assertThat(forwards).containsExactlyElementsOf(range(1, TOTAL));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"?limit=0", "?limit=101", "?limit=-1", "?limit=abc", "?limit=", "?limit=1.5",
            "?limit=99999999999999999999", "?limit=-4294967246", "?before=0", "?before=-3", "?before=x", "?after=x", "?after=-1",
            "?after=99999999999999999999", "?before=5&after=2", "?before=0&after=0"})
    void a_limit_before_or_after_that_is_not_an_integer_in_its_range_is_a_400(String query) {
        Http.Response r = server.http().get("/api/rooms/" + room + "/messages" + query, token);

        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().get("error").asText()).isEqualTo("bad_request");
    }

    @Test
    void the_history_of_an_unknown_room_is_a_404_and_of_an_invalid_room_name_a_400() {
        Http.Response unknown = server.http().get("/api/rooms/" + Rooms.unique("never") + "/messages", token);
        Http.Response invalid = server.http().get("/api/rooms/-dash-first/messages", token);

        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("error").asText()).isEqualTo("not_found");
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().get("error").asText()).isEqualTo("bad_request");
    }

    @Test
    void a_room_that_was_joined_but_has_no_messages_has_an_empty_history() {
        String empty = Rooms.unique("empty");
        try (WsClient c = server.connect(token)) {
            Rooms.join(c, empty);
        }

        JsonNode p = server.http().get("/api/rooms/" + empty + "/messages", token).json();

        assertThat(p.get("messages")).isEmpty();
        assertThat(p.get("hasMore").asBoolean()).isFalse();
    }
}
