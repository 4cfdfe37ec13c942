package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.7, {@code GET /api/search}: what a user finds, in which order, with which words
 * marked, page after page, and what they never find; every refusal. On the embedded H2 here, on
 * PostgreSQL in {@link SearchApiOnPostgresTest}.
 */
class SearchApiTest {
    @RegisterExtension
    static ParleyServer h2 = ParleyServer.create();

    ParleyServer server() {
        return h2;
    }

    private Http.Response search(String token, String query) {
        return server().http().get("/api/search?" + query, token);
    }

    private static String q(String words) {
        return "q=" + URLEncoder.encode(words, StandardCharsets.UTF_8);
    }

    private static List<String> texts(Http.Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        r.json().get("results").forEach(m -> out.add(m.get("text").asText()));
        return out;
    }

    private static void say(WsClient c, String room, String... texts) {
        for (int i = 0; i < texts.length; i++) {
            String ref = room + "-say-" + System.nanoTime();
            c.send("type", "send", "room", room, "text", texts[i], "clientId", ref, "ref", ref);
            c.await("ack", ref);
        }
    }

    @Test
    void finds_the_messages_holding_every_word_newest_first_with_the_words_marked() {
        String alice = ParleyServer.unique("alice"), word = ParleyServer.unique("Zebra").replaceAll("[^A-Za-z0-9]", "");
        String ta = server().http().register(alice);
        String room = Rooms.unique("zoo");
        try (WsClient a = server().connect(ta)) {
            Rooms.join(a, room);
            say(a, room, "a " + word + " crossed the road", "no stripes here", "the road is long", word + ", the road, and " + word.toLowerCase() + "!");
        }
        Http.Response found = search(ta, q(word.toLowerCase()));
        assertThat(texts(found)).containsExactly(word + ", the road, and " + word.toLowerCase() + "!", "a " + word + " crossed the road");
        JsonNode newest = found.json().get("results").get(0);
        assertThat(newest.get("room").asText()).isEqualTo(room);
        assertThat(newest.get("from").asText()).isEqualTo(alice);
        assertThat(newest.get("seq").asLong()).isEqualTo(4);
        assertThat(newest.get("type").asText()).isEqualTo("message");
        int len = word.length(), second = (word + ", the road, and ").length();
        assertThat(newest.get("highlights").toString()).isEqualTo("[[0," + len + "],[" + second + "," + (second + len) + "]]");
        assertThat(found.json().get("next").isNull()).isTrue();
        assertThat(found.header("Link")).isEmpty();

        assertThat(texts(search(ta, q("road " + word)))).hasSize(2);
        assertThat(texts(search(ta, q(word + " stripes")))).isEmpty();
        assertThat(texts(search(ta, q(word.substring(0, 4) + "*") + "&room=" + room))).hasSize(2);
    }

    @Test
    void pages_of_limit_results_follow_the_link_to_the_last_without_a_gap_or_a_repeat() {
        String token = server().http().register(ParleyServer.unique("pager"));
        String word = "page" + Long.toString(System.nanoTime(), 36);
        String room = Rooms.unique("pages");
        List<String> sent = new ArrayList<>();
        try (WsClient c = server().connect(token)) {
            Rooms.join(c, room);
            for (int i = 1; i <= 7; i++) {
                say(c, room, word + " " + i, "other " + i);
                sent.addFirst(word + " " + i);
            }
        }
        List<String> seen = new ArrayList<>();
        String path = "/api/search?" + q(word) + "&limit=3";
        int pages = 0;
        while (path != null && pages++ < 5) {
            Http.Response page = server().http().get(path, token);
            seen.addAll(texts(page));
            String next = page.json().get("next").isNull() ? null : page.json().get("next").asText();
            path = page.header("Link").map(l -> l.substring(1, l.indexOf('>'))).orElse(null);
            assertThat(path == null).isEqualTo(next == null);
            if (path != null) assertThat(path).contains("limit=3").contains("cursor=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
        }
        assertThat(pages).isEqualTo(3);
        assertThat(seen).isEqualTo(sent);
    }

    @Test
    void a_private_room_is_never_searched_for_a_non_member_nor_after_the_member_is_removed() {
        String owner = ParleyServer.unique("owner"), bob = ParleyServer.unique("bob");
        String to = server().http().register(owner), tb = server().http().register(bob);
        String room = Rooms.unique("hidden"), none = Rooms.unique("nothing");
        String word = "secret" + Long.toString(System.nanoTime(), 36);
        assertThat(server().http().request("POST", "/api/rooms", to, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        try (WsClient o = server().connect(to)) {
            Rooms.join(o, room);
            say(o, room, "the " + word + " plan");
        }
        assertThat(texts(search(to, q(word)))).containsExactly("the " + word + " plan");
        assertThat(texts(search(tb, q(word)))).isEmpty();
        // The room named: the answer of a room that does not exist, word for word.
        Http.Response hidden = search(tb, q(word) + "&room=" + room), absent = search(tb, q(word) + "&room=" + none);
        assertThat(hidden.status()).isEqualTo(404);
        assertThat(hidden.body()).isEqualTo(absent.body().replace(none, room));

        assertThat(server().http().request("PUT", "/api/rooms/" + room + "/members/" + bob, to, "{}").status()).isEqualTo(201);
        assertThat(texts(search(tb, q(word)))).containsExactly("the " + word + " plan");
        assertThat(server().http().request("DELETE", "/api/rooms/" + room + "/members/" + bob, to, null).status()).isEqualTo(204);
        assertThat(texts(search(tb, q(word)))).isEmpty();
        assertThat(search(tb, q(word) + "&room=" + room).status()).isEqualTo(404);
    }

    @Test
    void room_events_are_not_found_and_a_public_room_is_searched_by_anyone() {
        String owner = ParleyServer.unique("owner"), carol = ParleyServer.unique("carol");
        String to = server().http().register(owner), tc = server().http().register(carol);
        String room = Rooms.unique("open");
        assertThat(server().http().request("POST", "/api/rooms", to, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        // The room's member_added event says "<owner> added <carol>": not a message, not found.
        assertThat(server().http().request("PUT", "/api/rooms/" + room + "/members/" + carol, to, "{}").status()).isEqualTo(201);
        assertThat(texts(search(tc, q(carol) + "&room=" + room))).isEmpty();
        try (WsClient o = server().connect(to)) {
            Rooms.join(o, room);
            say(o, room, "welcome " + carol);
        }
        String stranger = server().http().register(ParleyServer.unique("stranger"));
        assertThat(texts(search(stranger, q(carol)))).containsExactly("welcome " + carol);
    }

    @Test
    void bad_queries_are_refused_with_their_documented_codes() {
        String token = server().http().register(ParleyServer.unique("refused"));
        String room = Rooms.unique("refusals");
        record Case(String query, int status, String code) {}
        List<Case> cases = List.of(
                new Case("", 400, "bad_request"),
                new Case("q=", 400, "bad_request"),
                new Case("q=%20%20", 400, "bad_request"),
                new Case(q("!!! ..."), 400, "bad_request"),
                new Case(q("x".repeat(257)), 413, "too_large"),
                new Case(q("a b c d e f g h i j k"), 413, "too_large"),
                new Case(q("word") + "&room=Not%20A%20Room", 400, "bad_request"),
                new Case(q("word") + "&limit=0", 400, "bad_request"),
                new Case(q("word") + "&limit=101", 400, "bad_request"),
                new Case(q("word") + "&limit=many", 400, "bad_request"),
                new Case(q("word") + "&cursor=yesterday", 400, "bad_request"));
        for (Case c : cases) {
            Http.Response r = search(token, c.query());
            assertThat(r.status()).as(c.query() + ": " + r.body()).isEqualTo(c.status());
            assertThat(r.json().get("error").asText()).as(c.query()).isEqualTo(c.code());
        }
        Http.Response none = search(token, q("word") + "&room=" + room);
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.json().get("error").asText()).isEqualTo("not_found");

        // 10,000 characters do not fit the request line the server reads.
        Http.Response huge = search(token, q("x".repeat(10_000)));
        assertThat(huge.status()).isEqualTo(414);
        assertThat(huge.json().get("error").asText()).isEqualTo("uri_too_long");

        Http.Response anonymous = search(null, q("word"));
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.json().get("error").asText()).isEqualTo("unauthorized");
        Http.Response post = server().http().request("POST", "/api/search?" + q("word"), token, "{}");
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.header("Allow")).contains("GET, HEAD");
    }

    @Test
    void searching_faster_than_the_rate_is_refused_with_a_retry_after_and_the_server_goes_on() {
        String token = server().http().register(ParleyServer.unique("eager"));
        Http.Response refused = null;
        for (int i = 0; i < 30 && refused == null; i++) {
            Http.Response r = search(token, q("anything"));
            if (r.status() == 429) refused = r;
            else assertThat(r.status()).as(r.body()).isEqualTo(200);
        }
        assertThat(refused).as("a search past the burst of 10").isNotNull();
        assertThat(refused.json().get("error").asText()).isEqualTo("rate_limited");
        assertThat(refused.header("Retry-After")).contains("1");
        // Another user is not slowed down by it.
        String other = server().http().register(ParleyServer.unique("patient"));
        assertThat(search(other, q("anything")).status()).isEqualTo(200);
    }
}
