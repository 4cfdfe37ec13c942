package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.ErrorCode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import dev.parley.ws.AsyncApiDocument.Frame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static dev.parley.ws.Ws.T;
import static dev.parley.ws.Ws.is;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The AsyncAPI document (/asyncapi.yaml) against the frames a real server sends and takes: a scripted
 * session drives every client frame and every server frame (each room event, each reason of a
 * removal, errors of several codes), and each frame is checked against the document's schemas.
 * The server's schemas are closed, so a frame type or field the document does not describe fails
 * here; and whatever the document describes (a frame, a field, an event type) that the session
 * never showed fails too, so the document cannot rot on either side.
 */
class AsyncApiTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            // A room of three is a big room here: the session sees a presence_summary.
            .with(dev.parley.config.Setting.PRESENCE_BATCH_THRESHOLD, "2")
            .with(dev.parley.config.Setting.PRESENCE_BATCH_INTERVAL, "100ms")
            .with(dev.parley.config.Setting.ADMINS, AsyncApiTest.ADMIN);

    /** The administrator who makes the session's bot. */
    static final String ADMIN = "asyncapi_admin";

    static final AsyncApiDocument DOC = AsyncApiDocument.load();
    static final String THUMBS = "\uD83D\uDC4D";

    /** The frames the session's clients sent and meant to be good, in order. */
    final List<JsonNode> sent = new ArrayList<>();

    @Test
    void every_frame_of_a_session_that_uses_the_whole_protocol_is_as_the_document_says_and_the_document_says_no_more() {
        List<WsClient> clients = session();

        List<JsonNode> received = new ArrayList<>();
        clients.forEach(c -> received.addAll(c.frames()));
        clients.forEach(WsClient::close);

        assertThat(problems(DOC.serverFrames(), received)).as("server frames against the document").isEmpty();
        assertThat(problems(DOC.clientFrames(), sent)).as("client frames against the document").isEmpty();
        Set<String> errorCodes = new TreeSet<>();
        received.stream().filter(is("error")).forEach(e -> errorCodes.add(e.get("code").asText()));
        assertThat(errorCodes).as("the error codes the session provoked")
                .contains("bad_request", "not_joined", "not_found", "forbidden", "conflict", "too_large", "unauthorized", "rate_limited");
    }

    /** Each frame of its type's schema, every frame type known, and everything the schemas describe seen at least once. */
    private static List<String> problems(List<Frame> documented, List<JsonNode> frames) {
        List<String> out = new ArrayList<>();
        Map<String, List<String>> byPayload = new LinkedHashMap<>();
        for (Frame f : documented) byPayload.put(f.payload(), new ArrayList<>());
        for (JsonNode frame : frames) {
            Frame f = AsyncApiDocument.byType(documented, frame.path("type").asText());
            if (f == null) {
                out.add("a frame of a type the document does not describe: " + frame);
                continue;
            }
            List<String> errors = DOC.errors(f.payload(), frame.toString());
            if (!errors.isEmpty()) out.add(f.name() + " " + frame + ": " + errors);
            byPayload.get(f.payload()).add(frame.toString());
        }
        DOC.unseen(byPayload).forEach(u -> out.add("described but never seen in the session: " + u));
        return out;
    }

    // --- the session ---

    private List<WsClient> session() {
        Http http = server.http();
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob"), carol = ParleyServer.unique("carol");
        String aliceToken = http.register(alice), bobToken = http.register(bob), carolToken = http.register(carol);
        WsClient a = server.connect(aliceToken), b = server.connect(bobToken), b2 = server.connect(bobToken), c = server.connect(carolToken);
        String pub = Ws.room("lobby");

        // A public room: joins, presence, a message with a mention, a reply, its changes, typing, read.
        reply(a, "joined", "type", "join", "room", pub);
        reply(b, "joined", "type", "join", "room", pub);
        a.await(Ws.presence(pub, bob, "online"), T, "bob online");
        reply(b2, "joined", "type", "join", "room", pub, "since", 0);
        long hello = reply(a, "ack", "type", "send", "room", pub, "text", "hello @" + bob, "clientId", "a-1").get("seq").asLong();
        long answer = reply(b, "ack", "type", "send", "room", pub, "text", "hi", "clientId", "b-1", "replyTo", hello).get("seq").asLong();
        reply(a, "ack", "type", "edit", "room", pub, "seq", hello, "text", "hello @" + bob + ", again");
        reply(b, "ack", "type", "react", "room", pub, "seq", hello, "emoji", THUMBS, "on", true);
        reply(b, "ack", "type", "react", "room", pub, "seq", hello, "emoji", THUMBS, "on", true); // unchanged: an ack without seq
        reply(b, "ack", "type", "delete", "room", pub, "seq", answer);
        good(a, "type", "typing", "room", pub, "ref", "t1"); // answered by nothing, as the document says
        b.await(f -> is("typing").test(f) && alice.equals(f.path("user").asText()), T, "alice typing");
        long last = reply(b, "read", "type", "read", "room", pub, "seq", answer + 3).get("lastSeq").asLong();
        b2.await(f -> is("read").test(f) && !f.has("ref"), T, "bob's marker on his other connection");
        JsonNode page = reply(a, "history", "type", "history", "room", pub, "before", last + 1, "limit", 100);
        assertThat(page.get("messages")).hasSize((int) last);
        // A bot's post over HTTP reaches the members as a message marked bot.
        String botKey = parse(http.request("POST", "/api/admin/bots", http.register(ADMIN), json("name", ParleyServer.unique("bot"))).body())
                .get("key").get("key").asText();
        ok(http.request("POST", "/api/rooms/" + pub + "/messages", botKey, json("text", "deployed", "clientId", "bot-1")), 201);
        a.await(f -> is("message").test(f) && f.path("bot").asBoolean(), T, "the bot's message");
        reply(a, "pong", "type", "ping");
        good(a, "type", "refresh", "token", http.login(alice));
        reply(a, "pong", "type", "ping"); // a refresh that works is answered by nothing
        // A third user makes the room big: her arrival comes as a summary; her departure, which
        // makes it small again, as a presence frame.
        reply(c, "joined", "type", "join", "room", pub);
        a.await(f -> is("presence_summary").test(f) && f.path("online").asInt() == 3, T, "a summary with carol");
        reply(c, "left", "type", "leave", "room", pub);
        a.await(Ws.presence(pub, carol, "offline"), T, "carol offline");

        // Refusals: the connection lives on after each.
        refused(b, "forbidden", "type", "edit", "room", pub, "seq", hello, "text", "not mine");
        refused(b, "conflict", "type", "edit", "room", pub, "seq", answer, "text", "back again");
        refused(a, "not_found", "type", "edit", "room", pub, "seq", 999_999, "text", "nothing there");
        refused(a, "not_joined", "type", "send", "room", Ws.room("elsewhere"), "text", "hi", "clientId", "a-2");
        refused(a, "too_large", "type", "send", "room", pub, "text", "x".repeat(4001), "clientId", "a-3");
        refused(a, "forbidden", "type", "refresh", "token", bobToken);
        refused(a, "unauthorized", "type", "refresh", "token", "not.a.token");
        refused(a, "rate_limited", "type", "refresh", "token", aliceToken); // a fourth refresh within 10 s
        malformed(a, "{\"type\":\"join\",\"ref\":\"no-room\"}", "no-room");
        malformed(a, "{\"type\":\"shout\",\"ref\":\"unknown\"}", "unknown");
        malformed(a, "{\"type\":\"send\",\"room\":\"" + pub + "\",\"text\":5,\"clientId\":\"a-4\",\"ref\":\"typed\"}", "typed");
        a.send("{not json");
        a.await(f -> is("error").test(f) && !f.has("ref"), T, "the error about a frame that is not JSON");

        // A private room through every room event, with each reason a connection is taken out of a room.
        String ops = Ws.room("ops");
        String until = Instant.now().plus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS).toString();
        ok(http.request("POST", "/api/rooms", aliceToken, json("name", ops, "visibility", "private", "topic", "on call")), 201);
        refused(c, "forbidden", "type", "join", "room", ops);
        reply(a, "joined", "type", "join", "room", ops, "since", 0); // since 0: from room_created on
        ok(http.request("PUT", "/api/rooms/" + ops + "/members/" + bob, aliceToken, "{}"), 201);
        ok(http.request("PUT", "/api/rooms/" + ops + "/members/" + bob, aliceToken, json("role", "moderator")), 200);
        ok(http.request("PUT", "/api/rooms/" + ops + "/members/" + bob, aliceToken, json("mutedUntil", until)), 200);
        ok(http.request("PUT", "/api/rooms/" + ops + "/members/" + bob, aliceToken, "{\"mutedUntil\":null}"), 200);
        reply(b, "joined", "type", "join", "room", ops);
        ok(http.request("DELETE", "/api/rooms/" + ops + "/members/" + bob, aliceToken, null), 204);
        removed(b, ops, "removed");
        ok(http.request("PUT", "/api/rooms/" + ops + "/members/" + carol, aliceToken, "{}"), 201);
        reply(c, "joined", "type", "join", "room", ops);
        ok(http.request("PUT", "/api/rooms/" + ops + "/bans/" + carol, aliceToken, json("reason", "spam", "until", until)), 204);
        removed(c, ops, "banned");
        ok(http.request("DELETE", "/api/rooms/" + ops + "/bans/" + carol, aliceToken, null), 204);
        ok(http.request("PUT", "/api/rooms/" + ops + "/members/" + bob, aliceToken, "{}"), 201);
        reply(b, "joined", "type", "join", "room", ops);
        ok(http.request("DELETE", "/api/rooms/" + ops + "/members/" + bob, bobToken, null), 204);
        removed(b, ops, "left");
        ok(http.request("PUT", "/api/rooms/" + ops + "/retention", aliceToken, json("days", 30, "messages", 1000)), 200);
        ok(http.request("DELETE", "/api/rooms/" + ops, aliceToken, null), 204);
        removed(a, ops, "room_deleted");

        // Leaving: the others see alice go.
        reply(a, "left", "type", "leave", "room", pub);
        b.await(Ws.presence(pub, alice, "offline"), T, "alice offline");
        List<WsClient> all = List.of(a, b, b2, c);
        all.forEach(Ws::alive); // every frame owed has arrived
        return all;
    }

    /** Sends a frame meant to be good, and keeps it to check against the document. */
    private void good(WsClient c, Object... kv) {
        ObjectNode n = Http.JSON.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) n.set((String) kv[i], Http.JSON.valueToTree(kv[i + 1]));
        sent.add(n);
        c.send(n.toString());
    }

    /** Sends a good frame with a fresh ref and returns its answer, which must be of this type. */
    private JsonNode reply(WsClient c, String answer, Object... kv) {
        String ref = Ws.ref("f");
        good(c, with(kv, "ref", ref));
        JsonNode got = c.await(f -> ref.equals(f.path("ref").asText()), T, "the answer to " + Arrays.toString(kv));
        assertThat(got.path("type").asText()).as("the answer to %s: %s", Arrays.toString(kv), got).isEqualTo(answer);
        return got;
    }

    /** A well-formed frame the server refuses with this code. */
    private void refused(WsClient c, String code, Object... kv) {
        JsonNode got = reply(c, "error", kv);
        assertThat(got.get("code").asText()).as("%s: %s", Arrays.toString(kv), got).isEqualTo(code);
    }

    /** A frame the document's schemas refuse as the server does: a bad_request error with its ref. */
    private static void malformed(WsClient c, String json, String ref) {
        Frame f = AsyncApiDocument.byType(DOC.clientFrames(), parse(json).path("type").asText());
        if (f != null) assertThat(DOC.errors(f.payload(), json)).as("the document's schema of %s refuses %s", f.name(), json).isNotEmpty();
        c.send(json);
        JsonNode got = c.await(Ws.is("error", ref), T, "the error about " + json);
        assertThat(got.get("code").asText()).isEqualTo("bad_request");
    }

    private static void removed(WsClient c, String room, String reason) {
        c.await(f -> is("left").test(f) && room.equals(f.path("room").asText()) && reason.equals(f.path("reason").asText()), T,
                "left " + room + " for " + reason);
    }

    private static void ok(Http.Response r, int status) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
    }

    private static Object[] with(Object[] kv, Object... more) {
        Object[] out = Arrays.copyOf(kv, kv.length + more.length);
        System.arraycopy(more, 0, out, kv.length, more.length);
        return out;
    }

    private static String json(Object... kv) {
        ObjectNode n = Http.JSON.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) n.set((String) kv[i], Http.JSON.valueToTree(kv[i + 1]));
        return n.toString();
    }

    private static JsonNode parse(String json) {
        try {
            return Http.JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    // --- the document on its own ---

    @Test
    void the_error_frames_code_lists_exactly_the_error_catalogue() {
        Set<String> documented = new LinkedHashSet<>(DOC.enumAt("/components/schemas/Error/properties/code"));
        Set<String> codes = new LinkedHashSet<>();
        for (ErrorCode c : ErrorCode.values()) codes.add(c.wire());

        assertThat(documented).containsExactlyInAnyOrderElementsOf(codes);
    }

    @Test
    void every_example_in_the_document_is_valid_against_its_own_schema() {
        List<Frame> frames = new ArrayList<>(DOC.clientFrames());
        frames.addAll(DOC.serverFrames());
        int count = 0;
        for (Frame f : frames) {
            for (String example : DOC.examples(f)) {
                assertThat(DOC.errors(f.payload(), example)).as("an example of %s: %s", f.name(), example).isEmpty();
                count++;
            }
        }
        assertThat(count).isGreaterThanOrEqualTo(frames.size());
    }

    @Test
    void the_server_frames_schemas_refuse_a_field_or_an_event_they_do_not_describe() {
        Frame pong = AsyncApiDocument.byType(DOC.serverFrames(), "pong");
        Frame message = AsyncApiDocument.byType(DOC.serverFrames(), "message");
        String event = "{\"type\":\"message\",\"room\":\"r\",\"seq\":3,\"id\":\"01J\",\"from\":\"alice\",\"text\":\"\","
                + "\"ts\":\"2026-11-23T15:04:05.123Z\",\"clientId\":\"event-01J\",\"event\":{\"type\":\"pinned\",\"seq\":1}}";

        assertThat(DOC.errors(pong.payload(), "{\"type\":\"pong\",\"ref\":\"p1\"}")).isEmpty();
        assertThat(DOC.errors(pong.payload(), "{\"type\":\"pong\",\"ref\":\"p1\",\"extra\":1}")).isNotEmpty();
        assertThat(DOC.errors(message.payload(), event)).isNotEmpty();
        String known = event.replace("pinned", "room_deleted").replace("\"seq\":1", "\"by\":\"alice\"");
        assertThat(DOC.errors(message.payload(), known)).isEmpty();
        assertThat(DOC.errors(message.payload(), known.replace("2026-11-23T15:04:05.123Z", "yesterday"))).as("ts is a date-time").isNotEmpty();
        assertThat(AsyncApiDocument.byType(DOC.serverFrames(), "shout")).isNull();
    }
}
