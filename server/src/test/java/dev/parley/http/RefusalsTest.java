package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.1 and 8: every refusal of an HTTP request, wherever it is made (a route, the router,
 * Vert.x's request decoder), has the error body, and its code is the one of its status.
 */
class RefusalsTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    /** A status line, the headers (lowercase) and the body, read until the server closes or the body ends. */
    record Answer(int status, String head, String body) {
        JsonNode json() {
            return new Http.Response(status, body).json();
        }

        String code() {
            return json().get("error").asText();
        }
    }

    @Test
    void a_path_nothing_serves_is_404_not_found() {
        Answer file = send("GET /no-such-page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Answer api = send("GET /api/no-such-route HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
                + server.newUser("lost") + "\r\n\r\n");

        assertThat(file.status()).isEqualTo(404);
        assertThat(file.code()).isEqualTo("not_found");
        assertThat(api.status()).isEqualTo(404);
        assertThat(api.code()).isEqualTo("not_found");
    }

    @Test
    void a_method_a_path_does_not_take_is_405_method_not_allowed_with_the_methods_it_takes() {
        Answer health = send("POST /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        // Whoever asks: without a token too, since the method is wrong whatever the token.
        Answer rooms = send("PUT /api/rooms HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        Answer login = send("GET /api/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Answer messages = send("DELETE /api/rooms/general/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        for (Answer a : new Answer[] {health, rooms, login, messages}) {
            assertThat(a.status()).as(a.head()).isEqualTo(405);
            assertThat(a.code()).isEqualTo("method_not_allowed");
        }
        assertThat(health.head()).contains("\r\nallow: get, head\r\n");
        assertThat(rooms.head()).contains("\r\nallow: get, head, post\r\n");
        assertThat(login.head()).contains("\r\nallow: post\r\n");
        assertThat(messages.head()).contains("\r\nallow: get, head, post\r\n");
    }

    @Test
    void head_on_an_api_route_answers_like_get_without_a_body() {
        String token = server.newUser("header");
        Answer head = send("HEAD /api/rooms HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + token + "\r\n\r\n");

        assertThat(head.status()).isEqualTo(200);
        assertThat(head.head()).contains("content-type: application/json");
        assertThat(head.body()).isEmpty();
    }

    @Test
    void a_body_over_16_kib_is_413_too_large() {
        String body = "{\"username\":\"" + "x".repeat(17 * 1024) + "\",\"password\":\"long enough\"}";
        Answer a = send("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body);

        assertThat(a.status()).isEqualTo(413);
        assertThat(a.code()).isEqualTo("too_large");
    }

    @Test
    void a_request_line_too_long_is_414_uri_too_long() {
        Answer a = send("GET /api/rooms?x=" + "a".repeat(8 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n");

        assertThat(a.status()).isEqualTo(414);
        assertThat(a.code()).isEqualTo("uri_too_long");
    }

    @Test
    void headers_too_large_are_431_headers_too_large() {
        Answer a = send("GET /api/rooms HTTP/1.1\r\nHost: x\r\nX-Padding: " + "b".repeat(16 * 1024) + "\r\n\r\n");

        assertThat(a.status()).isEqualTo(431);
        assertThat(a.code()).isEqualTo("headers_too_large");
    }

    @Test
    void a_request_that_is_not_http_is_400_bad_request() {
        Answer a = send("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: not-a-number\r\n\r\n");

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.code()).isEqualTo("bad_request");
    }

    /** Writes the request as it is on a socket of its own and reads the answer. */
    private static Answer send(String request) {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            String head = readHead(in);
            int status = Integer.parseInt(head.substring(9, 12));
            String lower = head.toLowerCase(Locale.ROOT);
            int at = lower.indexOf("\r\ncontent-length: ");
            // A HEAD answer is read to the end of the connection (the requests say Connection: close):
            // whatever the server sent after the head, a body it should not have sent included.
            if (request.startsWith("HEAD ")) return new Answer(status, lower, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            int length = at < 0 ? 0 : Integer.parseInt(lower.substring(at + 18, lower.indexOf("\r\n", at + 2)).trim());
            return new Answer(status, lower, new String(in.readNBytes(length), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError(request.lines().findFirst().orElse(""), e);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) throw new IOException("closed after " + head);
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
