package dev.parley.testing;

import dev.parley.ChatServer;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real server for a test class: started once on a free port with its own data dir, closed after
 * the class. Its log is printed only when a test fails. Register it with
 * {@code @RegisterExtension static ParleyServer server = ParleyServer.create();}.
 */
public final class ParleyServer implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, TestWatcher {
    public static final String SECRET = "test-secret-0123456789-0123456789-abcdef";
    private static final AtomicInteger NAMES = new AtomicInteger();

    private final Map<Setting, String> settings = new EnumMap<>(Setting.class);
    private ChatServer server;
    private Path dataDir;
    private int logMark;

    private ParleyServer() {
        settings.put(Setting.PORT, "0");
        settings.put(Setting.HOST, "127.0.0.1");
        settings.put(Setting.ADMIN_PORT, "0"); // many servers share this JVM: each its own admin port too
        settings.put(Setting.JWT_SECRET, SECRET);
        settings.put(Setting.BCRYPT_COST, "4"); // fast tests; production keeps the default
        settings.put(Setting.EVENT_LOOPS, "2");
        // Every test client comes from 127.0.0.1: the limits per address would count a whole test
        // class as one attacker. Tests of those limits set their own.
        settings.put(Setting.LOGIN_FAILURES_PER_IP, "1000000");
        settings.put(Setting.REGISTRATIONS_PER_IP, "1000000");
        settings.put(Setting.PASSWORD_QUEUE, "10000");
    }

    public static ParleyServer create() {
        return new ParleyServer();
    }

    public ParleyServer with(Setting setting, String value) {
        settings.put(setting, value);
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (!settings.containsKey(Setting.DATA_DIR)) {
            dataDir = Files.createTempDirectory("parley-test");
            settings.put(Setting.DATA_DIR, dataDir.toString());
        }
        start();
    }

    public void start() {
        try {
            server = ChatServer.start(ChatConfig.load(Map.of(), settings)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("server did not start: " + e.getMessage() + "\n" + CapturedLogs.all(), e);
        }
    }

    /** Drains and stops the server (as SIGTERM would). */
    public void stop() {
        if (server == null) return;
        try {
            server.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("server did not stop", e);
        } finally {
            server = null;
        }
    }

    /** Stops and starts again on the same data dir and the same port. */
    public void restart() {
        int port = port();
        int adminPort = server.adminPort();
        stop();
        settings.put(Setting.PORT, String.valueOf(port));
        settings.put(Setting.ADMIN_PORT, String.valueOf(adminPort));
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        logMark = CapturedLogs.mark();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        System.out.println("----- server log of failed test " + context.getDisplayName() + " -----");
        CapturedLogs.since(logMark).forEach(System.out::print);
        System.out.println("----- end of server log -----");
    }

    public ChatServer server() {
        return server;
    }

    public int port() {
        return server.port();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    public Http http() {
        return new Http(baseUrl());
    }

    /** The admin listener: {@code /metrics} and detailed health. */
    public String adminBaseUrl() {
        return "http://127.0.0.1:" + server.adminPort();
    }

    public Http admin() {
        return new Http(adminBaseUrl());
    }

    public URI wsUri(String token) {
        return URI.create("ws://127.0.0.1:" + port() + "/ws" + (token == null ? "" : "?token=" + token));
    }

    /** Opens a WebSocket with the token in the query string. */
    public WsClient connect(String token) {
        return WsClient.connect(wsUri(token), Map.of());
    }

    /** A username no other test uses, starting with {@code base}. */
    public static String unique(String base) {
        return base + "_" + NAMES.incrementAndGet() + "_" + Long.toString(System.nanoTime() % 100_000, 36);
    }

    /** Registers a fresh user and returns the token. */
    public String newUser(String base) {
        return http().register(unique(base));
    }

    public Path dataDir() {
        return Path.of(settings.get(Setting.DATA_DIR));
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
