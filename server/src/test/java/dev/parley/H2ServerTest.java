package dev.parley;

import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The server on its default database: an H2 file in its data dir. */
class H2ServerTest extends ServerOnDatabaseContract {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @Override
    protected ParleyServer server() {
        return server;
    }
}
