package dev.parley.broker;

import dev.parley.event.Message;
import dev.parley.event.RoomChange;
import dev.parley.event.RoomEvent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BrokerCodecTest {
    private static final byte[] KEY = "the cluster key of this test: 32+ bytes".getBytes(StandardCharsets.UTF_8);
    private static final BrokerCodec CODEC = new BrokerCodec(KEY);
    private static final RoomEvent MESSAGE = new RoomEvent.MessageCommitted(
            new Message("lobby", 42, "01HX", "alice", "héllo 𝄞", 1_700_000_000_123L, "c-1"));

    @Test
    void an_event_decodes_to_what_was_encoded_with_its_origin() {
        BrokerCodec.Decoded d = CODEC.decode(CODEC.encode("n1#abc", MESSAGE));
        assertThat(d.origin()).isEqualTo("n1#abc");
        Message m = ((RoomEvent.MessageCommitted) d.event()).message();
        assertThat(m.toString()).isEqualTo(((RoomEvent.MessageCommitted) MESSAGE).message().toString());
        assertThat(m.text()).isEqualTo("héllo 𝄞");
        assertThat(m.tsMillis()).isEqualTo(1_700_000_000_123L);
        assertThat(m.clientId()).isEqualTo("c-1");
    }

    @Test
    void every_kind_of_event_is_signed_and_verified_by_a_node_with_the_same_key() {
        BrokerCodec otherNode = new BrokerCodec(KEY.clone());
        RoomChange banned = RoomChange.of(RoomChange.BANNED, "bob", "alice");
        List<RoomEvent> events = List.of(MESSAGE,
                new RoomEvent.MessageCommitted(new Message("ops", 7, "01HY", "alice", "alice banned bob", 1_700_000_000_456L, "event-01HY", banned)),
                new RoomEvent.Typing("lobby", "bob"),
                new RoomEvent.PresenceChanged("lobby", "carol", true));
        for (RoomEvent e : events) {
            byte[] record = CODEC.encode("n1", e);
            assertThat(record[0]).isEqualTo(BrokerCodec.VERSION);
            assertThat(otherNode.decode(record).event()).as(e.toString()).hasToString(e.toString());
        }
    }

    @Test
    void a_reply_keeps_its_replyTo_and_the_changes_of_a_message_keep_their_fields() {
        Message reply = new Message("lobby", 43, "01HZ", "bob", "yes", 1_700_000_000_500L, "c-2", null, 42, null);
        Message m = ((RoomEvent.MessageCommitted) CODEC.decode(CODEC.encode("n1", new RoomEvent.MessageCommitted(reply))).event()).message();
        assertThat(m.replyTo()).isEqualTo(42);
        assertThat(m.event()).isNull();
        for (RoomChange change : List.of(RoomChange.edited(42, "new text"), RoomChange.edited(42, null), RoomChange.deleted(42, "alice"),
                RoomChange.reaction(42, "\uD83D\uDC4D", true, "bob"), RoomChange.reaction(42, "\u2764\uFE0F", false, "bob"))) {
            Message event = new Message("lobby", 44, "01J0", "bob", "a change", 1_700_000_000_600L, "event-01J0", change);
            Message back = ((RoomEvent.MessageCommitted) CODEC.decode(CODEC.encode("n1", new RoomEvent.MessageCommitted(event))).event()).message();
            assertThat(back.event()).isEqualTo(change);
            assertThat(back.replyTo()).isZero();
        }
    }

    @Test
    void a_bots_message_keeps_its_mark_with_or_without_a_replyTo() {
        for (long replyTo : new long[] {0, 42}) {
            Message bot = new Message("lobby", 45, "01J1", "deploybot", "v1.2 is out", 1_700_000_000_700L, "d-1", null, replyTo, null, true);
            Message back = ((RoomEvent.MessageCommitted) CODEC.decode(CODEC.encode("n1", new RoomEvent.MessageCommitted(bot))).event()).message();
            assertThat(back.bot()).isTrue();
            assertThat(back.replyTo()).isEqualTo(replyTo);
            assertThat(back.text()).isEqualTo("v1.2 is out");
        }
        Message person = new Message("lobby", 46, "01J2", "alice", "thanks", 1_700_000_000_800L, "c-9");
        assertThat(((RoomEvent.MessageCommitted) CODEC.decode(CODEC.encode("n1", new RoomEvent.MessageCommitted(person))).event()).message().bot()).isFalse();
    }

    @Test
    void a_record_changed_in_any_byte_is_refused_as_not_authentic() {
        byte[] record = CODEC.encode("n1", MESSAGE);
        for (int i = 0; i < record.length; i++) {
            byte[] tampered = record.clone();
            tampered[i] ^= 0x01;
            assertThatThrownBy(() -> CODEC.decode(tampered)).as("byte %d changed", i).isInstanceOf(BrokerCodec.Unauthenticated.class);
        }
        // The attack itself: the same message under another name, its tag kept.
        String text = new String(record, StandardCharsets.ISO_8859_1);
        byte[] otherSender = text.replace("alice", "mallo").getBytes(StandardCharsets.ISO_8859_1);
        assertThat(otherSender).isNotEqualTo(record).hasSameSizeAs(record);
        assertThatThrownBy(() -> CODEC.decode(otherSender)).isInstanceOf(BrokerCodec.Unauthenticated.class);
    }

    @Test
    void a_record_signed_under_another_key_or_not_signed_is_refused_as_not_authentic() {
        BrokerCodec stranger = new BrokerCodec("another cluster's key, also 32+ bytes".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> CODEC.decode(stranger.encode("n1", MESSAGE))).isInstanceOf(BrokerCodec.Unauthenticated.class);

        // A record of version 1, which had no tag, as a node of the previous release (or a forger) writes it.
        byte[] signed = CODEC.encode("n1", new RoomEvent.Typing("lobby", "bob"));
        byte[] v1 = Arrays.copyOf(signed, signed.length - BrokerCodec.TAG_BYTES);
        v1[0] = 1;
        assertThatThrownBy(() -> CODEC.decode(v1)).isInstanceOf(BrokerCodec.Unauthenticated.class);
        // A tag of zeros, or none at all.
        byte[] zeros = signed.clone();
        Arrays.fill(zeros, signed.length - BrokerCodec.TAG_BYTES, signed.length, (byte) 0);
        assertThatThrownBy(() -> CODEC.decode(zeros)).isInstanceOf(BrokerCodec.Unauthenticated.class);
        assertThatThrownBy(() -> CODEC.decode(new byte[0])).isInstanceOf(BrokerCodec.Unauthenticated.class);
    }

    @Test
    void every_truncation_and_trailing_garbage_is_refused_not_misread() {
        byte[] bytes = CODEC.encode("n1", MESSAGE);
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            assertThatThrownBy(() -> CODEC.decode(cut)).as("first %d bytes", n).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> CODEC.decode(Arrays.copyOf(bytes, bytes.length + 1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void an_authentic_event_of_another_version_is_refused_as_unreadable() {
        byte[] bytes = CODEC.encode("n1", new RoomEvent.Typing("lobby", "bob"));
        bytes[0] = 3;
        CODEC.sign(bytes); // as a node of a newer release would, with the same key
        assertThatThrownBy(() -> CODEC.decode(bytes)).isNotInstanceOf(BrokerCodec.Unauthenticated.class)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("version 3");
    }

    @Test
    void a_key_shorter_than_32_bytes_is_refused() {
        assertThatThrownBy(() -> new BrokerCodec(new byte[31])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32");
    }

    @Test
    void the_key_derived_from_the_jwt_secret_is_the_same_on_every_node_and_is_not_the_secret() {
        byte[] secret = "0123456789abcdef0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8);
        byte[] key = RedisBroker.keyFromJwtSecret(secret);
        assertThat(key).hasSize(32).isEqualTo(RedisBroker.keyFromJwtSecret(secret.clone()));
        assertThat(key).isNotEqualTo(Arrays.copyOf(secret, 32));
        assertThat(RedisBroker.keyFromJwtSecret("another secret, 32 bytes or more....".getBytes(StandardCharsets.UTF_8))).isNotEqualTo(key);
    }
}
