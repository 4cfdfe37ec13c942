package dev.parley.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small JSON-over-HTTP client for tests. */
public final class Http {
    public static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String base;

    public Http(String base) {
        this.base = base;
    }

    public record Response(int status, String body, java.net.http.HttpHeaders headers) {
        public Response(int status, String body) {
            this(status, body, java.net.http.HttpHeaders.of(java.util.Map.of(), (a, b) -> true));
        }

        /** The first value of a header, by name in any case. */
        public java.util.Optional<String> header(String name) {
            return headers.firstValue(name);
        }

        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    public Response get(String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(15)).GET();
        if (token != null) b.header("Authorization", "Bearer " + token);
        return send(b.build());
    }

    public Response post(String path, String json) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(15))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** Any method, with a bearer token and a JSON body when not null. */
    public Response request(String method, String path, String token, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(15))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) b.header("Content-Type", "application/json");
        if (token != null) b.header("Authorization", "Bearer " + token);
        return send(b.build());
    }

    public static Response send(HttpRequest request) {
        try {
            // https: the test's own certificate (nginx in front of nodes), trusted by a client of its own.
            HttpClient client = "https".equals(request.uri().getScheme()) ? TestTls.get().client() : CLIENT;
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body(), r.headers());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Registers the user (password "password-<name>") and returns the token. */
    public String register(String username) {
        Response r = post("/api/auth/register", "{\"username\":\"" + username + "\",\"password\":\"password-" + username + "\"}");
        if (r.status() != 201) throw new AssertionError("register " + username + ": " + r.status() + " " + r.body());
        return r.json().get("token").asText();
    }

    public String login(String username) {
        Response r = post("/api/auth/login", "{\"username\":\"" + username + "\",\"password\":\"password-" + username + "\"}");
        if (r.status() != 200) throw new AssertionError("login " + username + ": " + r.status() + " " + r.body());
        return r.json().get("token").asText();
    }
}
