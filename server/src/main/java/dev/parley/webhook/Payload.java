package dev.parley.webhook;

import dev.parley.event.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * The body of one delivery (PROTOCOL.md, webhooks): the event's id (for the receiver to drop a
 * delivery it has had: deliveries are at least once), its kind, room, seq and time, and the message
 * object of PROTOCOL.md 2 as the store holds it when it is delivered.
 */
final class Payload {
    private Payload() {}

    static byte[] of(String webhook, EventKind kind, Message m) {
        JsonObject body = new JsonObject().put("id", m.id()).put("webhook", webhook).put("type", kind.wire()).put("room", m.room())
                .put("seq", m.seq()).put("ts", m.ts()).put("message", message(m));
        return body.encode().getBytes(StandardCharsets.UTF_8);
    }

    /** A message object, as HTTP pages carry it (http.ApiRoutes.messageJson: one shape wherever a message appears). */
    private static JsonObject message(Message m) {
        JsonObject o = new JsonObject().put("type", "message").put("room", m.room()).put("seq", m.seq()).put("id", m.id())
                .put("from", m.from()).put("text", m.text()).put("ts", m.ts()).put("clientId", m.clientId());
        if (m.replyTo() > 0) o.put("replyTo", m.replyTo());
        if (!m.mentions().isEmpty()) o.put("mentions", new JsonArray(m.mentions()));
        if (m.event() != null) o.put("event", new JsonObject().put("type", m.event().type()).mergeIn(new JsonObject(m.event().json())));
        Message.State st = m.state();
        if (st != null) {
            if (st.editedAt() > 0) o.put("editedAt", Message.formatTs(st.editedAt()));
            if (st.deleted()) o.put("deleted", true);
            if (!st.reactions().isEmpty()) {
                JsonArray reactions = new JsonArray();
                for (Message.Reaction r : st.reactions()) {
                    reactions.add(new JsonObject().put("emoji", r.emoji()).put("count", r.count()).put("users", new JsonArray(r.users())));
                }
                o.put("reactions", reactions);
            }
            if (st.lastChange() > 0) o.put("lastChange", st.lastChange());
        }
        return o;
    }
}
