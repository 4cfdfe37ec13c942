package dev.parley.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A WebSocket client for tests, on the JDK's own client: keeps every frame it receives (parsed),
 * lets a test wait for a frame with a deadline, and can stop reading to play a slow consumer.
 */
public final class WsClient implements AutoCloseable {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private final List<JsonNode> frames = new ArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    private volatile WebSocket socket;
    private volatile boolean reading = true;
    private volatile Integer closeCode;
    private volatile String closeReason;
    private volatile Throwable error;

    /** The upgrade was refused with this HTTP status. */
    public static final class Refused extends RuntimeException {
        public final int status;
        /** The refusal's {@code Retry-After} in seconds, or 0 if it had none. */
        public final long retryAfter;

        Refused(int status, long retryAfter) {
            super("upgrade refused with HTTP " + status + (retryAfter > 0 ? ", Retry-After " + retryAfter : ""));
            this.status = status;
            this.retryAfter = retryAfter;
        }
    }

    private WsClient() {}

    public static WsClient connect(URI uri, Map<String, String> headers) {
        return connect(uri, headers, "wss".equals(uri.getScheme()) ? TestTls.get().client() : CLIENT); // wss: the test's own certificate
    }

    /**
     * The same through {@code client}: every socket of one HttpClient is served by its one selector
     * thread, so a test that floods the server from some clients gives them an HttpClient of their
     * own, or the others' frames wait behind the flood in the test itself.
     */
    public static WsClient connect(URI uri, Map<String, String> headers, HttpClient client) {
        WsClient c = new WsClient();
        WebSocket.Builder b = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        headers.forEach(b::header);
        try {
            c.socket = b.buildAsync(uri, c.listener()).get(10, TimeUnit.SECONDS);
            return c;
        } catch (ExecutionException | CompletionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException h) {
                long retryAfter = h.getResponse().headers().firstValue("Retry-After").map(Long::parseLong).orElse(0L);
                throw new Refused(h.getResponse().statusCode(), retryAfter);
            }
            throw new AssertionError("cannot connect to " + uri.getPath(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("cannot connect to " + uri.getPath(), e);
        }
    }

    private WebSocket.Listener listener() {
        return new WebSocket.Listener() {
            @Override
            public void onOpen(WebSocket ws) {
                ws.request(1);
            }

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    String text = partial.toString();
                    partial.setLength(0);
                    JsonNode node;
                    try {
                        node = Http.JSON.readTree(text);
                    } catch (IOException e) {
                        node = Http.JSON.createObjectNode().put("type", "unparseable").put("raw", text);
                    }
                    synchronized (frames) {
                        frames.add(node);
                        frames.notifyAll();
                    }
                }
                if (reading) ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                if (reading) ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                closeCode = statusCode;
                closeReason = reason;
                synchronized (frames) {
                    frames.notifyAll();
                }
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable err) {
                error = err;
                synchronized (frames) {
                    frames.notifyAll();
                }
            }
        };
    }

    public WsClient send(String json) {
        socket.sendText(json, true).join();
        return this;
    }

    /** Sends a frame built from key/value pairs: {@code send("type","join","room","lobby")}. */
    public WsClient send(Object... kv) {
        ObjectNode n = Http.JSON.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) n.set((String) kv[i], Http.JSON.valueToTree(kv[i + 1]));
        return send(n.toString());
    }

    /** Stops asking for frames: the server's writes then back up, as with a client that froze. */
    public void stopReading() {
        reading = false;
    }

    /** Asks for frames again after {@link #stopReading()}: what the server queued meanwhile arrives, then its close if it closed. */
    public void resumeReading() {
        reading = true;
        socket.request(1);
    }

    /** Drops the connection without a closing handshake, as a client that vanishes does. */
    public void abort() {
        socket.abort();
    }

    public List<JsonNode> frames() {
        synchronized (frames) {
            return new ArrayList<>(frames);
        }
    }

    public List<JsonNode> frames(String type) {
        return frames().stream().filter(f -> type.equals(f.path("type").asText())).toList();
    }

    /** Message frames of a room, in arrival order. */
    public List<JsonNode> messages(String room) {
        return frames().stream().filter(f -> "message".equals(f.path("type").asText()) && room.equals(f.path("room").asText())).toList();
    }

    public JsonNode await(Predicate<JsonNode> match, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (frames) {
            int scanned = 0; // frames are only ever appended: look at each once
            while (true) {
                for (; scanned < frames.size(); scanned++) if (match.test(frames.get(scanned))) return frames.get(scanned);
                long left = deadline - System.nanoTime();
                if (left <= 0 || (closeCode != null && !match.test(Http.JSON.createObjectNode()))) {
                    throw new AssertionError("no frame " + what + " within " + timeout + "; close=" + closeCode + " got " + tail());
                }
                try {
                    frames.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }
        }
    }

    /** The first frame of this type (and ref, if given). */
    public JsonNode await(String type, String ref) {
        return await(f -> type.equals(f.path("type").asText()) && (ref == null || ref.equals(f.path("ref").asText())),
                Duration.ofSeconds(10), type + (ref == null ? "" : " ref=" + ref));
    }

    public JsonNode await(String type) {
        return await(type, null);
    }

    /** Waits until the room has {@code n} message frames here. */
    public List<JsonNode> awaitMessages(String room, int n, Duration timeout) {
        Await.until(n + " messages in " + room + " (have " + messages(room).size() + ")", timeout, () -> messages(room).size() >= n);
        return messages(room);
    }

    public int awaitClose(Duration timeout) {
        Await.until("the server to close the connection", timeout, () -> closeCode != null || error != null);
        if (closeCode == null) throw new AssertionError("connection failed without a close frame", error);
        return closeCode;
    }

    public Integer closeCode() {
        return closeCode;
    }

    public String closeReason() {
        return closeReason;
    }

    public boolean isOpen() {
        return closeCode == null && error == null && !socket.isInputClosed();
    }

    private String tail() {
        List<JsonNode> f = frames;
        return f.subList(Math.max(0, f.size() - 5), f.size()).toString();
    }

    @Override
    public void close() {
        try {
            if (!socket.isOutputClosed()) socket.sendClose(1000, "bye").get(2, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // already closed
        }
        socket.abort();
    }
}
