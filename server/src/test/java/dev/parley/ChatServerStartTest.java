package dev.parley;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
            // Said in words an operator can act on (serve prints it without a stack trace)...
            assertThat(failure).isInstanceOf(ExecutionException.class).cause().isInstanceOf(ChatServer.StartFailure.class)
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort()).hasMessageContaining("already in use")
                    .hasMessageContaining("--port or CHAT_PORT");
            // ...over the bind error itself: a BindException on NIO, Netty's NativeIoException on epoll.
            assertThat(failure).hasRootCauseInstanceOf(IOException.class);
            assertThat(failure).rootCause().hasMessageContaining("Address already in use");
        }
    }

    @Test
    void on_linux_the_server_runs_on_the_epoll_transport() throws Exception {
        String arch = System.getProperty("os.arch");
        assumeTrue(System.getProperty("os.name").startsWith("Linux") && (arch.equals("amd64") || arch.equals("aarch64")),
                "the jar ships epoll for Linux on x86_64 and aarch64 only");
        ChatConfig config = ChatConfig.load(Map.of(), Map.of(
                Setting.HOST, "127.0.0.1", Setting.PORT, "0", Setting.DATA_DIR, dir.toString(), Setting.BCRYPT_COST, "4"));
        ChatServer server = ChatServer.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        try {
            assertThat(server.vertx().unavailableNativeTransportCause()).isNull();
            assertThat(server.vertx().isNativeTransportEnabled()).isTrue();
        } finally {
            server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
