package dev.parley.store;

import dev.parley.testing.Postgres;
import dev.parley.testing.Redis;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.sql.DriverManager;

import static org.assertj.core.api.Assertions.assertThat;

class HarnessSmokeTest {
    @Test
    void real_postgres_and_redis_start_on_free_ports() throws Exception {
        String url = Postgres.shared().newDatabase();
        try (var c = DriverManager.getConnection(url, "postgres", "postgres"); var rs = c.createStatement().executeQuery("select version()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).contains("PostgreSQL");
        }
        try (Redis r = Redis.startNew(); Socket s = new Socket("127.0.0.1", r.port())) {
            s.getOutputStream().write("PING\r\n".getBytes());
            byte[] buf = new byte[7];
            int n = s.getInputStream().read(buf);
            assertThat(new String(buf, 0, n)).startsWith("+PONG");
        }
    }
}
