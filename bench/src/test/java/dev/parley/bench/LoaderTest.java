package dev.parley.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the loader refuses, and the arithmetic of what it writes; LoadQueryIT loads a real store. */
class LoaderTest {
    @TempDir
    Path dir;

    private static Connection h2(String name) throws Exception {
        return DriverManager.getConnection("jdbc:h2:mem:" + name + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE");
    }

    private static void history(Connection c, String... versions) throws Exception {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE flyway_schema_history (installed_rank INT, version VARCHAR(50), success BOOLEAN)");
            for (int i = 0; i < versions.length; i++) {
                st.execute("INSERT INTO flyway_schema_history VALUES (" + (i + 1) + ", '" + versions[i] + "', TRUE)");
            }
        }
    }

    @Test
    void a_database_without_the_servers_schema_is_refused() throws Exception {
        try (Connection c = h2("empty")) {
            assertThatThrownBy(() -> Loader.checkSchema(c)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no Parley schema").hasMessageContaining("--server-jar");
        }
    }

    @Test
    void a_schema_at_another_version_is_refused_and_the_known_one_taken() throws Exception {
        try (Connection c = h2("older")) {
            history(c, "1", "2", "9");
            assertThatThrownBy(() -> Loader.checkSchema(c)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Flyway version 9").hasMessageContaining("version " + Loader.SCHEMA_VERSION + " only");
        }
        try (Connection c = h2("newer")) {
            history(c, "9", Loader.SCHEMA_VERSION, "11");
            assertThatThrownBy(() -> Loader.checkSchema(c)).hasMessageContaining("Flyway version 11");
        }
        try (Connection c = h2("known")) {
            history(c, "9", Loader.SCHEMA_VERSION);
            assertThatCode(() -> Loader.checkSchema(c)).doesNotThrowAnyException();
        }
    }

    @Test
    void a_journal_with_records_the_server_has_not_replayed_is_refused() throws Exception {
        assertThatCode(() -> LoadCommand.refuseUnreplayedJournal(dir)).doesNotThrowAnyException(); // none
        Files.write(dir.resolve("parley.journal"), "PARLEYJ1".getBytes());
        assertThatCode(() -> LoadCommand.refuseUnreplayedJournal(dir)).doesNotThrowAnyException(); // empty
        Files.write(dir.resolve("parley.journal"), "PARLEYJ1 and a record".getBytes());
        assertThatThrownBy(() -> LoadCommand.refuseUnreplayedJournal(dir)).hasMessageContaining("start it once and stop it");
        // The current format: a 16-byte header, then zeros where no record is.
        byte[] empty = new byte[4096];
        System.arraycopy("PARLEYJ2".getBytes(), 0, empty, 0, 8);
        empty[15] = 42; // the generation
        Files.write(dir.resolve("parley.journal"), empty);
        assertThatCode(() -> LoadCommand.refuseUnreplayedJournal(dir)).doesNotThrowAnyException();
        empty[16 + 3] = 57; // a record's length
        Files.write(dir.resolve("parley.journal"), empty);
        assertThatThrownBy(() -> LoadCommand.refuseUnreplayedJournal(dir)).hasMessageContaining("start it once and stop it");
    }

    @Test
    void every_message_has_one_room_and_seq_and_the_seqs_of_a_room_run_from_1_without_a_gap() {
        StoreShape shape = new StoreShape(1_003, 10, 7, 3, "load", "loadu", 1_000, 100);
        List<List<Long>> seqs = new ArrayList<>();
        for (int r = 0; r < 10; r++) seqs.add(new ArrayList<>());
        long total = 0;
        boolean[] seen = new boolean[1_003];
        for (int r = 0; r < 10; r++) {
            assertThat(shape.count(r)).isEqualTo(r < 3 ? 101 : 100);
            for (long seq = 1; seq <= shape.count(r); seq++) {
                long n = shape.message(r, seq);
                assertThat(seen[(int) n]).isFalse();
                seen[(int) n] = true;
                assertThat(n % 10).isEqualTo(r);
                int sender = shape.sender(r, n);
                assertThat(List.of(shape.member(r, 0), shape.member(r, 1), shape.member(r, 2))).contains(sender);
                total++;
            }
        }
        assertThat(total).isEqualTo(1_003);
        assertThat(shape.ts(1_002)).isEqualTo(1_000 + 100_200);
        assertThat(List.of(shape.member(4, 0), shape.member(4, 1), shape.member(4, 2))).doesNotHaveDuplicates();
    }

    @Test
    void counts_read_with_their_suffixes() {
        LoadCommand.CountConverter c = new LoadCommand.CountConverter();
        assertThat(c.convert("20000")).isEqualTo(20_000);
        assertThat(c.convert("20_000")).isEqualTo(20_000);
        assertThat(c.convert("20k")).isEqualTo(20_000);
        assertThat(c.convert("1M")).isEqualTo(1_000_000);
        assertThat(c.convert("1.5m")).isEqualTo(1_500_000);
        assertThatThrownBy(() -> c.convert("lots")).hasMessageContaining("not a count");
    }
}
