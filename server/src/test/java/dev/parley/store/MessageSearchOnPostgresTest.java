package dev.parley.store;

import dev.parley.testing.Postgres;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link MessageSearchTest} on PostgreSQL, where a search asks the GIN index of migration V9 (db/postgresql). */
class MessageSearchOnPostgresTest extends MessageSearchTest {
    @Override
    Database open() {
        return new Database(Postgres.shared().newDatabase(), "postgres", "postgres", 4);
    }

    @Test
    void a_search_reads_the_word_index_not_the_table() throws SQLException {
        post("lobby", "alice", "the index is used");
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            // As if the table were large: the planner would read a table of one row rather than an index.
            st.execute("SET enable_seqscan = off");
            StringBuilder plan = new StringBuilder();
            try (PreparedStatement ps = c.prepareStatement("EXPLAIN SELECT 1 FROM messages m WHERE m.kind IS NULL AND "
                    + SearchQuery.TSVECTOR.replace("(text,", "(m.text,") + " @@ to_tsquery('simple', ?)")) {
                ps.setString(1, SearchQuery.parse("index").tsquery());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) plan.append(rs.getString(1)).append('\n');
                }
            }
            assertThat(plan.toString()).contains("messages_search");
        }
    }

    /** V13: no pending list, whose merge into the index stalled one commit in a few thousand (BENCHMARKS.md entry 50). */
    @Test
    void the_word_index_has_no_pending_list() throws SQLException {
        try (Connection c = db.connection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'messages_search'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("fastupdate=off");
        }
    }
}
