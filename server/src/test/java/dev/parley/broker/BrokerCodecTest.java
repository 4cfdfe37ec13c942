package dev.parley.broker;

import dev.parley.event.RoomEvent;
import dev.parley.event.Message;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BrokerCodecTest {
    private static final RoomEvent MESSAGE = new RoomEvent.MessageCommitted(
            new Message("lobby", 42, "01HX", "alice", "héllo 𝄞", 1_700_000_000_123L, "c-1"));

    @Test
    void an_event_decodes_to_what_was_encoded_with_its_origin() {
        BrokerCodec.Decoded d = BrokerCodec.decode(BrokerCodec.encode("n1#abc", MESSAGE));
        assertThat(d.origin()).isEqualTo("n1#abc");
        Message m = ((RoomEvent.MessageCommitted) d.event()).message();
        assertThat(m.toString()).isEqualTo(((RoomEvent.MessageCommitted) MESSAGE).message().toString());
        assertThat(m.text()).isEqualTo("héllo 𝄞");
        assertThat(m.tsMillis()).isEqualTo(1_700_000_000_123L);
        assertThat(m.clientId()).isEqualTo("c-1");
    }

    @Test
    void every_truncation_and_trailing_garbage_is_refused_not_misread() {
        byte[] bytes = BrokerCodec.encode("n1", MESSAGE);
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThatThrownBy(() -> BrokerCodec.decode(cut)).as("first %d bytes", n).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> BrokerCodec.decode(Arrays.copyOf(bytes, bytes.length + 1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void an_event_of_another_version_is_refused() {
        byte[] bytes = BrokerCodec.encode("n1", new RoomEvent.Typing("lobby", "bob"));
        bytes[0] = 2;
        assertThatThrownBy(() -> BrokerCodec.decode(bytes)).hasMessageContaining("version 2");
    }
}
