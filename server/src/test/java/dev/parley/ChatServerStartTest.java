package dev.parley;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
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
                    Setting.HOST, "127.0.0.1", Setting.ADMIN_PORT, "0", Setting.PORT, String.valueOf(taken.getLocalPort()),
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
    void each_transport_asked_for_serves_and_one_not_available_falls_back_to_the_next() throws Exception {
        for (String asked : List.of("io_uring", "epoll", "nio", "auto")) {
            ChatConfig config = ChatConfig.load(Map.of(), Map.of(Setting.HOST, "127.0.0.1", Setting.ADMIN_PORT, "0", Setting.PORT, "0",
                    Setting.DATA_DIR, dir.resolve(asked).toString(), Setting.BCRYPT_COST, "4", Setting.TRANSPORT, asked));
            ChatServer server = ChatServer.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            try {
                String expected = switch (asked) {
                    case "io_uring" -> io.vertx.core.transport.Transport.IO_URING.available() ? "io_uring"
                            : io.vertx.core.transport.Transport.EPOLL.available() ? "epoll" : "nio";
                    case "epoll", "auto" -> io.vertx.core.transport.Transport.EPOLL.available() ? "epoll" : "nio";
                    default -> "nio";
                };
                assertThat(server.transportName()).as("CHAT_TRANSPORT=" + asked).isEqualTo(expected);
                java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + server.port() + "/api/rooms")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as("served on " + expected).isEqualTo(401);
            } finally {
                server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
        assertThat(catchThrowable(() -> ChatConfig.load(Map.of(), Map.of(Setting.TRANSPORT, "kqueue"))))
                .hasMessage("CHAT_TRANSPORT: kqueue (expected: auto, io_uring, epoll or nio)");
    }

    @Test
    void on_linux_the_server_runs_on_the_epoll_transport() throws Exception {
        String arch = System.getProperty("os.arch");
        assumeTrue(System.getProperty("os.name").startsWith("Linux") && (arch.equals("amd64") || arch.equals("aarch64")),
                "the jar ships epoll for Linux on x86_64 and aarch64 only");
        ChatConfig config = ChatConfig.load(Map.of(), Map.of(
                Setting.HOST, "127.0.0.1", Setting.ADMIN_PORT, "0", Setting.PORT, "0", Setting.DATA_DIR, dir.toString(), Setting.BCRYPT_COST, "4"));
        ChatServer server = ChatServer.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        try {
            assertThat(server.vertx().unavailableNativeTransportCause()).isNull();
            assertThat(server.vertx().isNativeTransportEnabled()).isTrue();
        } finally {
            server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    /** Threads a node starts, new since {@code before}, still alive. */
    private static List<String> nodeThreadsStartedSince(Set<Long> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !before.contains(t.threadId()))
                .map(Thread::getName)
                .filter(n -> n.startsWith("vert.x-") || n.startsWith("vertx-") || n.startsWith("parley-") || n.startsWith("HikariPool") || n.startsWith("lettuce-"))
                .toList();
    }

    @Test
    void a_start_that_fails_after_the_event_loops_exist_leaves_no_thread_of_the_node_behind() throws Exception {
        // The secret file cannot be read (it is a directory): the start fails after Vert.x is up.
        Files.createDirectories(dir.resolve("jwt-secret"));
        Set<Long> before = Thread.getAllStackTraces().keySet().stream().map(Thread::threadId).collect(Collectors.toSet());
        ChatConfig config = ChatConfig.load(Map.of(), Map.of(
                Setting.HOST, "127.0.0.1", Setting.ADMIN_PORT, "0", Setting.PORT, "0", Setting.DATA_DIR, dir.toString(), Setting.BCRYPT_COST, "4"));

        Throwable failure = catchThrowable(() -> ChatServer.start(config).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));

        assertThat(failure).hasMessageContaining("jwt-secret");
        Await.until("the failed node's threads to end", Duration.ofSeconds(10), () -> nodeThreadsStartedSince(before).isEmpty());
    }

    @Test
    void a_start_whose_journal_cannot_be_opened_leaves_no_thread_of_the_node_behind() throws Exception {
        Files.createDirectories(dir.resolve("parley.journal")); // the store's journal cannot be opened
        Set<Long> before = Thread.getAllStackTraces().keySet().stream().map(Thread::threadId).collect(Collectors.toSet());
        ChatConfig config = ChatConfig.load(Map.of(), Map.of(
                Setting.HOST, "127.0.0.1", Setting.ADMIN_PORT, "0", Setting.PORT, "0", Setting.DATA_DIR, dir.toString(), Setting.BCRYPT_COST, "4"));

        Throwable failure = catchThrowable(() -> ChatServer.start(config).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));

        assertThat(failure).hasMessageContaining("journal");
        Await.until("the failed node's threads to end", Duration.ofSeconds(10), () -> nodeThreadsStartedSince(before).isEmpty());
    }

    /** The last step of a start fails (the admin listener's port is taken): the node built everything, the admin Vert.x and the readiness thread too. */
    @Test
    void a_start_whose_admin_port_is_taken_leaves_no_thread_of_the_node_behind() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Set<Long> before = Thread.getAllStackTraces().keySet().stream().map(Thread::threadId).collect(Collectors.toSet());
            ChatConfig config = ChatConfig.load(Map.of(), Map.of(Setting.HOST, "127.0.0.1", Setting.PORT, "0",
                    Setting.ADMIN_PORT, String.valueOf(taken.getLocalPort()), Setting.DATA_DIR, dir.toString(), Setting.BCRYPT_COST, "4"));

            Throwable failure = catchThrowable(() -> ChatServer.start(config).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));

            assertThat(failure).hasMessageContaining("CHAT_ADMIN_PORT");
            Await.until("the failed node's threads to end", Duration.ofSeconds(10), () -> nodeThreadsStartedSince(before).isEmpty());
        }
    }
}
