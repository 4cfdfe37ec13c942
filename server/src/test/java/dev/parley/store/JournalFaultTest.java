package dev.parley.store;

import dev.parley.event.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static dev.parley.store.JournalTest.message;
import static dev.parley.store.JournalTest.replayed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The journal when its disk fails a write or a sync: an append that fails is never replayed, a
 * clear that fails keeps every record, and a header that could not be put back makes the next
 * append begin a generation of its own. The writer calls {@link Journal#clear} only once the
 * database holds every record, so records a successful new generation leaves behind are not lost.
 */
class JournalFaultTest {
    private static final long HEADER = 16;

    @TempDir
    Path tmp;

    private FaultyChannel disk;

    private Journal open(Path file, boolean sync) throws IOException {
        return Journal.open(file, sync, real -> disk = new FaultyChannel(real));
    }

    private static List<String> texts(List<Message> messages) {
        return messages.stream().map(Message::text).toList();
    }

    @Test
    void an_append_whose_write_fails_is_not_replayed_and_the_next_one_takes_its_place() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = open(file, false)) {
            j.append(List.of(message("alpha", 1, "kept")));
            long end = j.end();
            disk.failWrites(at -> at == end, 1);
            assertThatThrownBy(() -> j.append(List.of(message("alpha", 2, "refused")))).isInstanceOf(IOException.class);
            assertThat(j.end()).isEqualTo(end);
            j.append(List.of(message("alpha", 2, "again")));
        }
        assertThat(texts(replayed(file))).containsExactly("kept", "again");
    }

    @Test
    void an_append_whose_sync_fails_is_not_replayed_though_its_bytes_were_written() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = open(file, true)) {
            j.append(List.of(message("alpha", 1, "kept")));
            disk.failForces(1);
            // The record reached the file, but the failed sync says it may not be on the disk: its
            // commit fails, so it must not come back after a restart either.
            assertThatThrownBy(() -> j.append(List.of(message("alpha", 2, "not acknowledged")))).isInstanceOf(IOException.class);
        }
        assertThat(texts(replayed(file))).containsExactly("kept");
    }

    @Test
    void a_clear_whose_header_write_fails_keeps_the_records_and_their_generation() throws IOException {
        Path file = tmp.resolve("parley.journal");
        byte[] header;
        try (Journal j = open(file, false)) {
            j.append(List.of(message("alpha", 1, "first")));
            header = head(file);
            disk.failWrites(at -> at == 0, 1);
            assertThatThrownBy(j::clear).isInstanceOf(IOException.class);
            assertThat(j.size()).isPositive();
            j.append(List.of(message("alpha", 2, "second")));
        }
        assertThat(head(file)).isEqualTo(header);
        assertThat(texts(replayed(file))).containsExactly("first", "second");
    }

    @Test
    void a_clear_whose_header_sync_fails_puts_the_old_header_back() throws IOException {
        Path file = tmp.resolve("parley.journal");
        byte[] header;
        try (Journal j = open(file, true)) {
            j.append(List.of(message("alpha", 1, "first")));
            header = head(file);
            disk.failForces(1); // the new header was written, then its sync failed
            assertThatThrownBy(j::clear).isInstanceOf(IOException.class);
            assertThat(head(file)).as("the old header, put back").isEqualTo(header);
            j.append(List.of(message("alpha", 2, "second")));
        }
        assertThat(texts(replayed(file))).containsExactly("first", "second");
    }

    @Test
    void a_header_that_cannot_be_put_back_makes_the_next_append_begin_a_new_generation() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = open(file, true)) {
            j.append(List.of(message("alpha", 1, "in the database")));
            // The new header's sync fails, and so does the write that puts the old one back: what the
            // disk's header holds is no longer known.
            disk.failForces(1);
            disk.failWrites(at -> at == 0, 1, 1);
            assertThatThrownBy(j::clear).isInstanceOf(IOException.class);
            // The next append begins the generation first; while that fails too, so does the append,
            // and it writes nothing.
            disk.failWrites(at -> at == 0, 1);
            assertThatThrownBy(() -> j.append(List.of(message("alpha", 2, "refused")))).isInstanceOf(IOException.class);
            long syncs = j.headerSyncs();
            j.append(List.of(message("alpha", 2, "after")));
            assertThat(j.headerSyncs()).as("a new header, synced before the record").isEqualTo(syncs + 1);
        }
        // The clear was called because the database held "in the database": the new generation leaves it behind.
        assertThat(texts(replayed(file))).containsExactly("after");
    }

    @Test
    void a_clear_whose_tidying_fails_still_empties_the_journal() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = open(file, true)) {
            j.append(List.of(message("alpha", 1, "in the database")));
            // Zeroing the first record's place fails after the new header is synced: the record
            // stays in the file, but its checksum covers the old generation.
            disk.failWrites(at -> at == HEADER, 1);
            j.clear();
            assertThat(j.size()).isZero();
        }
        assertThat(replayed(file)).isEmpty();
        try (Journal j = open(file, true)) {
            j.append(List.of(message("alpha", 2, "next")));
        }
        assertThat(texts(replayed(file))).containsExactly("next");
    }

    private static byte[] head(Path file) throws IOException {
        return Arrays.copyOf(Files.readAllBytes(file), (int) HEADER);
    }

    @Test
    void a_record_taken_back_is_not_replayed_and_the_next_append_takes_its_place() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = open(file, true)) {
            j.append(List.of(message("alpha", 1, "kept")));
            long end = j.end();
            j.append(List.of(message("alpha", 2, "its commit failed")));
            j.retract();
            assertThat(j.end()).isEqualTo(end);
            assertThatThrownBy(j::retract).as("only the last record, once").isInstanceOf(IllegalStateException.class);
            j.append(List.of(message("alpha", 2, "next")));
        }
        assertThat(texts(replayed(file))).containsExactly("kept", "next");
    }

    @Test
    void the_record_taken_back_after_a_broken_clear_is_the_one_the_new_generation_began_with() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = open(file, true)) {
            for (int i = 1; i <= 50; i++) j.append(List.of(message("alpha", i, "in the database " + i)));
            disk.failForces(1);
            disk.failWrites(at -> at == 0, 1, 1);
            assertThatThrownBy(j::clear).isInstanceOf(IOException.class);
            // This append begins the new generation, so its record is written at the start, far
            // before where the journal ended: that is the place to take back.
            j.append(List.of(message("alpha", 51, "its commit failed")));
            j.retract();
            assertThat(j.size()).isZero();
        }
        assertThat(replayed(file)).isEmpty();
    }

    @Test
    void a_record_taken_back_whose_sync_fails_still_gives_its_place_to_the_next() throws IOException {
        Path file = tmp.resolve("parley.journal");
        try (Journal j = open(file, true)) {
            j.append(List.of(message("alpha", 1, "kept")));
            j.append(List.of(message("alpha", 2, "its commit failed")));
            disk.failForces(1);
            assertThatThrownBy(j::retract).isInstanceOf(IOException.class);
            j.append(List.of(message("alpha", 2, "next, acknowledged")));
        }
        assertThat(texts(replayed(file))).containsExactly("kept", "next, acknowledged");
    }
}
