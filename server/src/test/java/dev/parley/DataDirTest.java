package dev.parley;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The data dir and the generated secret are this user's alone from the moment they exist. */
class DataDirTest {
    @TempDir
    Path tmp;

    @Test
    void the_generated_secret_and_the_data_dir_it_makes_are_owner_only() throws Exception {
        Path dir = tmp.resolve("a/b/data");

        byte[] secret = DataDir.jwtSecret(dir);

        Path file = dir.resolve("jwt-secret");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(secret).hasSizeGreaterThanOrEqualTo(32);
        assertThat(DataDir.jwtSecret(dir)).as("read again on the next start").isEqualTo(secret);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("jwt-secret"); // no temporary file left
        }
    }

    @Test
    void a_new_file_never_replaces_one_that_exists() throws Exception {
        Path file = tmp.resolve("jwt-secret");
        Files.writeString(file, "theirs");

        assertThat(DataDir.writeNew(file, "ours".getBytes(StandardCharsets.UTF_8))).isFalse();

        assertThat(Files.readString(file)).isEqualTo("theirs");
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files).hasSize(1);
        }
    }

    @Test
    void of_many_writers_racing_for_the_name_one_wins_and_everyone_reads_its_whole_content() throws Exception {
        Path file = tmp.resolve("jwt-secret");
        int writers = 16;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> reads = new ArrayList<>();
        List<Boolean> won = java.util.Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newFixedThreadPool(writers)) {
            for (int i = 0; i < writers; i++) {
                String content = ("writer-" + i + "-").repeat(200);
                reads.add(pool.submit(() -> {
                    go.await();
                    won.add(DataDir.writeNew(file, content.getBytes(StandardCharsets.UTF_8)));
                    return Files.readString(file);
                }));
            }
            go.countDown();
            String first = reads.get(0).get();
            assertThat(first).matches("(writer-\\d+-){200}");
            for (Future<String> r : reads) assertThat(r.get()).isEqualTo(first);
        }
        assertThat(won).containsOnlyOnce(true);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (Stream<Path> files = Files.list(tmp)) {
            assertThat(files).hasSize(1);
        }
    }
}
