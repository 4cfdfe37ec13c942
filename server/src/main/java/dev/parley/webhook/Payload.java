package dev.parley.webhook;

import dev.parley.event.Message;
import dev.parley.event.MessageJson;
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
                .put("seq", m.seq()).put("ts", m.ts()).put("message", MessageJson.of(m));
        return body.encode().getBytes(StandardCharsets.UTF_8);
    }
}
