package dev.parley.ws;

import dev.parley.auth.TokenService;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The closing handshake of every close the server starts (RFC 6455 section 7.1.1): once the client
 * has answered the server's close frame, the server ends the TCP connection, and the client sees the
 * end of the stream at once. A client library (Python's websockets, for one) waits for that end
 * before it reports the close, so a server that kept the connection until its own closing timeout
 * (10 s) made every such client wait 10 s. The 4002 close is in {@link SlowConsumerTest}.
 */
class ClosingHandshakeTest {
    /**
     * How long the client waits for the end of the stream after answering: a failure condition only,
     * well under the server's closing timeout (10 s), which would end the connection anyway.
     */
    static final Duration WELL_UNDER_THE_CLOSING_TIMEOUT = Duration.ofSeconds(3);

    private static final TokenService TOKENS = TokenService.hs256(ParleyServer.SECRET, Duration.ofHours(1));

    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    /**
     * Reads up to the server's close frame, which must carry {@code code}, answers it as a client
     * must (echoing the code), and expects the server to end the TCP connection. No frame may follow
     * the close frame either (RFC 6455 section 5.5.1): one would be returned here instead of the end.
     */
    static void answerTheCloseAndSeeTheEnd(RawWebSocket ws, int code) {
        RawWebSocket.Frame close = ws.readUntilClosed(Ws.T);
        assertThat(close).as("a close frame").isNotNull();
        assertThat(close.closeCode()).isEqualTo(code);

        ws.send(RawWebSocket.CLOSE, Arrays.copyOf(close.payload(), 2));

        assertThat(ws.read(WELL_UNDER_THE_CLOSING_TIMEOUT)).as("the end of the TCP stream, and nothing before it").isNull();
    }

    @Test
    void a_frame_over_the_limit_closes_with_1009_and_the_answer_ends_the_connection() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), server.newUser("oversized"))) {
            ws.sendText("{\"type\":\"ping\",\"pad\":\"" + "p".repeat(20_000) + "\"}");

            answerTheCloseAndSeeTheEnd(ws, 1009);
        }
    }

    @Test
    void a_message_over_the_limit_in_fragments_closes_with_1009_and_the_answer_ends_the_connection() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), server.newUser("fragments"))) {
            ws.send(RawWebSocket.TEXT, bytes("{\"type\":\"ping\",\"pad\":\"" + "p".repeat(10_000)), false);
            ws.send(0, bytes("p".repeat(10_000) + "\"}"), true);

            answerTheCloseAndSeeTheEnd(ws, 1009);
        }
    }

    @Test
    void a_protocol_violation_closes_with_1002_and_the_answer_ends_the_connection() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), server.newUser("unmasked"))) {
            ws.send(RawWebSocket.TEXT, bytes("{\"type\":\"ping\"}"), true, false);

            answerTheCloseAndSeeTheEnd(ws, 1002);
        }
    }

    @Test
    void text_that_is_not_utf8_closes_with_1007_and_the_answer_ends_the_connection() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), server.newUser("latin1"))) {
            ws.send(RawWebSocket.TEXT, new byte[]{'"', (byte) 0xC3, 0x28, '"'});

            answerTheCloseAndSeeTheEnd(ws, 1007);
        }
    }

    @Test
    void repeated_invalid_frames_close_with_1008_and_the_answer_ends_the_connection() {
        try (RawWebSocket ws = RawWebSocket.open(server.port(), server.newUser("abusive"))) {
            for (int i = 0; i <= 100; i++) ws.sendText("{\"type\":\"dance\"}");

            answerTheCloseAndSeeTheEnd(ws, 1008);
        }
    }

    @Test
    void sending_into_the_rate_limit_closes_with_4029_and_the_answer_ends_the_connection() {
        String room = Ws.room("closing-4029");
        try (RawWebSocket ws = RawWebSocket.open(server.port(), server.newUser("spammer"))) {
            ws.sendText("{\"type\":\"join\",\"room\":\"" + room + "\",\"ref\":\"j\"}");
            assertThat(ws.readText(Ws.T).text()).contains("\"joined\"");
            for (int i = 1; i <= 200; i++) {
                ws.sendText("{\"type\":\"send\",\"room\":\"" + room + "\",\"text\":\"spam\",\"clientId\":\"s" + i + "\"}");
            }

            answerTheCloseAndSeeTheEnd(ws, 4029);
        }
    }

    @Test
    void an_expired_token_closes_with_4001_and_the_answer_ends_the_connection() {
        String user = ParleyServer.unique("expiring");
        server.http().register(user);
        String token = TOKENS.issue(user, Instant.now().plusSeconds(2)).token();
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            answerTheCloseAndSeeTheEnd(ws, 4001);
        }
    }

    @Test
    void a_revoked_token_closes_with_4003_and_the_answer_ends_the_connection() {
        String token = server.newUser("revoked");
        try (RawWebSocket ws = RawWebSocket.open(server.port(), token)) {
            ws.sendText("{\"type\":\"ping\",\"ref\":\"p\"}");
            assertThat(ws.readText(Ws.T).text()).contains("\"pong\"");

            assertThat(server.http().request("POST", "/api/auth/logout", token, null).status()).isEqualTo(204);

            answerTheCloseAndSeeTheEnd(ws, 4003);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
