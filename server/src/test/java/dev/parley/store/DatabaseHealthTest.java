package dev.parley.store;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The readiness check's database probe. In a reconnect storm every connection of the pool is busy
 * with joins' reads; a probe that waited for one of them past the pool's timeout said the database
 * was down, and the node not ready, for the whole storm (BENCHMARKS.md entry 58).
 */
class DatabaseHealthTest {
    @Test
    void the_database_answers_healthy_while_every_pooled_connection_is_held() throws Exception {
        try (Database db = new Database("jdbc:h2:mem:health-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1", "", "", 2)) {
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) held.add(db.connection());

                assertThat(db.healthy()).isTrue();
                assertThat(db.healthy()).as("again, on the same connection of its own").isTrue();
            } finally {
                for (Connection c : held) c.close();
            }
        }
    }

    @Test
    void a_closed_database_is_not_healthy() {
        Database db = new Database("jdbc:h2:mem:health-closed-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1", "", "", 2);
        assertThat(db.healthy()).isTrue();
        db.close();

        assertThat(db.healthy()).isFalse();
    }
}
