package dev.parley;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

class ChatServerStartTest {
    @TempDir
    Path dir;

    @Test
    void a_port_in_use_fails_the_start_at_once_with_the_bind_error() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ChatConfig config = ChatConfig.load(Map.of(), Map.of(
                    Setting.HOST, "127.0.0.1", Setting.PORT, String.valueOf(taken.getLocalPort()),
                    Setting.DATA_DIR, dir.toString(), Setting.BCRYPT_COST, "4"));
            Throwable failure = catchThrowable(() -> ChatServer.start(config).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));
            assertThat(failure).isInstanceOf(ExecutionException.class).hasRootCauseInstanceOf(BindException.class);
        }
    }
}
