package dev.parley.ws;

import dev.parley.event.Message;
import dev.parley.event.Notice;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** What goes to many connections is encoded once, and what is encoded is a complete text frame. */
class FrameCodecTest {
    @Test
    void a_message_is_encoded_once_for_all_its_recipients() {
        Message m = new Message("lobby", 7, "01ID", "alice", "hi \"there\"", 0, "c1");
        ByteBuf first = FrameCodec.message(m);
        assertThat(FrameCodec.message(m)).isSameAs(first);
        assertThat(payload(first)).isEqualTo("{\"type\":\"message\",\"room\":\"lobby\",\"seq\":7,\"id\":\"01ID\",\"from\":\"alice\","
                + "\"text\":\"hi \\\"there\\\"\",\"ts\":\"1970-01-01T00:00:00.000Z\",\"clientId\":\"c1\"}");
    }

    @Test
    void a_typing_or_presence_notice_is_encoded_once_for_all_its_recipients() {
        Notice typing = new Notice(Notice.Kind.TYPING, "lobby", "bob");
        Notice offline = new Notice(Notice.Kind.OFFLINE, "lobby", "bob");
        assertThat(FrameCodec.notice(typing)).isSameAs(FrameCodec.notice(typing));
        assertThat(payload(FrameCodec.notice(typing))).isEqualTo("{\"type\":\"typing\",\"room\":\"lobby\",\"user\":\"bob\"}");
        assertThat(payload(FrameCodec.notice(offline)))
                .isEqualTo("{\"type\":\"presence\",\"room\":\"lobby\",\"user\":\"bob\",\"status\":\"offline\"}");
    }

    /** The JSON of a whole, unmasked, unfragmented text frame; reading a duplicate leaves the shared buffer as it was. */
    private static String payload(ByteBuf shared) {
        ByteBuf f = shared.duplicate();
        assertThat((int) f.readUnsignedByte()).as("FIN + text opcode").isEqualTo(0x81);
        int len = f.readUnsignedByte();
        if (len == 126) len = f.readUnsignedShort();
        assertThat(f.readableBytes()).isEqualTo(len);
        return f.toString(StandardCharsets.UTF_8);
    }
}
