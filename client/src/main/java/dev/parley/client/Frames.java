package dev.parley.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The frames of PROTOCOL.md sections 6 and 7 as JSON: the client's frames written, the server's read
 * into {@link Event}s. The one place this library meets the wire's field names. Lenient as the
 * protocol asks: unknown fields are ignored, a missing one reads as empty (or -1 for a number).
 */
final class Frames {
    static final ObjectMapper JSON = new ObjectMapper();

    private Frames() {}

    // --- the client's frames ---

    static String join(String room, long since, String ref) {
        ObjectNode f = frame("join", ref).put("room", room);
        if (since >= 0) f.put("since", since);
        return f.toString();
    }

    static String leave(String room, String ref) {
        return frame("leave", ref).put("room", room).toString();
    }

    static String send(String room, String text, String clientId, String ref) {
        return frame("send", ref).put("room", room).put("text", text).put("clientId", clientId).toString();
    }

    static String history(String room, long before, int limit, String ref) {
        ObjectNode f = frame("history", ref).put("room", room).put("limit", limit);
        if (before > 0) f.put("before", before);
        return f.toString();
    }

    static String read(String room, long seq, String ref) {
        return frame("read", ref).put("room", room).put("seq", seq).toString();
    }

    static String typing(String room) {
        return frame("typing", null).put("room", room).toString();
    }

    static String ping(String ref) {
        return frame("ping", ref).toString();
    }

    private static ObjectNode frame(String type, String ref) {
        ObjectNode f = JSON.createObjectNode().put("type", type);
        if (ref != null) f.put("ref", ref);
        return f;
    }

    // --- the server's frames ---

    /** One text frame of the server, whole. A frame that is not a JSON object is an {@link Event.Other} of type "unreadable". */
    static Event decode(String text) {
        JsonNode f;
        try {
            f = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            f = null;
        }
        if (f == null || !f.isObject()) return new Event.Other("unreadable", JSON.createObjectNode().put("text", text));
        return decode(f);
    }

    static Event decode(JsonNode f) {
        String type = f.path("type").asText();
        String room = text(f, "room");
        String ref = text(f, "ref");
        return switch (type) {
            case "message" -> message(f);
            case "ack" -> ack(f);
            case "joined" -> new Event.Joined(room, f.path("lastSeq").asLong(0), f.path("online").asInt(0), strings(f.path("members")),
                    f.path("recovered").asBoolean(true), f.path("readSeq").asLong(-1), f.path("historyStart").asLong(1), ref);
            case "left" -> new Event.Left(room, text(f, "reason"), ref);
            case "presence" -> new Event.Presence(room, text(f, "user"), "online".equals(f.path("status").asText()));
            case "presence_summary" -> new Event.PresenceSummary(room, f.path("online").asInt(0), strings(f.path("joined")),
                    strings(f.path("left")), f.path("more").asInt(0));
            case "typing" -> new Event.Typing(room, text(f, "user"));
            case "history" -> page(f, ref);
            case "read" -> new Event.Read(room, f.path("seq").asLong(-1), f.path("lastSeq").asLong(-1), f.path("unread").asLong(0),
                    f.path("mentions").asLong(0), ref);
            case "pong" -> new Event.Pong(ref);
            case "error" -> new Event.Error(f.path("code").asText(""), f.path("message").asText(""), ref);
            default -> new Event.Other(type, f);
        };
    }

    static Event.Message message(JsonNode m) {
        JsonNode event = m.path("event");
        return new Event.Message(text(m, "room"), m.path("seq").asLong(-1), text(m, "id"), m.path("from").asText(""),
                m.path("text").asText(""), instant(m), text(m, "clientId"), m.path("bot").asBoolean(false),
                event.isObject() ? event.path("type").asText("event") : null, m);
    }

    static Event.Ack ack(JsonNode f) {
        return new Event.Ack(text(f, "room"), text(f, "clientId"), f.path("seq").asLong(-1), text(f, "id"), instant(f), text(f, "ref"));
    }

    /** A {@code history} frame, or an HTTP page of messages (same fields, no ref). */
    static Event.History page(JsonNode f, String ref) {
        List<Event.Message> messages = new ArrayList<>();
        for (JsonNode m : f.path("messages")) messages.add(message(m));
        return new Event.History(text(f, "room"), List.copyOf(messages), f.path("hasMore").asBoolean(false),
                f.path("historyStart").asLong(1), ref);
    }

    private static String text(JsonNode f, String field) {
        JsonNode v = f.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        for (JsonNode s : array) out.add(s.asText());
        return List.copyOf(out);
    }

    private static Instant instant(JsonNode f) {
        String ts = text(f, "ts");
        if (ts == null) return null;
        try {
            return Instant.parse(ts);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
