package dev.parley.http;

import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link RetentionApiTest} on a real PostgreSQL, as each node of a cluster runs it. */
class RetentionApiOnPostgresTest extends RetentionApiTest {
    @RegisterExtension
    static ParleyServer postgres = ParleyServer.create()
            .with(Setting.ADMINS, ADMIN)
            .with(Setting.RETENTION_DAYS, "365")
            .with(Setting.RETENTION_MESSAGES, "1000000")
            .with(Setting.DATABASE_URL, Postgres.shared().newDatabase())
            .with(Setting.DATABASE_USER, "postgres")
            .with(Setting.DATABASE_PASSWORD, "postgres");

    @Override
    ParleyServer server() {
        return postgres;
    }
}
