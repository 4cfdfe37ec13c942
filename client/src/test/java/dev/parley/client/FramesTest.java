package dev.parley.client;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The server's frames of PROTOCOL.md section 7 read into events, and the client's frames written, without a server. */
class FramesTest {
    @Test
    void a_message_frame_reads_into_a_message_and_a_room_event_says_its_type() {
        Event e = Frames.decode("{\"type\":\"message\",\"room\":\"general\",\"seq\":42,\"id\":\"01JDX4M3Q8ZK6W2V9T5R7N0B1C\","
                + "\"from\":\"alice\",\"text\":\"hi bob\",\"ts\":\"2026-11-23T15:04:05.123Z\",\"clientId\":\"c-7d1e4b2a\",\"somethingNew\":1}");
        assertThat(e).isEqualTo(new Event.Message("general", 42, "01JDX4M3Q8ZK6W2V9T5R7N0B1C", "alice", "hi bob",
                Instant.parse("2026-11-23T15:04:05.123Z"), "c-7d1e4b2a", false, null, ((Event.Message) e).json()));
        assertThat(((Event.Message) e).isRoomEvent()).isFalse();

        Event.Message banned = (Event.Message) Frames.decode("{\"type\":\"message\",\"room\":\"ops\",\"seq\":7,\"from\":\"alice\","
                + "\"text\":\"alice banned bob\",\"event\":{\"type\":\"banned\",\"user\":\"bob\"},\"bot\":false}");
        assertThat(banned.isRoomEvent()).isTrue();
        assertThat(banned.eventType()).isEqualTo("banned");
        assertThat(banned.ts()).isNull();
    }

    @Test
    void answers_read_with_their_refs_and_an_unknown_type_or_broken_json_is_other() {
        assertThat(Frames.decode("{\"type\":\"ack\",\"room\":\"general\",\"clientId\":\"c-1\",\"seq\":1288,\"id\":\"X\","
                + "\"ts\":\"2026-11-23T15:04:05.123Z\",\"ref\":\"s1\"}"))
                .isEqualTo(new Event.Ack("general", "c-1", 1288, "X", Instant.parse("2026-11-23T15:04:05.123Z"), "s1"));
        assertThat(Frames.decode("{\"type\":\"joined\",\"room\":\"general\",\"lastSeq\":1287,\"online\":3,\"members\":[\"alice\",\"bob\"],"
                + "\"recovered\":false,\"readSeq\":1280,\"unread\":5,\"mentions\":1,\"historyStart\":1,\"ref\":\"j1\"}"))
                .isEqualTo(new Event.Joined("general", 1287, 3, java.util.List.of("alice", "bob"), false, 1280, 1, "j1"));
        assertThat(Frames.decode("{\"type\":\"error\",\"code\":\"not_joined\",\"message\":\"join general first\",\"ref\":\"s7\"}"))
                .isEqualTo(new Event.Error("not_joined", "join general first", "s7"));
        assertThat(Frames.decode("{\"type\":\"left\",\"room\":\"ops\",\"reason\":\"banned\"}")).isEqualTo(new Event.Left("ops", "banned", null));
        assertThat(Frames.decode("{\"type\":\"presence\",\"room\":\"g\",\"user\":\"dave\",\"status\":\"offline\"}"))
                .isEqualTo(new Event.Presence("g", "dave", false));
        assertThat(Frames.decode("{\"type\":\"something_new\",\"x\":1}")).isInstanceOfSatisfying(Event.Other.class,
                o -> assertThat(o.type()).isEqualTo("something_new"));
        assertThat(Frames.decode("not json")).isInstanceOfSatisfying(Event.Other.class, o -> assertThat(o.type()).isEqualTo("unreadable"));
    }

    @Test
    void the_clients_frames_carry_since_only_when_there_is_one() {
        assertThat(Frames.join("general", -1, "j1")).isEqualTo("{\"type\":\"join\",\"ref\":\"j1\",\"room\":\"general\"}");
        assertThat(Frames.join("general", 0, "j2")).isEqualTo("{\"type\":\"join\",\"ref\":\"j2\",\"room\":\"general\",\"since\":0}");
        assertThat(Frames.send("general", "say \"hi\"", "c-1", "s1"))
                .isEqualTo("{\"type\":\"send\",\"ref\":\"s1\",\"room\":\"general\",\"text\":\"say \\\"hi\\\"\",\"clientId\":\"c-1\"}");
    }
}
