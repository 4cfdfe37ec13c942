package dev.parley.http;

import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link SearchApiTest} on a real PostgreSQL, where a search asks the full-text index (migration V9). */
class SearchApiOnPostgresTest extends SearchApiTest {
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
