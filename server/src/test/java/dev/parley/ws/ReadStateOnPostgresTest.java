package dev.parley.ws;

import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link ReadStateTest} on a real PostgreSQL, as each node of a cluster runs it: the markers' and counts' SQL on both. */
class ReadStateOnPostgresTest extends ReadStateTest {
    @RegisterExtension
    static ParleyServer postgres = ParleyServer.create()
            .with(Setting.DATABASE_URL, Postgres.shared().newDatabase())
            .with(Setting.DATABASE_USER, "postgres")
            .with(Setting.DATABASE_PASSWORD, "postgres");

    @Override
    ParleyServer server() {
        return postgres;
    }
}
