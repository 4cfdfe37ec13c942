package dev.parley.http;

import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link BotsApiTest} on a real PostgreSQL, as each node of a cluster runs it (its single-statement append included). */
class BotsApiOnPostgresTest extends BotsApiTest {
    @RegisterExtension
    static ParleyServer postgres = ParleyServer.create()
            .with(Setting.ADMINS, ADMIN)
            .with(Setting.RATE_LIMIT, "1")
            .with(Setting.RATE_BURST, "5")
            .with(Setting.DATABASE_URL, Postgres.shared().newDatabase())
            .with(Setting.DATABASE_USER, "postgres")
            .with(Setting.DATABASE_PASSWORD, "postgres");

    @Override
    ParleyServer server() {
        return postgres;
    }
}
