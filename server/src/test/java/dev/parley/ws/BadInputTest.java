package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Guarantee 6: an invalid frame gets an {@code error} frame with the right code (and its ref) and the
 * connection keeps working; a frame over the size limit closes with 1009; a stream of invalid frames
 * closes with 1008.
 */
class BadInputTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.ROOMS_PER_HOUR, "0"); // one user joins a new room for each of the many cases

    static String token;

    @BeforeAll
    static void a_user() {
        token = server.newUser("fuzzer");
    }

    /** A JSON string literal. */
    private static String q(String s) {
        return Http.JSON.getNodeFactory().textNode(s).toString();
    }

    /** Frames with {@code ROOM} standing for a room the connection has joined. */
    static Stream<Arguments> invalidFrames() {
        String send = "{\"type\":\"send\",\"room\":\"ROOM\",\"clientId\":\"c\",\"text\":";
        return Stream.of(
                // not JSON, or not one object
                arguments("malformed JSON", "{\"type\":", "bad_request", null),
                arguments("truncated object", "{\"type\":\"ping\",\"ref\":\"r\"", "bad_request", null),
                arguments("empty frame", "", "bad_request", null),
                arguments("a JSON array", "[{\"type\":\"ping\"}]", "bad_request", null),
                arguments("a JSON string", "\"ping\"", "bad_request", null),
                arguments("a JSON number", "42", "bad_request", null),
                arguments("JSON null", "null", "bad_request", null),
                arguments("two objects", "{\"type\":\"ping\"}{\"type\":\"ping\"}", "bad_request", null),
                // type
                arguments("no type", "{\"ref\":\"r\"}", "bad_request", "r"),
                arguments("unknown type", "{\"type\":\"dance\",\"ref\":\"r\"}", "bad_request", "r"),
                arguments("type not a string", "{\"ref\":\"r\",\"type\":7}", "bad_request", "r"),
                // missing fields
                arguments("join without room", "{\"type\":\"join\",\"ref\":\"r\"}", "bad_request", "r"),
                arguments("leave without room", "{\"type\":\"leave\",\"ref\":\"r\"}", "bad_request", "r"),
                arguments("send without room", "{\"type\":\"send\",\"text\":\"t\",\"clientId\":\"c\",\"ref\":\"r\"}", "bad_request", "r"),
                arguments("send without text", "{\"type\":\"send\",\"room\":\"ROOM\",\"clientId\":\"c\",\"ref\":\"r\"}", "bad_request", "r"),
                arguments("send without clientId", "{\"type\":\"send\",\"room\":\"ROOM\",\"text\":\"t\",\"ref\":\"r\"}", "bad_request", "r"),
                arguments("typing without room", "{\"type\":\"typing\",\"ref\":\"r\"}", "bad_request", "r"),
                arguments("history without room", "{\"type\":\"history\",\"ref\":\"r\"}", "bad_request", "r"),
                arguments("refresh without token", "{\"type\":\"refresh\",\"ref\":\"r\"}", "bad_request", "r"),
                // wrong field types
                arguments("room a number", "{\"type\":\"join\",\"ref\":\"r\",\"room\":5}", "bad_request", "r"),
                arguments("room an object", "{\"type\":\"join\",\"ref\":\"r\",\"room\":{\"name\":\"x\"}}", "bad_request", "r"),
                arguments("text a number", "{\"type\":\"send\",\"ref\":\"r\",\"room\":\"ROOM\",\"clientId\":\"c\",\"text\":5}", "bad_request", "r"),
                arguments("clientId an array", "{\"type\":\"send\",\"ref\":\"r\",\"room\":\"ROOM\",\"text\":\"t\",\"clientId\":[1]}", "bad_request", "r"),
                arguments("since a string", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"ROOM\",\"since\":\"3\"}", "bad_request", "r"),
                arguments("since a fraction", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"ROOM\",\"since\":1.5}", "bad_request", "r"),
                arguments("since negative", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"ROOM\",\"since\":-1}", "bad_request", "r"),
                arguments("since too big", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"ROOM\",\"since\":123456789012345678901234567890}", "bad_request", "r"),
                arguments("limit a string", "{\"type\":\"history\",\"ref\":\"r\",\"room\":\"ROOM\",\"limit\":\"5\"}", "bad_request", "r"),
                arguments("before a boolean", "{\"type\":\"history\",\"ref\":\"r\",\"room\":\"ROOM\",\"before\":true}", "bad_request", "r"),
                arguments("token a number", "{\"type\":\"refresh\",\"ref\":\"r\",\"token\":1}", "bad_request", "r"),
                arguments("ref a number", "{\"type\":\"ping\",\"ref\":5}", "bad_request", null),
                arguments("ref empty", "{\"type\":\"ping\",\"ref\":\"\"}", "bad_request", null),
                arguments("ref with half a surrogate pair", "{\"type\":\"ping\",\"ref\":\"r\\ud800\"}", "bad_request", null),
                arguments("ref too long", "{\"type\":\"ping\",\"ref\":\"" + "r".repeat(129) + "\"}", "bad_request", null),
                // invalid room names, whatever the frame
                arguments("join an upper-case room", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"Lobby\"}", "bad_request", "r"),
                arguments("join an empty room name", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"\"}", "bad_request", "r"),
                arguments("join a room starting with a dash", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"-x\"}", "bad_request", "r"),
                arguments("join a room name of 65", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"" + "a".repeat(65) + "\"}", "bad_request", "r"),
                arguments("join a room with a space", "{\"type\":\"join\",\"ref\":\"r\",\"room\":\"a b\"}", "bad_request", "r"),
                arguments("send to an invalid room", "{\"type\":\"send\",\"ref\":\"r\",\"room\":\"Bad Room\",\"text\":\"t\",\"clientId\":\"c\"}", "bad_request", "r"),
                arguments("typing in an invalid room", "{\"type\":\"typing\",\"ref\":\"r\",\"room\":\"Bad Room\"}", "bad_request", "r"),
                arguments("leave an invalid room", "{\"type\":\"leave\",\"ref\":\"r\",\"room\":\"Bad Room\"}", "bad_request", "r"),
                arguments("history of an invalid room", "{\"type\":\"history\",\"ref\":\"r\",\"room\":\"Bad Room\"}", "bad_request", "r"),
                // text
                arguments("text with NUL", "{\"ref\":\"r\"," + send.substring(1) + q("a\u0000b") + "}", "bad_request", "r"),
                arguments("text only NUL", "{\"ref\":\"r\"," + send.substring(1) + q("\u0000") + "}", "bad_request", "r"),
                arguments("text with BEL", "{\"ref\":\"r\"," + send.substring(1) + q("ring\u0007ring") + "}", "bad_request", "r"),
                arguments("text with ESC", "{\"ref\":\"r\"," + send.substring(1) + q("\u001b[31mred") + "}", "bad_request", "r"),
                arguments("text with CR", "{\"ref\":\"r\"," + send.substring(1) + q("line\rline") + "}", "bad_request", "r"),
                arguments("text with a leading SOH", "{\"ref\":\"r\"," + send.substring(1) + q("\u0001hi") + "}", "bad_request", "r"),
                // control characters that are also whitespace are refused too, even where trimming would drop them
                arguments("text ending in CR LF", "{\"ref\":\"r\"," + send.substring(1) + q("line\r\n") + "}", "bad_request", "r"),
                arguments("text starting with VT", "{\"ref\":\"r\"," + send.substring(1) + q("\u000bhi") + "}", "bad_request", "r"),
                arguments("text ending in a unit separator", "{\"ref\":\"r\"," + send.substring(1) + q("hi\u001f") + "}", "bad_request", "r"),
                arguments("text with DEL", "{\"ref\":\"r\"," + send.substring(1) + q("a\u007fb") + "}", "bad_request", "r"),
                arguments("text with a C1 control (NEL)", "{\"ref\":\"r\"," + send.substring(1) + q("a\u0085b") + "}", "bad_request", "r"),
                // half a surrogate pair, spelled with JSON's escapes: no encoding can store it
                arguments("text with an unpaired high surrogate", "{\"ref\":\"r\"," + send.substring(1) + "\"a\\ud800b\"}", "bad_request", "r"),
                arguments("text ending in a high surrogate", "{\"ref\":\"r\"," + send.substring(1) + "\"ab\\ud83d\"}", "bad_request", "r"),
                arguments("text with an unpaired low surrogate", "{\"ref\":\"r\"," + send.substring(1) + "\"a\\ude00b\"}", "bad_request", "r"),
                arguments("text with the halves of a pair reversed", "{\"ref\":\"r\"," + send.substring(1) + "\"\\ude00\\ud83d\"}", "bad_request", "r"),
                arguments("clientId with an unpaired surrogate", "{\"type\":\"send\",\"ref\":\"r\",\"room\":\"ROOM\",\"text\":\"t\",\"clientId\":\"c\\udfff\"}", "bad_request", "r"),
                arguments("text empty", "{\"ref\":\"r\"," + send.substring(1) + q("") + "}", "bad_request", "r"),
                arguments("text of no-break spaces", "{\"ref\":\"r\"," + send.substring(1) + q("\u00a0\u202f\u3000") + "}", "bad_request", "r"),
                arguments("text over the limit in emoji", "{\"ref\":\"r\"," + send.substring(1) + q("\uD83D\uDE00".repeat(4001)) + "}", "too_large", "r"),
                arguments("text blank", "{\"ref\":\"r\"," + send.substring(1) + q("  \n\t  ") + "}", "bad_request", "r"),
                arguments("text null", "{\"ref\":\"r\"," + send.substring(1) + "null}", "bad_request", "r"),
                arguments("text over the limit", "{\"ref\":\"r\"," + send.substring(1) + q("x".repeat(4001)) + "}", "too_large", "r"),
                arguments("text over the limit after trimming", "{\"ref\":\"r\"," + send.substring(1) + q(" " + "y".repeat(4001) + " ") + "}", "too_large", "r"),
                // clientId
                arguments("clientId empty", "{\"type\":\"send\",\"ref\":\"r\",\"room\":\"ROOM\",\"text\":\"t\",\"clientId\":\"\"}", "bad_request", "r"),
                arguments("clientId of 65", "{\"type\":\"send\",\"ref\":\"r\",\"room\":\"ROOM\",\"text\":\"t\",\"clientId\":\"" + "c".repeat(65) + "\"}", "bad_request", "r"),
                // the changes of a message, and replies (issue 21)
                arguments("edit without seq", "{\"type\":\"edit\",\"ref\":\"r\",\"room\":\"ROOM\",\"text\":\"t\"}", "bad_request", "r"),
                arguments("edit without text", "{\"type\":\"edit\",\"ref\":\"r\",\"room\":\"ROOM\",\"seq\":1}", "bad_request", "r"),
                arguments("edit with seq a string", "{\"type\":\"edit\",\"ref\":\"r\",\"room\":\"ROOM\",\"seq\":\"1\",\"text\":\"t\"}", "bad_request", "r"),
                arguments("edit with seq 0", "{\"type\":\"edit\",\"ref\":\"r\",\"room\":\"ROOM\",\"seq\":0,\"text\":\"t\"}", "bad_request", "r"),
                arguments("edit with a blank text", "{\"type\":\"edit\",\"ref\":\"r\",\"room\":\"ROOM\",\"seq\":1,\"text\":\" \"}", "bad_request", "r"),
                arguments("delete without room", "{\"type\":\"delete\",\"ref\":\"r\",\"seq\":1}", "bad_request", "r"),
                arguments("delete with a negative seq", "{\"type\":\"delete\",\"ref\":\"r\",\"room\":\"ROOM\",\"seq\":-3}", "bad_request", "r"),
                arguments("react without emoji", "{\"type\":\"react\",\"ref\":\"r\",\"room\":\"ROOM\",\"seq\":1,\"on\":true}", "bad_request", "r"),
                arguments("react without on", "{\"type\":\"react\",\"ref\":\"r\",\"room\":\"ROOM\",\"seq\":1,\"emoji\":\"\ud83d\udc4d\"}", "bad_request", "r"),
                arguments("react with on a string", "{\"type\":\"react\",\"ref\":\"r\",\"room\":\"ROOM\",\"seq\":1,\"emoji\":\"\ud83d\udc4d\",\"on\":\"yes\"}", "bad_request", "r"),
                arguments("send with replyTo a string", "{\"type\":\"send\",\"ref\":\"r\",\"room\":\"ROOM\",\"text\":\"t\",\"clientId\":\"c\",\"replyTo\":\"1\"}", "bad_request", "r"),
                arguments("send with replyTo 0", "{\"type\":\"send\",\"ref\":\"r\",\"room\":\"ROOM\",\"text\":\"t\",\"clientId\":\"c\",\"replyTo\":0}", "bad_request", "r"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("invalidFrames")
    void an_invalid_frame_gets_an_error_with_its_code_and_ref_and_the_connection_keeps_working(String what, String frame, String code, String ref) {
        String room = Ws.room("bad");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);

            c.send(frame.replace("ROOM", room));
            JsonNode err = c.await(ref == null ? Ws.is("error") : Ws.is("error", ref), Ws.T, "error for " + what);

            assertThat(err.get("code").asText()).as(err.toString()).isEqualTo(code);
            assertThat(err.get("message").asText()).isNotBlank();
            Ws.alive(c);
            Ws.send(c, room, "still works", "after-" + Ws.ref("x"));
            assertThat(c.frames("error")).hasSize(1);
            assertThat(c.messages(room)).as("nothing was stored for the invalid frame").hasSize(1);
        }
    }

    @Test
    void an_error_carries_the_ref_even_when_the_ref_comes_after_the_bad_field() {
        String room = Ws.room("late-ref");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);

            c.send("{\"type\":\"send\",\"room\":5,\"text\":\"t\",\"clientId\":\"c\",\"ref\":\"late-1\"}");
            c.send("{\"type\":\"join\",\"room\":\"" + room + "\",\"since\":\"x\",\"ref\":\"late-2\"}");
            c.send("{\"type\":7,\"ref\":\"late-3\"}");
            c.send("{\"type\":\"dance\",\"ref\":\"late-4\"}");

            for (String ref : new String[]{"late-1", "late-2", "late-3", "late-4"}) {
                assertThat(c.await(Ws.is("error", ref), Ws.T, "error " + ref).get("code").asText()).isEqualTo("bad_request");
            }
            Ws.alive(c);
        }
    }

    @Test
    void a_clientId_of_exactly_64_characters_and_unknown_fields_are_accepted() {
        String room = Ws.room("edges");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);

            c.send("{\"type\":\"send\",\"room\":\"" + room + "\",\"text\":\"t\",\"clientId\":\"" + "c".repeat(64) + "\",\"ref\":\"k\",\"extra\":{\"a\":[1,2]}}");

            assertThat(c.await(Ws.is("ack", "k"), Ws.T, "ack").get("clientId").asText()).hasSize(64);
        }
    }

    @Test
    void characters_are_code_points_and_white_space_includes_the_no_break_spaces() {
        String room = Ws.room("unicode");
        String emoji = "\uD83D\uDE00".repeat(4000); // 4,000 characters, 8,000 UTF-16 units, 16,000 bytes
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);

            c.send("{\"type\":\"send\",\"room\":\"" + room + "\",\"clientId\":\"e\",\"ref\":\"e\",\"text\":" + q(emoji) + "}");
            c.send("{\"type\":\"send\",\"room\":\"" + room + "\",\"clientId\":\"n\",\"ref\":\"n\",\"text\":" + q("\u00a0 hi \u200b\u3000") + "}");
            c.await(Ws.is("ack", "e"), Ws.T, "ack of 4,000 emoji");
            c.await(Ws.is("ack", "n"), Ws.T, "ack of the spaced text");

            List<JsonNode> got = c.awaitMessages(room, 2, Ws.T);
            assertThat(got.get(0).get("text").asText()).isEqualTo(emoji);
            // U+200B (zero width space) is a format character, not white space: it stays
            assertThat(got.get(1).get("text").asText()).isEqualTo("hi \u200b");
        }
    }

    @Test
    void a_binary_frame_gets_an_error_and_the_connection_keeps_working() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.sendBinary("{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
            JsonNode err = json(ws.readText(Ws.T));
            ws.sendText("{\"type\":\"ping\",\"ref\":\"after-binary\"}");
            JsonNode pong = json(ws.readText(Ws.T));

            assertThat(err.get("type").asText()).isEqualTo("error");
            assertThat(err.get("code").asText()).isEqualTo("bad_request");
            assertThat(pong.get("type").asText()).isEqualTo("pong");
            assertThat(pong.get("ref").asText()).isEqualTo("after-binary");
        }
    }

    @Test
    void a_frame_of_exactly_the_size_limit_is_read() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            String head = "{\"type\":\"ping\",\"ref\":\"max\",\"pad\":\"";
            String frame = head + "p".repeat(16384 - head.length() - 2) + "\"}";
            assertThat(frame.getBytes(StandardCharsets.UTF_8)).hasSize(16384);

            ws.sendText(frame);

            assertThat(json(ws.readText(Ws.T)).get("ref").asText()).isEqualTo("max");
        }
    }

    @Test
    void a_frame_over_the_size_limit_closes_the_connection_with_1009() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            String head = "{\"type\":\"ping\",\"ref\":\"over\",\"pad\":\"";
            ws.sendText(head + "p".repeat(16385 - head.length() - 2) + "\"}");

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);

            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.closeCode()).isEqualTo(1009);
        }
    }

    @Test
    void a_message_over_the_size_limit_in_fragments_closes_the_connection_with_1009() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            String head = "{\"type\":\"ping\",\"ref\":\"frag\",\"pad\":\"";
            ws.send(RawWebSocket.TEXT, (head + "p".repeat(10_000)).getBytes(StandardCharsets.UTF_8), false);
            ws.send(0, ("p".repeat(10_000) + "\"}").getBytes(StandardCharsets.UTF_8), true);

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);

            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.closeCode()).isEqualTo(1009);
        }
    }

    @Test
    void a_frame_over_the_size_limit_through_the_jdk_client_closes_with_1009() {
        try (WsClient c = server.connect(token)) {
            c.send("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(20_000) + "\"}");

            assertThat(c.awaitClose(Ws.T)).isEqualTo(1009);
        }
    }

    @Test
    void a_hundred_invalid_frames_are_answered_but_the_next_one_closes_the_connection_with_1008() {
        try (WsClient c = server.connect(token)) {
            for (int i = 1; i <= 100; i++) c.send("{\"type\":\"dance\",\"ref\":\"d" + i + "\"}");
            c.await(Ws.is("error", "d100"), Ws.T, "the 100th error");
            Ws.alive(c);
            assertThat(c.frames("error")).hasSize(100);

            c.send("{\"type\":\"dance\",\"ref\":\"d101\"}");

            assertThat(c.awaitClose(Ws.T)).isEqualTo(1008);
            assertThat(c.frames("error")).hasSize(101);
        }
    }

    private static JsonNode json(RawWebSocket.Frame f) {
        assertThat(f).as("a text frame").isNotNull();
        try {
            return Http.JSON.readTree(f.text());
        } catch (Exception e) {
            throw new AssertionError(f.text(), e);
        }
    }
}
