package dev.parley.event;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A message object of PROTOCOL.md 2 as JSON, where it is built as a tree: the HTTP pages (history,
 * search, a post's answer) and a webhook's body. One shape wherever a message appears (FrameCodec
 * writes the same fields into WebSocket frames, straight to bytes, for speed).
 */
public final class MessageJson {
    private MessageJson() {}

    public static JsonObject of(Message m) {
        JsonObject o = new JsonObject().put("type", "message").put("room", m.room()).put("seq", m.seq()).put("id", m.id())
                .put("from", m.from()).put("text", m.text()).put("ts", m.ts()).put("clientId", m.clientId());
        if (m.replyTo() > 0) o.put("replyTo", m.replyTo());
        if (m.bot()) o.put("bot", true);
        if (!m.mentions().isEmpty()) o.put("mentions", new JsonArray(m.mentions()));
        if (m.event() != null) o.put("event", new JsonObject().put("type", m.event().type()).mergeIn(new JsonObject(m.event().json())));
        Message.State st = m.state();
        if (st != null) {
            // As FrameCodec writes them into message frames: one shape wherever a message appears.
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
