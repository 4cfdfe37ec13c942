package dev.parley.webhook;

import dev.parley.event.Message;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** A webhook's body carries the message object of PROTOCOL.md 2 in the one shape HTTP pages use, the bot flag included. */
class PayloadTest {
    @Test
    void a_bots_message_is_marked_as_in_history() {
        Message m = new Message("ops", 7, "01ID", "deploybot", "deployed", 1_796_000_000_000L, "c7", null, 3, null, true);
        JsonObject body = new JsonObject(new String(Payload.of("wh1", EventKind.MESSAGE, m), StandardCharsets.UTF_8));
        JsonObject message = body.getJsonObject("message");
        assertThat(message.getBoolean("bot")).isTrue();
        assertThat(message.getLong("replyTo")).isEqualTo(3);
        assertThat(message).isEqualTo(dev.parley.event.MessageJson.of(m));
        assertThat(body.getString("type")).isEqualTo("message");
        assertThat(body.getLong("seq")).isEqualTo(7);
    }
}
