package dev.parley.store;

import dev.parley.event.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The journal file on its own: what goes in comes back, in order; a crash's torn tail and an earlier generation's records do not. */
class JournalTest {
    @TempDir
    Path tmp;

    @Test
    void records_come_back_in_order_with_every_field_after_a_reopen() throws IOException {
        Path file = tmp.resolve("parley.journal");
        List<Message> first = List.of(message("alpha", 1, "hello"), message("alpha", 2, "ünïcødé ✓ 🙂"));
        List<Message> second = List.of(message("bravo", 7, ""));
        try (Journal j = Journal.open(file)) {
            j.append(first);
            j.append(second);
            assertThat(j.size()).isPositive();
        }
        List<List<Message>> replayed = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            assertThat(j.replay(replayed::add)).isEqualTo(3);
        }
        assertThat(replayed).hasSize(2);
        assertSameMessages(replayed.get(0), first);
        assertSameMessages(replayed.get(1), second);
    }

    @Test
    void a_reply_comes_back_with_the_seq_it_answers() throws IOException {
        Path file = tmp.resolve("parley.journal");
        Message reply = new Message("alpha", 2, "01HX2", "bob", "yes", 1_700_000_000_000L, "c-2", null, 1, null);
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "lunch?"), reply));
        }
        List<Message> all = replayed(file);
        assertThat(all).extracting(Message::replyTo).containsExactly(0L, 1L);
    }

    @Test
    void a_bots_message_comes_back_marked_as_one() throws IOException {
        Path file = tmp.resolve("parley.journal");
        Message bot = new Message("alpha", 2, "01HX3", "deploybot", "v1.2 is out", 1_700_000_000_000L, "d-1", null, 0, null, true);
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "lunch?"), bot));
        }
        List<Message> all = replayed(file);
        assertThat(all).extracting(Message::bot).containsExactly(false, true);
    }

    @Test
    void a_batch_larger_than_the_buffer_is_written_whole() throws IOException {
        Path file = tmp.resolve("parley.journal");
        String text = "x".repeat(4000);
        List<Message> batch = IntStream.rangeClosed(1, 1024).mapToObj(i -> message("alpha", i, text + i)).toList();
        try (Journal j = Journal.open(file)) {
            j.append(batch);
            j.append(List.of(message("alpha", 1025, "after")));
        }
        List<Message> all = replayed(file);
        assertThat(all).hasSize(1025);
        assertThat(all.get(1023).text()).isEqualTo(text + 1024);
        assertThat(all.get(1024).text()).isEqualTo("after");
    }

    @Test
    void a_record_cut_short_by_a_crash_ends_the_replay_and_the_next_append_takes_its_place() throws IOException {
        Path file = tmp.resolve("parley.journal");
        long end;
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "whole")));
            j.append(List.of(message("alpha", 2, "torn, and longer than what is written after it")));
            end = j.end();
        }
        // A write that never finished: the end of the record (its flags, replyTo and the end of its text)
        // never reached the file, which still has zeros there.
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(20), end - 20);
        }
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            assertThat(j.replay(all::addAll)).isEqualTo(1);
            j.append(List.of(message("alpha", 2, "again")));
        }
        all = replayed(file);
        assertThat(all).extracting(Message::text).containsExactly("whole", "again");
    }

    @Test
    void a_record_whose_checksum_does_not_match_ends_the_replay() throws IOException {
        Path file = tmp.resolve("parley.journal");
        long end;
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "good")));
            j.append(List.of(message("alpha", 2, "also good")));
            j.append(List.of(message("alpha", 3, "damaged")));
            end = j.end();
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'#'}), end - 12); // inside the last record
        }
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            j.replay(all::addAll);
            j.append(List.of(message("alpha", 3, "written again")));
        }
        all = replayed(file);
        assertThat(all).extracting(Message::text).containsExactly("good", "also good", "written again");
    }

    @Test
    void clear_forgets_every_record() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "old")));
            j.append(List.of(message("alpha", 2, "older records stay in the file after a clear, behind the new ones")));
            j.append(List.of(message("alpha", 3, "and are never read again")));
            j.clear();
            assertThat(j.size()).isZero();
            j.append(List.of(message("alpha", 4, "new")));
        }
        List<Message> all = replayed(file);
        assertThat(all).extracting(Message::text).containsExactly("new");
    }

    @Test
    void the_file_is_written_in_place_so_an_append_does_not_change_its_length() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = Journal.open(file)) {
            long length = Files.size(file);
            assertThat(length).as("zeros ahead of the records").isGreaterThanOrEqualTo(Journal.CHUNK);
            for (int i = 1; i <= 100; i++) j.append(List.of(message("alpha", i, "message " + i)));
            assertThat(Files.size(file)).isEqualTo(length);
            j.clear();
            assertThat(Files.size(file)).as("emptied, not cut back").isEqualTo(length);
        }
    }

    @Test
    void records_past_the_zeros_grow_the_file_and_all_come_back() throws IOException {
        Path file = tmp.resolve("parley.journal");
        String text = "y".repeat(100_000);
        int n = (int) (2 * Journal.CHUNK / text.length()) + 1;
        try (Journal j = Journal.open(file)) {
            for (int i = 1; i <= n; i++) j.append(List.of(message("alpha", i, text + i)));
        }
        assertThat(Files.size(file)).isGreaterThan(2 * Journal.CHUNK);
        List<Message> all = replayed(file);
        assertThat(all).hasSize(n);
        assertThat(all.get(n - 1).text()).isEqualTo(text + n);
    }

    @Test
    void each_clear_begins_a_generation_of_its_own_in_the_header() throws IOException {
        Path file = tmp.resolve("parley.journal");
        java.util.Set<Long> seen = new java.util.HashSet<>();
        long previous = 0;
        try (Journal j = Journal.open(file, true)) {
            for (int i = 0; i < 5; i++) {
                long generation = ByteBuffer.wrap(Files.readAllBytes(file), 8, 8).getLong();
                assertThat(generation).isNotZero();
                assertThat(seen.add(generation)).as("generation %d is new", i).isTrue();
                // Random, not counted: a count comes back when a crash takes a header the disk never got.
                assertThat(Math.abs(generation - previous)).as("generation %d follows on from the one before", i).isGreaterThan(1);
                previous = generation;
                assertThat(j.headerSyncs()).as("each new header synced before its first record").isEqualTo(i + 1);
                j.append(List.of(message("alpha", i + 1, "in generation " + i)));
                j.clear();
            }
        }
    }

    @Test
    void a_file_grown_far_past_a_chunk_is_cut_back_when_emptied_and_keeps_its_header() throws IOException {
        Path file = tmp.resolve("parley.journal");
        String text = "z".repeat(1 << 20);
        try (Journal j = Journal.open(file)) {
            for (int i = 1; Files.size(file) <= Journal.KEEP; i++) j.append(List.of(message("alpha", i, text)));
            j.clear();
            assertThat(Files.size(file)).isLessThan(2 * Journal.CHUNK);
            j.append(List.of(message("alpha", 1000, "after the cut")));
        }
        List<Message> all = replayed(file);
        assertThat(all).extracting(Message::text).containsExactly("after the cut");
    }

    @Test
    void a_file_cut_short_while_it_was_made_starts_over_empty() throws IOException {
        Path file = tmp.resolve("parley.journal");
        for (byte[] start : List.of("PARLEYJ2\0\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII), new byte[4096])) {
            Files.write(file, start);
            List<Message> all = new ArrayList<>();
            try (Journal j = Journal.open(file)) {
                assertThat(j.replay(all::addAll)).isZero();
                j.append(List.of(message("alpha", 1, "first")));
            }
            try (Journal j = Journal.open(file)) {
                j.replay(all::addAll);
            }
            assertThat(all).extracting(Message::text).containsExactly("first");
        }
    }

    @Test
    void a_header_whose_generation_is_zero_is_still_of_this_version() throws IOException {
        Path file = tmp.resolve("parley.journal");
        ByteBuffer payload = firstRecordPayload("of generation zero");
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(new byte[8]); // the generation, 0
        crc.update(payload.array(), 0, payload.limit());
        ByteBuffer bytes = ByteBuffer.allocate(24 + payload.limit());
        bytes.put("PARLEYJ2".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putLong(0)
                .putInt(payload.limit()).putInt((int) crc.getValue()).put(payload).flip();
        Files.write(file, java.util.Arrays.copyOf(bytes.array(), bytes.limit()));
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            assertThat(j.replay(all::addAll)).isEqualTo(1);
        }
        assertThat(all).extracting(Message::text).containsExactly("of generation zero");
    }

    /** A record's payload of one message, as both versions write it before the fields added since. */
    private static ByteBuffer firstRecordPayload(String text) {
        ByteBuffer payload = ByteBuffer.allocate(256);
        payload.putInt(1);
        putString(payload, "alpha");
        payload.putLong(5);
        putString(payload, "id-5");
        putString(payload, "alice");
        payload.putLong(1_700_000_000_005L);
        putString(payload, "c-5");
        putString(payload, text);
        return payload.flip();
    }

    @Test
    void a_journal_of_the_first_version_is_replayed_and_begun_again_in_this_one_when_emptied() throws IOException {
        Path file = tmp.resolve("parley.journal");
        writeFirstVersion(file, "from before the upgrade");

        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            assertThat(j.replay(all::addAll)).isEqualTo(1);
            j.clear();
            j.append(List.of(message("alpha", 6, "after the upgrade")));
        }
        assertThat(all).extracting(Message::text).containsExactly("from before the upgrade");
        assertThat(new String(Files.readAllBytes(file), 0, 8, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PARLEYJ2");
        all = replayed(file);
        assertThat(all).extracting(Message::text).containsExactly("after the upgrade");
    }

    @Test
    void a_record_taken_back_from_a_journal_of_the_first_version_is_cut_off() throws IOException {
        Path file = tmp.resolve("parley.journal");
        writeFirstVersion(file, "from before the upgrade");
        long size = Files.size(file);
        try (Journal j = Journal.open(file)) {
            j.replay(batch -> {});
            j.append(List.of(message("alpha", 6, "its commit failed")));
            j.retract();
        }
        assertThat(Files.size(file)).as("cut back to where the record began").isEqualTo(size);
        assertThat(replayed(file)).extracting(Message::text).containsExactly("from before the upgrade");
        try (Journal j = Journal.open(file)) {
            j.replay(batch -> {});
            j.append(List.of(message("alpha", 6, "its commit failed")));
            j.retract();
            j.append(List.of(message("alpha", 6, "next")));
        }
        assertThat(replayed(file)).extracting(Message::text).containsExactly("from before the upgrade", "next");
    }

    /** A journal as the first version wrote it: "PARLEYJ1", then one record whose checksum covers the payload alone. */
    private static void writeFirstVersion(Path file, String text) throws IOException {
        ByteBuffer payload = firstRecordPayload(text);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(payload.array(), 0, payload.limit());
        ByteBuffer file1 = ByteBuffer.allocate(16 + payload.limit());
        file1.put("PARLEYJ1".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(payload.limit()).putInt((int) crc.getValue()).put(payload).flip();
        Files.write(file, java.util.Arrays.copyOf(file1.array(), file1.limit()));
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        b.putInt(bytes.length).put(bytes);
    }

    @Test
    void a_file_that_is_not_a_journal_is_refused_and_left_as_it_is() throws IOException {
        Path file = tmp.resolve("parley.journal");
        Files.writeString(file, "some other file entirely");
        assertThatThrownBy(() -> Journal.open(file)).isInstanceOf(IOException.class).hasMessageContaining("not a Parley journal");
        assertThat(Files.readString(file)).isEqualTo("some other file entirely");
    }

    /** Every message a fresh open and replay of {@code file} hands back, in order. */
    static List<Message> replayed(Path file) throws IOException {
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            j.replay(all::addAll);
        }
        return all;
    }

    static Message message(String room, long seq, String text) {
        return new Message(room, seq, "id-" + room + "-" + seq, "alice", text, 1_700_000_000_000L + seq, "c-" + room + "-" + seq);
    }

    private static void assertSameMessages(List<Message> actual, List<Message> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            Message a = actual.get(i);
            Message e = expected.get(i);
            assertThat(List.of(a.room(), a.seq(), a.id(), a.from(), a.text(), a.tsMillis(), a.clientId()))
                    .isEqualTo(List.of(e.room(), e.seq(), e.id(), e.from(), e.text(), e.tsMillis(), e.clientId()));
        }
    }
}
