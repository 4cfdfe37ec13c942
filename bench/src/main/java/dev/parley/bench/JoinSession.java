package dev.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One user's WebSocket for {@code bench query}'s joins with {@code since}: a join, the wait for its
 * {@code joined} and for the replay up to the room's last seq, then a leave (so that the next join
 * of the room replays again). Used by one thread at a time. This is the JDK's WebSocket and Jackson,
 * not {@link BenchConnection}'s raw frames: a few hundred joins need no allocation-free path, and
 * their frames are read whole.
 */
final class JoinSession implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode CLOSED = JSON.createObjectNode().put("type", "closed");
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    private final WebSocket ws;
    private int refs;

    /** What a join with since got: {@code messages} replayed, the lowest and highest of their seqs. */
    record Replay(long lastSeq, boolean recovered, long messages, long firstSeq, long highestSeq) {}

    JoinSession(HttpClient http, Target target, String token) {
        this.ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + token).connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create("ws://" + target.hostHeader() + "/ws"), new Frames(frames)).orTimeout(15, TimeUnit.SECONDS).join();
    }

    /**
     * Joins {@code room} with {@code since} and returns once its {@code joined} came and the replay
     * reached the {@code lastSeq} it gave (or at once when there is nothing to replay).
     *
     * @throws IllegalStateException on an error frame for the join, a closed socket, or 30 s without the end
     */
    Replay joinSince(String room, long since) throws InterruptedException {
        String ref = "j" + ++refs;
        send("{\"type\":\"join\",\"room\":" + quote(room) + ",\"since\":" + since + ",\"ref\":\"" + ref + "\"}");
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        long lastSeq = -1, count = 0, first = 0, highest = since;
        boolean recovered = false;
        while (lastSeq < 0 || highest < lastSeq) {
            JsonNode f = next(deadline, "the joined frame and the replay of " + room);
            String type = f.path("type").asText();
            if (type.equals("joined") && ref.equals(f.path("ref").asText())) {
                lastSeq = f.path("lastSeq").asLong();
                recovered = f.path("recovered").asBoolean();
            } else if (type.equals("message") && room.equals(f.path("room").asText())) {
                long seq = f.path("seq").asLong();
                if (count++ == 0) first = seq;
                highest = Math.max(highest, seq);
            } else if (type.equals("error") && ref.equals(f.path("ref").asText())) {
                throw new IllegalStateException("join " + room + ": " + f);
            }
        }
        return new Replay(lastSeq, recovered, count, first, highest);
    }

    /** Sends a message to a room this session has joined and returns the seq of its {@code ack}. */
    long send(String room, String text, String clientId) throws InterruptedException {
        String ref = "s" + ++refs;
        send("{\"type\":\"send\",\"room\":" + quote(room) + ",\"text\":" + quote(text) + ",\"clientId\":" + quote(clientId) + ",\"ref\":\"" + ref + "\"}");
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            JsonNode f = next(deadline, "the ack in " + room);
            if (ref.equals(f.path("ref").asText())) {
                if (f.path("type").asText().equals("ack")) return f.path("seq").asLong();
                throw new IllegalStateException("send " + room + ": " + f);
            }
        }
    }

    /** Leaves the room and waits for {@code left}. */
    void leave(String room) throws InterruptedException {
        String ref = "l" + ++refs;
        send("{\"type\":\"leave\",\"room\":" + quote(room) + ",\"ref\":\"" + ref + "\"}");
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            JsonNode f = next(deadline, "left " + room);
            if (ref.equals(f.path("ref").asText())) {
                if (f.path("type").asText().equals("left")) return;
                throw new IllegalStateException("leave " + room + ": " + f);
            }
        }
    }

    private JsonNode next(long deadline, String what) throws InterruptedException {
        JsonNode f = frames.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (f == null) throw new IllegalStateException("timed out waiting for " + what);
        if (f == CLOSED) throw new IllegalStateException("the WebSocket closed while waiting for " + what);
        return f;
    }

    private void send(String frame) {
        ws.sendText(frame, true).orTimeout(10, TimeUnit.SECONDS).join();
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> null).join();
        ws.abort();
    }

    /** Puts each whole text frame, parsed, on the queue; a close or an error puts {@link #CLOSED}. */
    private static final class Frames implements WebSocket.Listener {
        private final BlockingQueue<JsonNode> frames;
        private final StringBuilder text = new StringBuilder();

        Frames(BlockingQueue<JsonNode> frames) {
            this.frames = frames;
        }

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    frames.add(JSON.readTree(text.toString()));
                } catch (IOException e) {
                    frames.add(JSON.createObjectNode().put("type", "unreadable").put("text", text.toString()));
                }
                text.setLength(0);
            }
            w.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int status, String reason) {
            frames.add(CLOSED);
            return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
            frames.add(CLOSED);
        }
    }
}
