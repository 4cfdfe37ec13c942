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

/** The journal file on its own: what goes in comes back, in order, and a crash's torn tail is dropped. */
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
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            j.replay(all::addAll);
        }
        assertThat(all).extracting(Message::replyTo).containsExactly(0L, 1L);
    }

    @Test
    void a_bots_message_comes_back_marked_as_one() throws IOException {
        Path file = tmp.resolve("parley.journal");
        Message bot = new Message("alpha", 2, "01HX3", "deploybot", "v1.2 is out", 1_700_000_000_000L, "d-1", null, 0, null, true);
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "lunch?"), bot));
        }
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            j.replay(all::addAll);
        }
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
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            j.replay(all::addAll);
        }
        assertThat(all).hasSize(1025);
        assertThat(all.get(1023).text()).isEqualTo(text + 1024);
        assertThat(all.get(1024).text()).isEqualTo("after");
    }

    @Test
    void a_record_cut_short_by_a_crash_ends_the_replay_and_is_cut_off_before_new_appends() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "whole")));
            j.append(List.of(message("alpha", 2, "torn")));
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 3);
        }
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            assertThat(j.replay(all::addAll)).isEqualTo(1);
            j.append(List.of(message("alpha", 2, "again")));
        }
        all.clear();
        try (Journal j = Journal.open(file)) {
            j.replay(all::addAll);
        }
        assertThat(all).extracting(Message::text).containsExactly("whole", "again");
    }

    @Test
    void a_record_whose_checksum_does_not_match_ends_the_replay() throws IOException {
        Path file = tmp.resolve("parley.journal");
        long secondAt;
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "good")));
            secondAt = Files.size(file);
            j.append(List.of(message("alpha", 2, "also good")));
            j.append(List.of(message("alpha", 3, "damaged")));
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'#'}), Files.size(file) - 12); // inside the last record
        }
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            j.replay(all::addAll);
        }
        assertThat(all).extracting(Message::text).containsExactly("good", "also good");
        assertThat(Files.size(file)).isGreaterThan(secondAt);
    }

    @Test
    void clear_forgets_every_record() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = Journal.open(file)) {
            j.append(List.of(message("alpha", 1, "old")));
            j.clear();
            assertThat(j.size()).isZero();
            j.append(List.of(message("alpha", 2, "new")));
        }
        List<Message> all = new ArrayList<>();
        try (Journal j = Journal.open(file)) {
            j.replay(all::addAll);
        }
        assertThat(all).extracting(Message::text).containsExactly("new");
    }

    @Test
    void a_file_that_is_not_a_journal_is_refused_and_left_as_it_is() throws IOException {
        Path file = tmp.resolve("parley.journal");
        Files.writeString(file, "some other file entirely");
        assertThatThrownBy(() -> Journal.open(file)).isInstanceOf(IOException.class).hasMessageContaining("not a Parley journal");
        assertThat(Files.readString(file)).isEqualTo("some other file entirely");
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
