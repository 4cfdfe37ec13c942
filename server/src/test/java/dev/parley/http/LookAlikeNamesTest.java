package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.4: a new username or room name that looks like a taken one is refused with 409
 * ({@code conflict}), as the name itself would be; one with invisible or bidi characters, or of mixed
 * scripts, with 400, whatever the operator's pattern admits. Here the patterns admit any letter.
 */
class LookAlikeNamesTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.USERNAME_PATTERN, "^[\\p{L}\\p{M}\\p{N}\\p{Cf}_.-]{3,32}$")
            .with(Setting.ROOM_PATTERN, "^[\\p{L}\\p{M}\\p{N}\\p{Cf}_-]{1,64}$");

    private static final AtomicInteger N = new AtomicInteger();

    /** A name new to this server, of letters only (digits would be look-alikes of letters), its suffix from the alphabet starting at {@code a}. */
    private static String fresh(String base, char a) {
        StringBuilder s = new StringBuilder(base);
        for (int n = N.incrementAndGet() + 26; n > 0; n /= 26) s.append((char) (a + n % 26));
        return s.toString();
    }

    private static String fresh(String base) {
        return fresh(base, 'a');
    }

    private static Http.Response register(String name) {
        return server.http().post("/api/auth/register", Http.JSON.createObjectNode().put("username", name).put("password", "long enough").toString());
    }

    @Test
    void a_username_that_looks_like_a_taken_one_is_a_409_naming_it_and_makes_no_account() {
        String alice = fresh("alice");
        assertThat(register(alice).status()).isEqualTo(201);
        // aIice...: capital I for small L, in that case and in another
        for (String alike : new String[]{"aI" + alice.substring(2), "AI" + alice.substring(2)}) {
            Http.Response r = register(alike);
            assertThat(r.status()).as(alike + ": " + r.body()).isEqualTo(409);
            assertThat(r.json().get("error").asText()).isEqualTo("conflict");
            assertThat(r.json().get("message").asText()).isEqualTo("username " + alike + " looks like " + alice + ", which is taken");
            assertThat(server.http().post("/api/auth/login", Http.JSON.createObjectNode().put("username", alike).put("password", "long enough").toString())
                    .status()).as("no account " + alike).isEqualTo(401);
        }
        assertThat(register(alice.toUpperCase()).json().get("message").asText()).as("the same name").isEqualTo("username " + alice.toUpperCase() + " is taken");
    }

    @Test
    void a_username_with_invisible_or_bidi_characters_or_of_mixed_scripts_is_a_400() {
        for (String bad : new String[]{"mallory\u202E", "mal\u200Blory", "\u2067mallory\u2069", "mall\u043Ery"}) {
            Http.Response r = register(fresh(bad));
            assertThat(r.status()).as(r.body()).isEqualTo(400);
            assertThat(r.json().get("error").asText()).isEqualTo("bad_request");
        }
        assertThat(register(fresh("Ελένη", 'α')).status()).as("one script other than Latin").isEqualTo(201);
    }

    @Test
    void a_room_that_looks_like_one_that_exists_is_a_409_over_http_and_a_conflict_error_for_a_join_and_nothing_is_made() {
        String token = server.http().register(fresh("owner"));
        String room = fresh("ops");
        assertThat(server.http().request("POST", "/api/rooms", token, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        String alike = "0" + room.substring(1); // digit zero for o

        Http.Response made = server.http().request("POST", "/api/rooms", token, "{\"name\":\"" + alike + "\",\"visibility\":\"public\"}");
        assertThat(made.status()).as(made.body()).isEqualTo(409);
        // Not named: the room it looks like is private.
        assertThat(made.json().get("message").asText()).isEqualTo("room " + alike + " looks like the name of a room that exists").doesNotContain(room);

        String stranger = server.http().register(fresh("stranger"));
        try (WsClient ws = server.connect(stranger)) {
            ws.send("type", "join", "room", alike, "ref", "j");
            JsonNode error = ws.await("error", "j");
            assertThat(error.get("code").asText()).isEqualTo("conflict");
            assertThat(error.get("message").asText()).isEqualTo("room " + alike + " looks like the name of a room that exists");
            ws.send("type", "join", "room", "\u202E" + fresh("evil"), "ref", "k");
            assertThat(ws.await("error", "k").get("code").asText()).isEqualTo("bad_request");
        }
        assertThat(server.http().get("/api/rooms/" + alike, token).status()).isEqualTo(404);
    }
}
