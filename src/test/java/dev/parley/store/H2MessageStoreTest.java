package dev.parley.store;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import org.h2.tools.Server;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** The store on H2, as a single node runs it: an embedded file database with the URL ChatConfig builds. */
class H2MessageStoreTest extends MessageStoreContract {
    @TempDir
    Path tmp;

    private final AtomicInteger databases = new AtomicInteger();

    @Override
    protected Target newTarget() {
        Path dataDir = tmp.resolve("data" + databases.incrementAndGet());
        String url = ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, dataDir.toString())).databaseUrl();
        return new Target(url, "", "");
    }

    /**
     * An embedded database cannot become unreachable, so the outage is played by H2's own TCP server in
     * front of a file database: stopping it cuts every connection, as a database host going away would.
     */
    @Override
    protected Outage newOutage() {
        Path baseDir = tmp.resolve("tcp" + databases.incrementAndGet());
        int port = dev.parley.testing.Ports.free();
        String url = "jdbc:h2:tcp://127.0.0.1:" + port + "/parley;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0";
        return new Outage() {
            private Server server = startServer();

            private Server startServer() {
                try {
                    return Server.createTcpServer("-tcpPort", String.valueOf(port), "-baseDir", baseDir.toString(), "-ifNotExists").start();
                } catch (SQLException e) {
                    throw new IllegalStateException("H2 TCP server did not start", e);
                }
            }

            @Override
            public Target target() {
                return new Target(url, "", "");
            }

            @Override
            public void stop() {
                server.stop();
            }

            @Override
            public void start() {
                server = startServer();
            }

            @Override
            public void close() {
                server.stop();
            }
        };
    }
}
