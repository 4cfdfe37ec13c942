package dev.parley.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * A Parley server, as its HTTP API (PROTOCOL.md section 3) and its WebSocket (sections 5 to 11) see
 * it. The HTTP calls block and answer what the server said, or throw a {@link ParleyException} with
 * its error code; {@link #connect} opens the WebSocket, which keeps itself up.
 *
 * <pre>{@code
 * ParleyClient parley = new ParleyClient("http://localhost:8080");
 * Session alice = parley.login("alice", password);
 * Connection ws = parley.connect(TokenSource.relogin(parley, alice, password), event -> {
 *     if (event instanceof Event.Message m) System.out.println(m.from() + ": " + m.text());
 * });
 * ws.join("lobby").join();
 * ws.send("lobby", "hello").join();   // completes with the ack: stored for good
 * }</pre>
 *
 * A token is a {@link Session}'s, or a bot's API key ({@code pk_...}), which the HTTP API takes
 * within its scope and the WebSocket does not. Thread-safe; one instance per server is enough.
 */
public final class ParleyClient {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String base;
    private final HttpClient http;

    /** @param baseUrl the server's {@code http://} or {@code https://} address, as a browser opens it */
    public ParleyClient(String baseUrl) {
        this(baseUrl, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build());
    }

    /**
     * The same on an HttpClient of the caller's (its executor, proxy, TLS settings). Note that the
     * JDK's HttpClient completes what it answers through CompletableFuture's default executor, the
     * common pool: a program that keeps the common pool's threads busy or blocked delays every
     * answer, WebSocket handshakes included, until their deadline.
     */
    public ParleyClient(String baseUrl, HttpClient http) {
        String url = requireNonNull(baseUrl, "baseUrl").trim();
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new IllegalArgumentException("baseUrl: " + baseUrl + " (expected: http://host:port or https://host)");
        }
        this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        this.http = requireNonNull(http, "http");
    }

    public String baseUrl() {
        return base;
    }

    HttpClient http() {
        return http;
    }

    /** The WebSocket's address: {@code ws://} or {@code wss://}, path {@code /ws}. */
    public URI webSocketUri() {
        return URI.create(base.replaceFirst("^http", "ws") + "/ws");
    }

    // --- accounts (PROTOCOL.md 3.2) ---

    /** {@code POST /api/auth/register}: a new account, signed in. 409 ({@code conflict}) if the name is taken. */
    public Session register(String username, String password) throws IOException, InterruptedException {
        return session(post("/api/auth/register", null, credentials(username, password)));
    }

    /** {@code POST /api/auth/login}. 401 ({@code unauthorized}) for a wrong password; 429 with a Retry-After past the attempts. */
    public Session login(String username, String password) throws IOException, InterruptedException {
        return session(post("/api/auth/login", null, credentials(username, password)));
    }

    /** Registers, or logs in if the name is taken already: for test and load users, whose password is known. */
    public Session registerOrLogin(String username, String password) throws IOException, InterruptedException {
        try {
            return register(username, password);
        } catch (ParleyException e) {
            if (e.status() != 409) throw e;
            return login(username, password);
        }
    }

    private static String credentials(String username, String password) {
        return Frames.JSON.createObjectNode().put("username", username).put("password", password).toString();
    }

    private static Session session(JsonNode body) {
        String expires = body.path("expiresAt").asText(null);
        return new Session(body.path("token").asText(), body.path("username").asText(), expires == null ? null : Instant.parse(expires));
    }

    // --- messages (PROTOCOL.md 3.3 and 3.8) ---

    /**
     * {@code GET /api/rooms/{room}/messages}: the newest {@code limit} (1 to 100) messages before seq
     * {@code before}, or the newest of all with {@code before} 0. 404 for a room the token may not read.
     */
    public Event.History messagesBefore(String token, String room, long before, int limit) throws IOException, InterruptedException {
        return Frames.page(get(token, "/api/rooms/" + path(room) + "/messages?limit=" + limit + (before > 0 ? "&before=" + before : "")), null);
    }

    /** The same forwards: the oldest {@code limit} messages after seq {@code after} (0: from the room's start). */
    public Event.History messagesAfter(String token, String room, long after, int limit) throws IOException, InterruptedException {
        return Frames.page(get(token, "/api/rooms/" + path(room) + "/messages?limit=" + limit + "&after=" + after), null);
    }

    /**
     * {@code POST /api/rooms/{room}/messages}: posts without a WebSocket, as a bot does with its key
     * (scope {@code post}); answered once stored, with the ack. Retrying with the same {@code clientId}
     * stores nothing more and answers the first ack.
     */
    public Event.Ack post(String token, String room, String text, String clientId) throws IOException, InterruptedException {
        String body = Frames.JSON.createObjectNode().put("text", text).put("clientId", clientId).toString();
        return Frames.ack(post("/api/rooms/" + path(room) + "/messages", token, body));
    }

    // --- the WebSocket ---

    /**
     * Opens the WebSocket and keeps it open until {@link Connection#close()}: reconnecting after a
     * drop as PROTOCOL.md 10 says, joining its rooms again with {@code since} and re-sending what was
     * not acknowledged. {@code listener} gets every {@link Event}, in order, on the connection's own
     * thread: it must return quickly and never wait there for a future of the same connection.
     */
    public Connection connect(TokenSource tokens, Consumer<Event> listener) {
        Connection c = new Connection(this, requireNonNull(tokens, "tokens"), requireNonNull(listener, "listener"));
        c.start();
        return c;
    }

    // --- HTTP ---

    private JsonNode get(String token, String pathAndQuery) throws IOException, InterruptedException {
        return answer(http.send(request(pathAndQuery, token).GET().build(), HttpResponse.BodyHandlers.ofString()));
    }

    private JsonNode post(String path, String token, String json) throws IOException, InterruptedException {
        HttpRequest.Builder r = request(path, token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        return answer(http.send(r.build(), HttpResponse.BodyHandlers.ofString()));
    }

    private HttpRequest.Builder request(String pathAndQuery, String token) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(TIMEOUT);
        if (token != null) r.header("Authorization", "Bearer " + token);
        return r;
    }

    /** The body of a 2xx; else the error body of PROTOCOL.md 3.1 as a ParleyException. */
    private static JsonNode answer(HttpResponse<String> r) throws IOException {
        JsonNode body;
        try {
            body = r.body().isEmpty() ? Frames.JSON.createObjectNode() : Frames.JSON.readTree(r.body());
        } catch (IOException e) {
            body = null;
        }
        if (r.statusCode() / 100 == 2) {
            if (body == null) throw new IOException("HTTP " + r.statusCode() + " with a body that is not JSON: " + r.uri());
            return body;
        }
        ObjectNode none = Frames.JSON.createObjectNode();
        JsonNode error = body == null ? none : body;
        long retryAfter = r.headers().firstValue("Retry-After").map(ParleyClient::seconds).orElse(0L);
        throw new ParleyException(r.statusCode(), error.path("error").asText("http_" + r.statusCode()),
                error.path("message").asText("HTTP " + r.statusCode()), retryAfter);
    }

    /** A Retry-After in whole seconds; 0 for one that is not (an HTTP date: the caller's back-off decides). */
    static long seconds(String retryAfter) {
        try {
            return Math.max(0, Math.min(3_600, Long.parseLong(retryAfter.trim())));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
