package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** Small vocabulary shared by the WebSocket protocol tests. */
final class Ws {
    /** Generous: the machine is shared and slow at times. */
    static final Duration T = Duration.ofSeconds(20);
    private static final AtomicInteger N = new AtomicInteger();

    private Ws() {}

    /** A room name no other test uses. */
    static String room(String base) {
        return base + "-" + N.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    static String ref(String base) {
        return base + "-" + N.incrementAndGet();
    }

    static JsonNode join(WsClient c, String room) {
        String ref = ref("join");
        c.send("type", "join", "room", room, "ref", ref);
        return c.await(is("joined", ref), T, "joined " + room);
    }

    static JsonNode join(WsClient c, String room, long since) {
        String ref = ref("resume");
        c.send("type", "join", "room", room, "since", since, "ref", ref);
        return c.await(is("joined", ref), T, "joined " + room + " since " + since);
    }

    /** Sends one message and waits for its ack. */
    static JsonNode send(WsClient c, String room, String text, String clientId) {
        String ref = ref("send");
        c.send("type", "send", "room", room, "text", text, "clientId", clientId, "ref", ref);
        return c.await(is("ack", ref), T, "ack of " + clientId);
    }

    /** Proves the connection still works: a ping gets its pong. */
    static void alive(WsClient c) {
        String ref = ref("ping");
        c.send("type", "ping", "ref", ref);
        c.await(is("pong", ref), T, "pong " + ref);
    }

    static Predicate<JsonNode> is(String type) {
        return f -> type.equals(f.path("type").asText());
    }

    static Predicate<JsonNode> is(String type, String ref) {
        return f -> type.equals(f.path("type").asText()) && ref.equals(f.path("ref").asText());
    }

    static Predicate<JsonNode> presence(String room, String user, String status) {
        return f -> "presence".equals(f.path("type").asText()) && room.equals(f.path("room").asText())
                && user.equals(f.path("user").asText()) && status.equals(f.path("status").asText());
    }

    static List<Long> seqs(List<JsonNode> messages) {
        List<Long> out = new ArrayList<>(messages.size());
        for (JsonNode m : messages) out.add(m.get("seq").asLong());
        return out;
    }

    /** The room's whole history over HTTP, paged backwards from the newest, ascending. */
    static List<JsonNode> history(ParleyServer server, String token, String room) {
        List<JsonNode> out = new ArrayList<>();
        String query = "?limit=100";
        while (true) {
            JsonNode page = server.http().get("/api/rooms/" + room + "/messages" + query, token).json();
            List<JsonNode> messages = new ArrayList<>();
            page.get("messages").forEach(messages::add);
            out.addAll(0, messages);
            if (!page.get("hasMore").asBoolean()) return out;
            query = "?limit=100&before=" + messages.get(0).get("seq").asLong();
        }
    }
}
