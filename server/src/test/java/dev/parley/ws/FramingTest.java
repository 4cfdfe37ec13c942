package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RFC 6455 at the frame level, as the server implements it: fragments, control frames, UTF-8, the
 * closing handshake, and upgrade requests that are not WebSocket handshakes.
 */
class FramingTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    static String token;

    @BeforeAll
    static void a_user() {
        token = server.newUser("framer");
    }

    @Test
    void a_client_ping_is_answered_with_a_pong_carrying_its_payload() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.PING, bytes("are you there"));

            RawWebSocket.Frame pong = ws.read(Ws.T);

            assertThat(pong.opcode()).isEqualTo(RawWebSocket.PONG);
            assertThat(pong.text()).isEqualTo("are you there");
        }
    }

    @Test
    void a_message_in_fragments_with_a_ping_between_them_is_read_as_one() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.TEXT, bytes("{\"type\":\"pi"), false);
            ws.send(RawWebSocket.PING, bytes("between"));
            ws.send(0, bytes("ng\",\"ref\":"), false);
            ws.send(0, bytes("\"fragments\"}"), true);

            RawWebSocket.Frame pong = ws.read(Ws.T);
            JsonNode reply = json(ws.readText(Ws.T));

            assertThat(pong.opcode()).isEqualTo(RawWebSocket.PONG);
            assertThat(pong.text()).isEqualTo("between");
            assertThat(reply.get("type").asText()).isEqualTo("pong");
            assertThat(reply.get("ref").asText()).isEqualTo("fragments");
        }
    }

    @Test
    void a_character_split_between_two_fragments_is_read_whole() {
        byte[] e = "é".getBytes(StandardCharsets.UTF_8);
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.TEXT, concat(bytes("{\"type\":\"ping\",\"ref\":\"caf"), new byte[]{e[0]}), false);
            ws.send(0, concat(new byte[]{e[1]}, bytes("\"}")), true);

            assertThat(json(ws.readText(Ws.T)).get("ref").asText()).isEqualTo("café");
        }
    }

    @Test
    void a_message_of_exactly_the_size_limit_in_fragments_is_read() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            String head = "{\"type\":\"ping\",\"ref\":\"max-fragments\",\"pad\":\"";
            String message = head + "p".repeat(16384 - head.length() - 2) + "\"}";
            ws.send(RawWebSocket.TEXT, bytes(message.substring(0, 8000)), false);
            ws.send(0, bytes(message.substring(8000)), true);

            assertThat(json(ws.readText(Ws.T)).get("ref").asText()).isEqualTo("max-fragments");
        }
    }

    @Test
    void a_text_frame_that_is_not_utf8_closes_the_connection_with_1007() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.TEXT, concat(bytes("{\"type\":\"ping\",\"ref\":\""), new byte[]{(byte) 0xC3, 0x28}, bytes("\"}")));

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);

            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.closeCode()).isEqualTo(1007);
        }
    }

    @Test
    void an_encoded_surrogate_is_not_utf8_either() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.TEXT, concat(bytes("{\"type\":\"ping\",\"ref\":\""), new byte[]{(byte) 0xED, (byte) 0xA0, (byte) 0x80}, bytes("\"}")));

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);

            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.closeCode()).isEqualTo(1007);
        }
    }

    @Test
    void a_binary_message_in_fragments_gets_one_error_and_the_connection_keeps_working() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.BINARY, new byte[]{1, 2, 3}, false);
            ws.send(0, new byte[]{4, 5, 6}, true);
            ws.sendText("{\"type\":\"ping\",\"ref\":\"after-binary\"}");

            JsonNode error = json(ws.readText(Ws.T));
            JsonNode pong = json(ws.readText(Ws.T));

            assertThat(error.get("type").asText()).isEqualTo("error");
            assertThat(error.get("code").asText()).isEqualTo("bad_request");
            assertThat(pong.get("type").asText()).isEqualTo("pong");
            assertThat(pong.get("ref").asText()).isEqualTo("after-binary");
        }
    }

    @Test
    void a_close_from_the_client_is_answered_with_its_code_and_then_the_server_ends_the_connection() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.CLOSE, new byte[]{0x03, (byte) 0xE8, 'b', 'y', 'e'}); // 1000 "bye"

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);

            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.closeCode()).isEqualTo(1000);
            assertThat(ws.read(Ws.T)).as("the end of the TCP stream").isNull();
        }
    }

    @Test
    void an_empty_close_from_the_client_is_answered_with_an_empty_close_and_then_the_server_ends_the_connection() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.CLOSE, new byte[0]); // no status code (RFC 6455 section 5.5.1)

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);

            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.payload()).as("no code in the answer either (Netty's -1 went out as 65535)").isEmpty();
            assertThat(ws.read(Ws.T)).as("the end of the TCP stream").isNull();
        }
    }

    @Test
    void after_a_close_from_the_server_the_client_answer_ends_the_connection() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.TEXT, bytes("{\"type\":\"ping\",\"pad\":\"" + "p".repeat(10_000)), false);
            ws.send(0, bytes("p".repeat(10_000) + "\"}"), true);
            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);
            assertThat(close.closeCode()).isEqualTo(1009);

            ws.send(RawWebSocket.CLOSE, new byte[]{0x03, (byte) 0xF1}); // 1009, echoed

            assertThat(ws.read(Ws.T)).as("the end of the TCP stream").isNull();
        }
    }

    @Test
    void an_unmasked_frame_from_the_client_closes_the_connection_with_1002() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(RawWebSocket.TEXT, bytes("{\"type\":\"ping\"}"), true, false);

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);

            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.closeCode()).isEqualTo(1002);
        }
    }

    @Test
    void a_continuation_without_a_first_fragment_closes_the_connection_with_1002() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.send(0, bytes("{\"type\":\"ping\"}"), true);

            RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);

            assertThat(close).as("a close frame").isNotNull();
            assertThat(close.closeCode()).isEqualTo(1002);
        }
    }

    @Test
    void a_get_without_upgrade_headers_gets_400_json_and_no_socket() {
        RawWebSocket.Handshake h = RawWebSocket.request(server.port(), "GET", "/ws?token=" + token, Map.of());

        assertThat(h.status()).isEqualTo(400);
        assertThat(h.head().toLowerCase()).doesNotContain("sec-websocket-accept");
        assertThat(ConnectTest.parse(h.body()).get("error").asText()).isEqualTo("bad_request");
    }

    @Test
    void an_upgrade_to_another_protocol_gets_400_json() {
        RawWebSocket.Handshake h = RawWebSocket.request(server.port(), "GET", "/ws?token=" + token,
                Map.of("Upgrade", "irc", "Connection", "Upgrade"));

        assertThat(h.status()).isEqualTo(400);
        assertThat(ConnectTest.parse(h.body()).get("error").asText()).isEqualTo("bad_request");
    }

    @Test
    void an_unknown_websocket_version_gets_426_naming_13() {
        RawWebSocket.Handshake h = RawWebSocket.handshake(server.port(), "/ws?token=" + token, Map.of("Sec-WebSocket-Version", "99"));

        assertThat(h.status()).isEqualTo(426);
        assertThat(h.head().toLowerCase()).contains("sec-websocket-version: 13").doesNotContain("sec-websocket-accept");
        assertThat(ConnectTest.parse(h.body()).get("error").asText()).isEqualTo("upgrade_required");
    }

    @Test
    void a_post_to_the_websocket_path_gets_405_naming_get_and_no_socket() {
        RawWebSocket.Handshake h = RawWebSocket.request(server.port(), "POST", "/ws?token=" + token,
                Map.of("Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==",
                        "Sec-WebSocket-Version", "13", "Content-Length", "0"));

        assertThat(h.status()).isEqualTo(405);
        assertThat(h.head().toLowerCase()).contains("allow: get").doesNotContain("sec-websocket-accept");
        assertThat(ConnectTest.parse(h.body()).get("error").asText()).isEqualTo("method_not_allowed");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int i = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
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
