package dev.parley;

import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** The server on a real PostgreSQL, as each node of a cluster runs it. */
class PostgresServerTest extends ServerOnDatabaseContract {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.DATABASE_URL, Postgres.shared().newDatabase())
            .with(Setting.DATABASE_USER, "postgres")
            .with(Setting.DATABASE_PASSWORD, "postgres");

    @Override
    protected ParleyServer server() {
        return server;
    }

    @Test
    void the_server_really_runs_on_postgresql() {
        assertThat(server.server().config().databaseUrl()).startsWith("jdbc:postgresql:");
        assertThat(server.dataDir().resolve("parley.mv.db")).doesNotExist();
    }
}
