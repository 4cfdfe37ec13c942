package dev.parley.http;

import dev.parley.ChatServer;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** /metrics and the health checks in detail are served on the admin listener, and not on the public port. */
class AdminListenerTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @TempDir
    Path dir;

    @Test
    void metrics_are_not_on_the_public_port_but_on_the_admin_one() {
        Http.Response publicMetrics = server.http().get("/metrics", null);
        Http.Response adminMetrics = server.admin().get("/metrics", null);

        assertThat(server.server().adminPort()).isPositive().isNotEqualTo(server.port());
        assertThat(publicMetrics.status()).isEqualTo(404);
        assertThat(publicMetrics.body()).doesNotContain("parley_");
        assertThat(adminMetrics.status()).isEqualTo(200);
        assertThat(adminMetrics.body()).contains("# TYPE parley_connections_open gauge");
    }

    @Test
    void the_public_health_checks_say_up_or_down_and_nothing_more_and_the_admin_ones_say_which_check_and_which_node() {
        for (String path : new String[] {"/health/live", "/health/ready"}) {
            Http.Response pub = server.http().get(path, null);
            assertThat(pub.status()).as(path).isEqualTo(200);
            assertThat(pub.json().size()).as(path + ": " + pub.body()).isEqualTo(1);
            assertThat(pub.json().get("status").asText()).as(path).isEqualTo("UP");
        }
        Http.Response ready = server.admin().get("/health/ready", null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("node").asText()).isEqualTo(server.server().config().nodeId());
        assertThat(ready.json().get("draining").asBoolean()).isFalse();
        assertThat(ready.json().get("checks").get("database").asText()).isEqualTo("UP");
        assertThat(server.admin().get("/health/live", null).json().get("node").asText()).isEqualTo(server.server().config().nodeId());
    }

    @Test
    void the_admin_listener_serves_nothing_of_the_public_port() {
        assertThat(server.admin().get("/api/limits", null).status()).isEqualTo(404);
        assertThat(server.admin().get("/", null).status()).isEqualTo(404);
        assertThat(server.admin().post("/api/auth/register", "{\"username\":\"adminport\",\"password\":\"password-adminport\"}").status())
                .isIn(404, 405);
    }

    @Test
    void by_default_the_admin_listener_is_on_loopback_at_9180() {
        ChatConfig c = ChatConfig.defaults();
        assertThat(c.adminHost()).isEqualTo("127.0.0.1");
        assertThat(c.adminPort()).isEqualTo(9180);
    }

    @Test
    void an_admin_port_in_use_fails_the_start_naming_the_setting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ChatConfig config = ChatConfig.load(Map.of(), Map.of(Setting.HOST, "127.0.0.1", Setting.PORT, "0",
                    Setting.ADMIN_PORT, String.valueOf(taken.getLocalPort()), Setting.DATA_DIR, dir.toString(),
                    Setting.JWT_SECRET, ParleyServer.SECRET, Setting.BCRYPT_COST, "4"));

            Throwable failure = catchThrowable(() -> ChatServer.start(config).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));

            assertThat(failure).isInstanceOf(ExecutionException.class).cause().isInstanceOf(ChatServer.StartFailure.class)
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort()).hasMessageContaining("CHAT_ADMIN_PORT");
        }
    }
}
