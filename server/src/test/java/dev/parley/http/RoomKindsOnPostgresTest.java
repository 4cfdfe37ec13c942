package dev.parley.http;

import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link RoomKindsTest} on a real PostgreSQL, as each node of a cluster runs it: RoomStore's SQL on both. */
class RoomKindsOnPostgresTest extends RoomKindsTest {
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
