package dev.parley.config;

import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;
import dev.parley.chat.Limits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChatConfigTest {
    /**
     * The defaults as the docs state them: DESIGN.md "Modes and configuration" and PROTOCOL.md
     * (validation, heartbeat, rate limit, replay limit, frame limit); the rest from the serve help.
     * A new setting must be added here, with its documented default.
     */
    private static final Map<Setting, String> DOCUMENTED_DEFAULTS = documentedDefaults();

    private static Map<Setting, String> documentedDefaults() {
        Map<Setting, String> d = new EnumMap<>(Setting.class);
        d.put(Setting.HOST, "0.0.0.0");
        d.put(Setting.PORT, "8080");
        d.put(Setting.ADMIN_HOST, "127.0.0.1");   // loopback: metrics and health details stay on the machine
        d.put(Setting.ADMIN_PORT, "9180");
        d.put(Setting.DATA_DIR, "./data");
        d.put(Setting.DATABASE_URL, "");          // an H2 file in the data dir
        d.put(Setting.DATABASE_USER, "");
        d.put(Setting.DATABASE_PASSWORD, "");
        d.put(Setting.DATABASE_POOL_SIZE, "8");
        d.put(Setting.REDIS_URL, "");             // in-process broker
        d.put(Setting.JWT_SECRET, "");            // generated
        d.put(Setting.CLUSTER_KEY, "");           // derived from the JWT secret
        d.put(Setting.CLUSTER_KEY_FILE, "");
        d.put(Setting.JWKS_URL, "");
        d.put(Setting.JWKS_ISSUER, "");
        d.put(Setting.JWKS_AUDIENCE, "");
        d.put(Setting.REGISTRATION, "open");
        d.put(Setting.PASSWORD_THREADS, "0");     // half the cores, at least 1
        d.put(Setting.PASSWORD_QUEUE, "32");
        d.put(Setting.LOGIN_FAILURES_PER_IP, "50");
        d.put(Setting.REGISTRATIONS_PER_IP, "20");
        d.put(Setting.TRUSTED_PROXIES, "");       // the connection's address
        d.put(Setting.TOKEN_TTL, "24h");
        d.put(Setting.ACCESS_TOKEN_TTL, "10m");   // a browser session's access tokens
        d.put(Setting.ALLOWED_ORIGINS, "");       // same origin + localhost
        d.put(Setting.NODE_ID, "");               // host name + random
        d.put(Setting.RATE_LIMIT, "20");
        d.put(Setting.RATE_BURST, "40");
        d.put(Setting.MAX_ROOMS_PER_CONNECTION, "100");
        d.put(Setting.MAX_ROOMS_PER_USER, "200");
        d.put(Setting.ROOMS_PER_HOUR, "30");
        d.put(Setting.API_RATE, "20");
        d.put(Setting.MAX_IN_FLIGHT, "128");
        d.put(Setting.MAX_FRAME_BYTES, "16384");  // 16 KiB
        d.put(Setting.MAX_TEXT_LENGTH, "4000");
        d.put(Setting.USERNAME_PATTERN, "^[A-Za-z0-9_.-]{3,32}$");
        d.put(Setting.ROOM_PATTERN, "^[a-z0-9][a-z0-9_-]{0,63}$");
        d.put(Setting.PASSWORD_MIN, "8");
        d.put(Setting.PASSWORD_MAX, "128");
        d.put(Setting.BCRYPT_COST, "10");
        d.put(Setting.OUTBOX_FRAMES, "2048");
        d.put(Setting.OUTBOX_BYTES, "16777216"); // 16 MiB
        d.put(Setting.REPLAY_LIMIT, "1000");
        d.put(Setting.HEARTBEAT_INTERVAL, "25s");
        d.put(Setting.HEARTBEAT_TIMEOUT, "60s");
        d.put(Setting.APPEND_BATCH_MAX, "1024");
        d.put(Setting.APPEND_LINGER, "1ms");
        d.put(Setting.EVENT_LOOPS, "0");          // one per core
        d.put(Setting.DRAIN_TIMEOUT, "10s");
        d.put(Setting.FLUSH_INTERVAL, "3ms");
        d.put(Setting.PRESENCE_TTL, "15s");
        d.put(Setting.PRESENCE_BATCH_THRESHOLD, "100");
        d.put(Setting.PRESENCE_BATCH_INTERVAL, "2s");
        d.put(Setting.LOG_FORMAT, "text");
        d.put(Setting.ADMINS, "");                // nobody
        d.put(Setting.ROOM_CREATION, "anyone");
        d.put(Setting.API_DOCS, "on");
        d.put(Setting.TRANSPORT, "auto");         // the fastest available as measured (dev.parley.NetworkTransport)
        d.put(Setting.JOURNAL_SYNC, "commit");    // synced to the disk per group commit; the README says what each value survives
        d.put(Setting.OUTBOX_BUDGET, "0");        // a quarter of the maximum heap
        d.put(Setting.UNWRITABLE_TIMEOUT, "30s");
        d.put(Setting.REQUEST_HEAD_TIMEOUT, "10s");
        d.put(Setting.MAX_CONNECTIONS, "20000");
        d.put(Setting.MAX_CONNECTIONS_PER_IP, "1000");
        d.put(Setting.MAX_CONNECTIONS_PER_USER, "100");
        d.put(Setting.RETENTION_DAYS, "0");       // for ever
        d.put(Setting.RETENTION_MESSAGES, "0");   // no limit
        d.put(Setting.WEBHOOK_ALLOW_PRIVATE, "false"); // public addresses only (SSRF)
        d.put(Setting.WEBHOOK_TIMEOUT, "10s");
        d.put(Setting.WEBHOOK_RETRY_BASE, "10s");
        d.put(Setting.WEBHOOK_ATTEMPTS, "12");   // about 2 to 3.5 hours with the back-off
        d.put(Setting.UPGRADE_RATE, "1000");      // 19,000 clients of a restarted node back in about 20 s (CONFIG.md)
        return d;
    }

    @Test
    void every_setting_has_its_documented_default() {
        assertThat(DOCUMENTED_DEFAULTS.keySet()).as("settings with a documented default").containsExactlyInAnyOrder(Setting.values());
        for (Setting s : Setting.values()) assertThat(s.defaultValue).as(s.env).isEqualTo(DOCUMENTED_DEFAULTS.get(s));
    }

    @Test
    void the_defaults_are_a_single_node_on_a_laptop() {
        ChatConfig c = ChatConfig.defaults();
        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.dataDir()).isEqualTo(Path.of("./data"));
        Path h2File = Path.of("./data").toAbsolutePath().normalize().resolve("parley");
        assertThat(c.databaseUrl()).isEqualTo("jdbc:h2:file:" + h2File + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_ON_EXIT=FALSE;CACHE_SIZE=2048");
        assertThat(c.h2()).isTrue();
        assertThat(c.databaseUser()).isEmpty();
        assertThat(c.databasePassword()).isEmpty();
        assertThat(c.databasePoolSize()).isEqualTo(8);
        assertThat(c.clustered()).isFalse();
        assertThat(c.jwtSecret()).isEmpty();
        assertThat(c.jwksUrl()).isEmpty();
        assertThat(c.jwksIssuer()).isEmpty();
        assertThat(c.jwksAudience()).isEmpty();
        assertThat(c.registrationOpen()).isTrue();
        assertThat(c.passwordThreadCount()).isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
        assertThat(c.passwordQueue()).isEqualTo(32);
        assertThat(c.loginFailuresPerIp()).isEqualTo(50);
        assertThat(c.registrationsPerIp()).isEqualTo(20);
        assertThat(c.trustedProxies()).isEmpty();
        assertThat(c.tokenTtl()).isEqualTo(Duration.ofHours(24));
        assertThat(c.accessTokenTtl()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.allowedOrigins()).isEmpty();
        assertThat(c.nodeId()).matches(".+-[0-9a-f]{5}").matches(NODE_ID_RULE);
        assertThat(c.rateLimit()).isEqualTo(20.0);
        assertThat(c.rateBurst()).isEqualTo(40);
        assertThat(c.maxRoomsPerConnection()).isEqualTo(100);
        assertThat(c.maxRoomsPerUser()).isEqualTo(200);
        assertThat(c.roomsPerHour()).isEqualTo(30);
        assertThat(c.apiRate()).isEqualTo(20);
        assertThat(c.maxInFlight()).isEqualTo(128);
        assertThat(c.maxFrameBytes()).isEqualTo(16 * 1024);
        assertThat(c.maxTextLength()).isEqualTo(4000);
        assertThat(c.usernamePattern().pattern()).isEqualTo("^[A-Za-z0-9_.-]{3,32}$");
        assertThat(c.roomPattern().pattern()).isEqualTo("^[a-z0-9][a-z0-9_-]{0,63}$");
        assertThat(c.passwordMin()).isEqualTo(8);
        assertThat(c.passwordMax()).isEqualTo(128);
        assertThat(c.bcryptCost()).isEqualTo(10);
        assertThat(c.outboxFrames()).isEqualTo(2048);
        assertThat(c.outboxBytes()).isEqualTo(16L << 20);
        assertThat(c.flushInterval()).isEqualTo(Duration.ofMillis(3));
        assertThat(c.replayLimit()).isEqualTo(1000);
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(25));
        assertThat(c.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.appendBatchMax()).isEqualTo(1024);
        assertThat(c.appendLinger()).isEqualTo(Duration.ofMillis(1));
        assertThat(c.eventLoops()).isZero();
        assertThat(c.eventLoopCount()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.presenceTtl()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.presenceBatchThreshold()).isEqualTo(100);
        assertThat(c.presenceBatchInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.logFormat()).isEqualTo("text");
        assertThat(c.adminHost()).isEqualTo("127.0.0.1");
        assertThat(c.adminPort()).isEqualTo(9180);
        assertThat(c.apiDocs()).isTrue();
        assertThat(c.outboxBudget()).isZero();
        assertThat(c.effectiveOutboxBudget()).isEqualTo(Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4));
        assertThat(c.unwritableTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.requestHeadTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.maxConnections()).isEqualTo(20_000);
        assertThat(c.maxConnectionsPerIp()).isEqualTo(1000);
        assertThat(c.maxConnectionsPerUser()).isEqualTo(100);
        assertThat(c.retentionDays()).isZero();
        assertThat(c.retentionMessages()).isZero();
        assertThat(c.webhookAllowPrivate()).isFalse();
        assertThat(c.webhookTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.webhookRetryBase()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.webhookAttempts()).isEqualTo(12);
        assertThat(c.upgradeRate()).isEqualTo(1000);
    }

    @Test
    void an_environment_variable_overrides_the_default_and_a_flag_overrides_both() {
        Map<String, String> env = Map.of("CHAT_PORT", "9000", "CHAT_RATE_LIMIT", "5", "CHAT_TOKEN_TTL", "30m");
        ChatConfig fromEnv = ChatConfig.load(env, Map.of());
        assertThat(fromEnv.port()).isEqualTo(9000);
        assertThat(fromEnv.rateLimit()).isEqualTo(5.0);
        assertThat(fromEnv.tokenTtl()).isEqualTo(Duration.ofMinutes(30));
        assertThat(fromEnv.rateBurst()).isEqualTo(40);

        ChatConfig both = ChatConfig.load(env, Map.of(Setting.PORT, "9100", Setting.RATE_BURST, "7"));
        assertThat(both.port()).isEqualTo(9100);
        assertThat(both.rateLimit()).isEqualTo(5.0);
        assertThat(both.rateBurst()).isEqualTo(7);
        assertThat(both.tokenTtl()).isEqualTo(Duration.ofMinutes(30));
    }

    @Test
    void every_setting_is_read_from_its_variable_and_its_flag() {
        Map<Setting, String> values = new EnumMap<>(Setting.class);
        values.put(Setting.HOST, "127.0.0.2");
        values.put(Setting.PORT, "8181");
        values.put(Setting.DATA_DIR, "/var/lib/parley");
        values.put(Setting.DATABASE_URL, "jdbc:postgresql://db:5432/chat");
        values.put(Setting.DATABASE_USER, "chat");
        values.put(Setting.DATABASE_PASSWORD, "db-password");
        values.put(Setting.DATABASE_POOL_SIZE, "16");
        values.put(Setting.REDIS_URL, "redis://cache:6379");
        values.put(Setting.JWT_SECRET, "0123456789abcdef0123456789abcdef-secret");
        values.put(Setting.CLUSTER_KEY, "cluster-key-0123456789abcdef0123456789");
        values.put(Setting.JWKS_URL, "https://idp.example/jwks.json");
        values.put(Setting.JWKS_ISSUER, "https://idp.example/");
        values.put(Setting.JWKS_AUDIENCE, "parley-chat");
        values.put(Setting.REGISTRATION, "Closed");
        values.put(Setting.PASSWORD_THREADS, "3");
        values.put(Setting.PASSWORD_QUEUE, "100");
        values.put(Setting.LOGIN_FAILURES_PER_IP, "25");
        values.put(Setting.REGISTRATIONS_PER_IP, "5");
        values.put(Setting.TRUSTED_PROXIES, "10.0.0.0/8, ::1");
        values.put(Setting.TOKEN_TTL, "7d");
        values.put(Setting.ACCESS_TOKEN_TTL, "90s");
        values.put(Setting.ALLOWED_ORIGINS, "https://chat.example, https://www.example/");
        values.put(Setting.NODE_ID, "node-a");
        values.put(Setting.RATE_LIMIT, "2.5");
        values.put(Setting.RATE_BURST, "5");
        values.put(Setting.MAX_ROOMS_PER_CONNECTION, "10");
        values.put(Setting.MAX_ROOMS_PER_USER, "25");
        values.put(Setting.ROOMS_PER_HOUR, "0");
        values.put(Setting.API_RATE, "0");
        values.put(Setting.MAX_IN_FLIGHT, "32");
        values.put(Setting.MAX_FRAME_BYTES, "4096");
        values.put(Setting.MAX_TEXT_LENGTH, "500");
        values.put(Setting.USERNAME_PATTERN, "^[a-z]{2,10}$");
        values.put(Setting.ROOM_PATTERN, "^[a-z]+$");
        values.put(Setting.PASSWORD_MIN, "12");
        values.put(Setting.PASSWORD_MAX, "64");
        values.put(Setting.BCRYPT_COST, "12");
        values.put(Setting.OUTBOX_FRAMES, "256");
        values.put(Setting.OUTBOX_BYTES, "1048576");
        values.put(Setting.FLUSH_INTERVAL, "0ms");
        values.put(Setting.REPLAY_LIMIT, "200");
        values.put(Setting.HEARTBEAT_INTERVAL, "10s");
        values.put(Setting.HEARTBEAT_TIMEOUT, "PT30S");
        values.put(Setting.APPEND_BATCH_MAX, "64");
        values.put(Setting.APPEND_LINGER, "0ms");
        values.put(Setting.EVENT_LOOPS, "3");
        values.put(Setting.DRAIN_TIMEOUT, "1500ms");
        values.put(Setting.PRESENCE_TTL, "4s");
        values.put(Setting.PRESENCE_BATCH_THRESHOLD, "7");
        values.put(Setting.PRESENCE_BATCH_INTERVAL, "500ms");
        values.put(Setting.LOG_FORMAT, "JSON");
        values.put(Setting.ADMINS, "root,Ops.Lead");
        values.put(Setting.ROOM_CREATION, "Admins");
        values.put(Setting.ADMIN_HOST, "10.0.0.5");
        values.put(Setting.ADMIN_PORT, "9200");
        values.put(Setting.API_DOCS, "OFF");
        values.put(Setting.JOURNAL_SYNC, "None");
        values.put(Setting.TRANSPORT, "IO_URING");
        values.put(Setting.OUTBOX_BUDGET, "5000000000");
        values.put(Setting.UNWRITABLE_TIMEOUT, "2m");
        values.put(Setting.REQUEST_HEAD_TIMEOUT, "2500ms");
        values.put(Setting.MAX_CONNECTIONS, "0");
        values.put(Setting.MAX_CONNECTIONS_PER_IP, "12");
        values.put(Setting.MAX_CONNECTIONS_PER_USER, "3");
        values.put(Setting.RETENTION_DAYS, "90");
        values.put(Setting.RETENTION_MESSAGES, "5000000");
        values.put(Setting.WEBHOOK_ALLOW_PRIVATE, "TRUE");
        values.put(Setting.WEBHOOK_TIMEOUT, "3s");
        values.put(Setting.WEBHOOK_RETRY_BASE, "50ms");
        values.put(Setting.WEBHOOK_ATTEMPTS, "3");
        values.put(Setting.UPGRADE_RATE, "2.5");
        // All but CHAT_CLUSTER_KEY_FILE, which may not be given with CHAT_CLUSTER_KEY: its own test below.
        assertThat(values.keySet()).containsExactlyInAnyOrderElementsOf(EnumSet.complementOf(EnumSet.of(Setting.CLUSTER_KEY_FILE)));

        Map<String, String> env = values.entrySet().stream().collect(Collectors.toMap(e -> e.getKey().env, e -> " " + e.getValue() + " "));
        for (ChatConfig c : List.of(ChatConfig.load(env, Map.of()), ChatConfig.load(Map.of(), values))) {
            assertThat(c.host()).isEqualTo("127.0.0.2");
            assertThat(c.port()).isEqualTo(8181);
            assertThat(c.dataDir()).isEqualTo(Path.of("/var/lib/parley"));
            assertThat(c.databaseUrl()).isEqualTo("jdbc:postgresql://db:5432/chat");
            assertThat(c.h2()).isFalse();
            assertThat(c.databaseUser()).isEqualTo("chat");
            assertThat(c.databasePassword()).isEqualTo("db-password");
            assertThat(c.databasePoolSize()).isEqualTo(16);
            assertThat(c.redisUrl()).isEqualTo("redis://cache:6379");
            assertThat(c.clustered()).isTrue();
            assertThat(c.jwtSecret()).isEqualTo("0123456789abcdef0123456789abcdef-secret");
            assertThat(c.clusterKey()).isEqualTo("cluster-key-0123456789abcdef0123456789");
            assertThat(c.jwksUrl()).isEqualTo("https://idp.example/jwks.json");
            assertThat(c.jwksIssuer()).isEqualTo("https://idp.example/");
            assertThat(c.jwksAudience()).isEqualTo("parley-chat");
            assertThat(c.registrationOpen()).isFalse();
            assertThat(c.passwordThreadCount()).isEqualTo(3);
            assertThat(c.passwordQueue()).isEqualTo(100);
            assertThat(c.loginFailuresPerIp()).isEqualTo(25);
            assertThat(c.registrationsPerIp()).isEqualTo(5);
            assertThat(c.trustedProxies()).extracting(AddressRange::toString).containsExactly("10.0.0.0/8", "::1");
            assertThat(c.tokenTtl()).isEqualTo(Duration.ofDays(7));
            assertThat(c.accessTokenTtl()).isEqualTo(Duration.ofSeconds(90));
            assertThat(c.allowedOrigins()).containsExactly("https://chat.example", "https://www.example");
            assertThat(c.nodeId()).isEqualTo("node-a");
            assertThat(c.rateLimit()).isEqualTo(2.5);
            assertThat(c.rateBurst()).isEqualTo(5);
            assertThat(c.maxRoomsPerConnection()).isEqualTo(10);
            assertThat(c.maxRoomsPerUser()).isEqualTo(25);
            assertThat(c.roomsPerHour()).isZero();
            assertThat(c.apiRate()).isZero();
            assertThat(c.maxInFlight()).isEqualTo(32);
            assertThat(c.maxFrameBytes()).isEqualTo(4096);
            assertThat(c.maxTextLength()).isEqualTo(500);
            assertThat(c.usernamePattern().pattern()).isEqualTo("^[a-z]{2,10}$");
            assertThat(c.roomPattern().pattern()).isEqualTo("^[a-z]+$");
            assertThat(c.passwordMin()).isEqualTo(12);
            assertThat(c.passwordMax()).isEqualTo(64);
            assertThat(c.bcryptCost()).isEqualTo(12);
            assertThat(c.outboxFrames()).isEqualTo(256);
            assertThat(c.outboxBytes()).isEqualTo(1L << 20);
            assertThat(c.flushInterval()).isZero();
            assertThat(c.replayLimit()).isEqualTo(200);
            assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
            assertThat(c.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(30));
            assertThat(c.appendBatchMax()).isEqualTo(64);
            assertThat(c.appendLinger()).isZero();
            assertThat(c.eventLoopCount()).isEqualTo(3);
            assertThat(c.drainTimeout()).isEqualTo(Duration.ofMillis(1500));
            assertThat(c.presenceTtl()).isEqualTo(Duration.ofSeconds(4));
            assertThat(c.presenceBatchThreshold()).isEqualTo(7);
            assertThat(c.presenceBatchInterval()).isEqualTo(Duration.ofMillis(500));
            assertThat(c.logFormat()).isEqualTo("json");
            assertThat(c.admins()).containsExactly("root", "Ops.Lead");
            assertThat(c.roomCreationByAnyone()).isFalse();
            assertThat(c.adminHost()).isEqualTo("10.0.0.5");
            assertThat(c.adminPort()).isEqualTo(9200);
            assertThat(c.apiDocs()).isFalse();
            assertThat(c.journalSync()).isFalse();
            assertThat(c.transport()).isEqualTo("io_uring");
            assertThat(c.outboxBudget()).isEqualTo(5_000_000_000L);
            assertThat(c.effectiveOutboxBudget()).isEqualTo(5_000_000_000L);
            assertThat(c.unwritableTimeout()).isEqualTo(Duration.ofMinutes(2));
            assertThat(c.requestHeadTimeout()).isEqualTo(Duration.ofMillis(2500));
            assertThat(c.maxConnections()).isZero();
            assertThat(c.maxConnectionsPerIp()).isEqualTo(12);
            assertThat(c.maxConnectionsPerUser()).isEqualTo(3);
            assertThat(c.retentionDays()).isEqualTo(90);
            assertThat(c.retentionMessages()).isEqualTo(5_000_000);
            assertThat(c.webhookAllowPrivate()).isTrue();
            assertThat(c.webhookTimeout()).isEqualTo(Duration.ofSeconds(3));
            assertThat(c.webhookRetryBase()).isEqualTo(Duration.ofMillis(50));
            assertThat(c.webhookAttempts()).isEqualTo(3);
            assertThat(c.upgradeRate()).isEqualTo(2.5);
        }
    }

    @Test
    void the_cluster_key_is_read_from_its_variable_or_flag_or_from_a_file_and_is_derived_from_the_jwt_secret_when_not_set(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cluster-key");
        Files.writeString(file, "  key-from-a-file-0123456789abcdef0123456789\n");
        for (ChatConfig c : List.of(ChatConfig.load(Map.of("CHAT_CLUSTER_KEY_FILE", file.toString()), Map.of()),
                ChatConfig.load(Map.of(), Map.of(Setting.CLUSTER_KEY_FILE, file.toString())))) {
            assertThat(c.clusterKey()).isEqualTo("key-from-a-file-0123456789abcdef0123456789");
            assertThat(c.clusterKeyFile()).isEqualTo(file.toString());
            assertThat(c.describe()).containsEntry("CHAT_CLUSTER_KEY", "****").containsEntry("CHAT_CLUSTER_KEY_FILE", file.toString());
        }
        assertThat(ChatConfig.load(Map.of("CHAT_CLUSTER_KEY", "key-from-the-environment-0123456789abcdef"), Map.of(Setting.CLUSTER_KEY, "key-from-a-flag-0123456789abcdef-0123"))
                .clusterKey()).isEqualTo("key-from-a-flag-0123456789abcdef-0123");

        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_CLUSTER_KEY", "key-from-the-environment-0123456789abcdef",
                "CHAT_CLUSTER_KEY_FILE", file.toString()), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessage("CHAT_CLUSTER_KEY_FILE: " + file + " (expected: CHAT_CLUSTER_KEY or CHAT_CLUSTER_KEY_FILE, not both)");
        Files.writeString(file, "short\n");
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_CLUSTER_KEY_FILE", file.toString()), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessage("CHAT_CLUSTER_KEY_FILE: " + file + ": too short (expected: at least 32 bytes)");

        ChatConfig derived = ChatConfig.load(Map.of("CHAT_REDIS_URL", "redis://cache:6379"), Map.of());
        assertThat(derived.clusterKey()).isEmpty();
        assertThat(derived.describe()).containsEntry("CHAT_CLUSTER_KEY", "(derived from CHAT_JWT_SECRET)");
        assertThat(ChatConfig.defaults().describe()).containsEntry("CHAT_CLUSTER_KEY", ""); // no cluster: no key
    }

    @Test
    void variables_without_the_chat_prefix_are_ignored() {
        ChatConfig c = ChatConfig.load(Map.of("PORT", "1234", "DATABASE_URL", "jdbc:mysql://x", "chat_port", "1"), Map.of());
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.h2()).isTrue();
    }

    @Test
    void the_h2_file_lives_in_the_data_dir() {
        ChatConfig c = ChatConfig.load(Map.of("CHAT_DATA_DIR", "/srv/chat"), Map.of());
        assertThat(c.databaseUrl()).startsWith("jdbc:h2:file:/srv/chat/parley;").contains("DB_CLOSE_ON_EXIT=FALSE").doesNotContain("WRITE_DELAY");
    }

    /** Settings that take any text; every other setting must have a case in {@link #invalidValues()}. */
    private static final Set<Setting> FREE_TEXT = EnumSet.of(Setting.HOST, Setting.DATA_DIR, Setting.DATABASE_USER,
            Setting.DATABASE_PASSWORD, Setting.ADMIN_HOST);

    private static final String JWKS_URL_EXPECTED = "expected: an https URL, or http for a loopback host";

    @Test
    void an_identity_provider_is_trusted_only_with_its_issuer_and_our_audience() {
        Map<String, String> jwks = Map.of("CHAT_JWKS_URL", "https://idp.example/jwks.json");
        assertThatThrownBy(() -> ChatConfig.load(jwks, Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHAT_JWKS_ISSUER: ").hasMessageContaining("required with CHAT_JWKS_URL");
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_JWKS_URL", "https://idp.example/jwks.json", "CHAT_JWKS_ISSUER", "https://idp.example/"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("CHAT_JWKS_AUDIENCE: ").hasMessageContaining("required with CHAT_JWKS_URL");

        ChatConfig c = ChatConfig.load(Map.of("CHAT_JWKS_URL", "https://idp.example/jwks.json", "CHAT_JWKS_ISSUER", "https://idp.example/",
                "CHAT_JWKS_AUDIENCE", "parley"), Map.of());
        assertThat(c.warnings()).singleElement().asString().contains("CHAT_REGISTRATION=closed");
        ChatConfig closed = ChatConfig.load(Map.of("CHAT_JWKS_URL", "https://idp.example/jwks.json", "CHAT_JWKS_ISSUER", "https://idp.example/",
                "CHAT_JWKS_AUDIENCE", "parley", "CHAT_REGISTRATION", "closed"), Map.of());
        assertThat(closed.warnings()).isEmpty();
    }

    @Test
    void plain_http_for_the_keys_is_for_a_loopback_host_only() {
        for (String ok : new String[]{"https://idp.example/jwks.json", "http://127.0.0.1:8081/jwks", "http://localhost/jwks", "http://[::1]:9000/jwks",
                "http://127.9.9.9/jwks", "HTTPS://IDP.EXAMPLE/jwks"}) {
            assertThat(ChatConfig.jwksUrlAllowed(ok)).as(ok).isTrue();
        }
        for (String bad : new String[]{"http://idp.example/jwks.json", "http://10.0.0.1/jwks", "http://localhost.evil.example/jwks",
                "http://127.0.0.1@idp.example/jwks", "file:///etc/jwks.json", "https:///jwks", "not a url"}) {
            assertThat(ChatConfig.jwksUrlAllowed(bad)).as(bad).isFalse();
        }
    }

    /** What CHAT_NODE_ID takes (docs/CONFIG.md): it goes into Redis entries ({@code <node>|<user>}) and client names. */
    private static final String NODE_ID_RULE = "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}";
    private static final String NODE_ID_EXPECTED = "expected: 1 to 64 ASCII letters, digits, '_', '.' or '-', starting with a letter or digit";

    static Stream<Arguments> invalidValues() {
        String whole = "expected: a whole number from ";
        String duration = "expected: a duration such as 250ms, 90s, 30m, 24h or 7d";
        String positive = "expected: a duration of at least 1ms";
        return Stream.of(
                Arguments.of(Setting.PORT, "http", whole + "0 to 65535"),
                Arguments.of(Setting.PORT, "65536", whole + "0 to 65535"),
                Arguments.of(Setting.PORT, "", whole + "0 to 65535"),
                Arguments.of(Setting.ADMIN_PORT, "admin", whole + "0 to 65535"),
                Arguments.of(Setting.ADMIN_PORT, "8080", "expected: a port other than CHAT_PORT 8080"),
                Arguments.of(Setting.API_DOCS, "maybe", "expected: on or off"),
                Arguments.of(Setting.ALLOWED_ORIGINS, "chat.example.com", "expected: comma-separated origins such as https://chat.example.com, or *"),
                Arguments.of(Setting.ALLOWED_ORIGINS, "https://a.example; script-src *", "expected: comma-separated origins"),
                Arguments.of(Setting.DATABASE_URL, "jdbc:mysql://db/chat", "expected: a jdbc:h2: or jdbc:postgresql: URL"),
                Arguments.of(Setting.DATABASE_POOL_SIZE, "0", whole + "1 to 200"),
                Arguments.of(Setting.REDIS_URL, "cache:6379", "expected: redis://[[user]:password@]host[:port] (one Redis), redis-sentinel://"),
                Arguments.of(Setting.REDIS_URL, "redis-sentinel://sentinel:26379", "expected: redis://[[user]:password@]host[:port] (one Redis), redis-sentinel://"),
                Arguments.of(Setting.REDIS_URL, "redis-sentinel://sentinel:26379#", "expected: redis://[[user]:password@]host[:port] (one Redis), redis-sentinel://"),
                Arguments.of(Setting.REDIS_URL, "rediscluster://cache:7000", "expected: redis://[[user]:password@]host[:port] (one Redis), redis-sentinel://"),
                Arguments.of(Setting.JWT_SECRET, "too-short-secret", "expected: at least 32 bytes"),
                Arguments.of(Setting.CLUSTER_KEY, "too-short-key", "expected: at least 32 bytes"),
                Arguments.of(Setting.CLUSTER_KEY_FILE, "/nonexistent/parley-cluster-key", "expected: a readable file holding the key"),
                Arguments.of(Setting.JWKS_URL, "idp.example/jwks.json", JWKS_URL_EXPECTED),
                Arguments.of(Setting.JWKS_URL, "http://idp.example/jwks.json", JWKS_URL_EXPECTED),
                Arguments.of(Setting.JWKS_URL, "http://127.0.0.1.example/jwks.json", JWKS_URL_EXPECTED),
                Arguments.of(Setting.JWKS_URL, "ftp://idp.example/jwks.json", JWKS_URL_EXPECTED),
                Arguments.of(Setting.JWKS_ISSUER, "https://idp.example/", "expected: empty unless CHAT_JWKS_URL is set"),
                Arguments.of(Setting.JWKS_AUDIENCE, "parley", "expected: empty unless CHAT_JWKS_URL is set"),
                Arguments.of(Setting.REGISTRATION, "invite-only", "expected: open or closed"),
                Arguments.of(Setting.PASSWORD_THREADS, "-1", whole + "0 to 256"),
                Arguments.of(Setting.PASSWORD_QUEUE, "0", whole + "1 to 100000"),
                Arguments.of(Setting.LOGIN_FAILURES_PER_IP, "0", whole + "1 to 1000000"),
                Arguments.of(Setting.REGISTRATIONS_PER_IP, "none", whole + "1 to 1000000"),
                Arguments.of(Setting.TRUSTED_PROXIES, "proxy.example", "expected: comma-separated IP addresses or CIDR ranges"),
                Arguments.of(Setting.TRUSTED_PROXIES, "10.0.0.0/33", "expected: comma-separated IP addresses or CIDR ranges"),
                Arguments.of(Setting.TOKEN_TTL, "forever", duration),
                Arguments.of(Setting.TOKEN_TTL, "0s", positive),
                Arguments.of(Setting.TOKEN_TTL, "-1h", positive),
                Arguments.of(Setting.TOKEN_TTL, "400ms", "expected: at least 1s"),
                Arguments.of(Setting.ACCESS_TOKEN_TTL, "soon", duration),
                Arguments.of(Setting.ACCESS_TOKEN_TTL, "0s", positive),
                Arguments.of(Setting.ACCESS_TOKEN_TTL, "500ms", "expected: at least 1s"),
                Arguments.of(Setting.RATE_LIMIT, "fast", "expected: a number"),
                Arguments.of(Setting.RATE_LIMIT, "0", "expected: a finite number > 0"),
                Arguments.of(Setting.RATE_LIMIT, "NaN", "expected: a finite number > 0"),
                Arguments.of(Setting.RATE_LIMIT, "Infinity", "expected: a finite number > 0"),
                Arguments.of(Setting.RATE_BURST, "0", whole + "1 to 1000000"),
                Arguments.of(Setting.MAX_ROOMS_PER_CONNECTION, "0", whole + "1 to 100000"),
                Arguments.of(Setting.MAX_ROOMS_PER_USER, "50", "expected: at least CHAT_MAX_ROOMS_PER_CONNECTION 100"),
                Arguments.of(Setting.MAX_ROOMS_PER_USER, "none", whole + "1 to 1000000"),
                Arguments.of(Setting.ROOMS_PER_HOUR, "-1", whole + "0 to 1000000"),
                Arguments.of(Setting.API_RATE, "-1", whole + "0 to 1000000"),
                Arguments.of(Setting.MAX_IN_FLIGHT, "0", whole + "1 to 100000"),
                Arguments.of(Setting.MAX_FRAME_BYTES, "100", whole + "256 to 16777216"),
                Arguments.of(Setting.MAX_TEXT_LENGTH, "0", whole + "1 to 1000000"),
                Arguments.of(Setting.USERNAME_PATTERN, "[a-z", "expected: a regular expression"),
                Arguments.of(Setting.ROOM_PATTERN, "(", "expected: a regular expression"),
                Arguments.of(Setting.PASSWORD_MIN, "0", whole + "1 to 1024"),
                Arguments.of(Setting.PASSWORD_MIN, "200", "expected: <= CHAT_PASSWORD_MAX 128"),
                Arguments.of(Setting.PASSWORD_MAX, "lots", whole + "1 to 4096"),
                Arguments.of(Setting.BCRYPT_COST, "3", whole + "4 to 31"),
                Arguments.of(Setting.BCRYPT_COST, "32", whole + "4 to 31"),
                Arguments.of(Setting.OUTBOX_FRAMES, "2", whole + "4 to 1000000"),
                Arguments.of(Setting.OUTBOX_BYTES, "65536", whole + "1048576 to 2147483647"),
                Arguments.of(Setting.OUTBOX_BYTES, "2000000", "expected: at least 128 x CHAT_MAX_FRAME_BYTES = 2097152"),
                Arguments.of(Setting.REPLAY_LIMIT, "0", whole + "1 to 1000000"),
                Arguments.of(Setting.FLUSH_INTERVAL, "soon", "expected: a duration such as 2ms"),
                Arguments.of(Setting.FLUSH_INTERVAL, "-1ms", "expected: 0ms to 100ms"),
                Arguments.of(Setting.FLUSH_INTERVAL, "1s", "expected: 0ms to 100ms"),
                Arguments.of(Setting.HEARTBEAT_INTERVAL, "0s", positive),
                Arguments.of(Setting.HEARTBEAT_INTERVAL, "PT0.0001S", positive),
                Arguments.of(Setting.HEARTBEAT_INTERVAL, "often", duration),
                Arguments.of(Setting.HEARTBEAT_TIMEOUT, "10s", "expected: longer than the heartbeat interval"),
                Arguments.of(Setting.HEARTBEAT_TIMEOUT, "1.5m", duration),
                Arguments.of(Setting.APPEND_BATCH_MAX, "0", whole + "1 to 10000"),
                Arguments.of(Setting.APPEND_LINGER, "later", "expected: a duration such as 2ms"),
                Arguments.of(Setting.APPEND_LINGER, "101ms", "expected: 0ms to 100ms"),
                Arguments.of(Setting.EVENT_LOOPS, "-1", whole + "0 to 1024"),
                Arguments.of(Setting.DRAIN_TIMEOUT, "0s", positive),
                Arguments.of(Setting.DRAIN_TIMEOUT, "-5s", positive),
                Arguments.of(Setting.DRAIN_TIMEOUT, "10", duration),
                Arguments.of(Setting.PRESENCE_TTL, "100ms", "expected: at least 300ms"),
                Arguments.of(Setting.PRESENCE_TTL, "15", duration),
                Arguments.of(Setting.PRESENCE_BATCH_THRESHOLD, "-1", "expected: a whole number from 0 to 1000000"),
                Arguments.of(Setting.PRESENCE_BATCH_INTERVAL, "10ms", "expected: 50ms to 1m"),
                Arguments.of(Setting.PRESENCE_BATCH_INTERVAL, "2m", "expected: 50ms to 1m"),
                Arguments.of(Setting.LOG_FORMAT, "xml", "expected: text or json"),
                Arguments.of(Setting.OUTBOX_BUDGET, "-1", whole + "0 to 1099511627776"),
                Arguments.of(Setting.OUTBOX_BUDGET, "lots", whole + "0 to 1099511627776"),
                Arguments.of(Setting.OUTBOX_BUDGET, "1048576", "expected: 0, or at least CHAT_OUTBOX_BYTES = 16777216"),
                Arguments.of(Setting.UNWRITABLE_TIMEOUT, "0s", positive),
                Arguments.of(Setting.UNWRITABLE_TIMEOUT, "never", duration),
                Arguments.of(Setting.REQUEST_HEAD_TIMEOUT, "0ms", positive),
                Arguments.of(Setting.REQUEST_HEAD_TIMEOUT, "10", duration),
                Arguments.of(Setting.MAX_CONNECTIONS, "-1", whole + "0 to 10000000"),
                Arguments.of(Setting.MAX_CONNECTIONS_PER_IP, "many", whole + "0 to 10000000"),
                Arguments.of(Setting.MAX_CONNECTIONS_PER_USER, "-2", whole + "0 to 10000000"),
                Arguments.of(Setting.RETENTION_DAYS, "-1", whole + "0 to 36500"),
                Arguments.of(Setting.RETENTION_DAYS, "36501", whole + "0 to 36500"),
                Arguments.of(Setting.RETENTION_MESSAGES, "1000000001", whole + "0 to 1000000000"),
                Arguments.of(Setting.RETENTION_MESSAGES, "1e6", whole + "0 to 1000000000"),
                Arguments.of(Setting.WEBHOOK_ALLOW_PRIVATE, "yes", "expected: true or false"),
                Arguments.of(Setting.WEBHOOK_TIMEOUT, "0s", positive),
                Arguments.of(Setting.WEBHOOK_RETRY_BASE, "soon", duration),
                Arguments.of(Setting.WEBHOOK_ATTEMPTS, "0", whole + "1 to 100"),
                Arguments.of(Setting.WEBHOOK_ATTEMPTS, "101", whole + "1 to 100"),
                Arguments.of(Setting.UPGRADE_RATE, "-1", "expected: a finite number >= 0; 0 means no limit"),
                Arguments.of(Setting.UPGRADE_RATE, "NaN", "expected: a finite number >= 0; 0 means no limit"),
                Arguments.of(Setting.UPGRADE_RATE, "fast", "expected: a number"),
                Arguments.of(Setting.ROOM_CREATION, "everyone", "expected: anyone or admins"),
                Arguments.of(Setting.JOURNAL_SYNC, "always", "expected: none or commit"),
                Arguments.of(Setting.TRANSPORT, "kqueue", "expected: auto, io_uring, epoll or nio"),
                Arguments.of(Setting.JOURNAL_SYNC, "fsync", "expected: none or commit"),
                Arguments.of(Setting.ADMINS, "root, two words", "expected: comma-separated usernames of at most 64 characters, without spaces"),
                Arguments.of(Setting.ADMINS, "a".repeat(65), "expected: comma-separated usernames of at most 64 characters, without spaces"),
                Arguments.of(Setting.NODE_ID, "edge|1", NODE_ID_EXPECTED),
                Arguments.of(Setting.NODE_ID, "edge{1}", NODE_ID_EXPECTED),
                Arguments.of(Setting.NODE_ID, "edge 1", NODE_ID_EXPECTED),
                Arguments.of(Setting.NODE_ID, "-edge", NODE_ID_EXPECTED),
                Arguments.of(Setting.NODE_ID, "n".repeat(65), NODE_ID_EXPECTED),
                Arguments.of(Setting.NODE_ID, "nœud", NODE_ID_EXPECTED));
    }

    @Test
    void a_node_id_that_could_break_redis_entries_is_refused_naming_it() {
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_NODE_ID", "edge|1"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHAT_NODE_ID: edge|1 (" + NODE_ID_EXPECTED + ")");
        assertThat(ChatConfig.load(Map.of("CHAT_NODE_ID", "eu-west.node_7"), Map.of()).nodeId()).isEqualTo("eu-west.node_7");
    }

    @Test
    void a_room_pattern_that_admits_braces_or_nothing_still_cannot_let_them_into_a_room_name() {
        Limits limits = new Limits(ChatConfig.load(Map.of("CHAT_ROOM_PATTERN", ".*"), Map.of()));

        for (String name : new String[]{"{general}", "a}b", "{", "", "}x{"}) {
            assertThatThrownBy(() -> limits.room(name)).as(name).isInstanceOfSatisfying(ChatException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST));
        }
        assertThat(limits.room("Any.Name with:colons|bars")).isEqualTo("Any.Name with:colons|bars");
    }

    @Test
    void a_node_id_made_of_the_host_name_follows_the_rule_whatever_the_host_name() {
        for (String host : new String[]{"web-1.example.org", "my host|with{odd}chars", "-dash", "", "h".repeat(200), "hôte"}) {
            assertThat(ChatConfig.defaultNodeId(host)).as(host).matches(NODE_ID_RULE);
        }
        assertThat(ChatConfig.defaultNodeId("web-1.example.org")).matches("web-1\\.example\\.org-[0-9a-f]{5}");
    }

    @Test
    void every_setting_that_can_be_invalid_has_an_invalid_case() {
        Set<Setting> covered = invalidValues().map(a -> (Setting) a.get()[0]).collect(Collectors.toSet());
        Set<Setting> all = EnumSet.allOf(Setting.class);
        all.removeAll(FREE_TEXT);
        assertThat(covered).containsExactlyInAnyOrderElementsOf(all);
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("invalidValues")
    void an_invalid_value_names_the_variable_and_what_was_expected(Setting setting, String value, String expected) {
        for (ChatConfigSource source : ChatConfigSource.values()) {
            // The cluster key's file is a setting of its own (CHAT_CLUSTER_KEY_FILE), which names itself.
            String named = setting == Setting.CLUSTER_KEY && source.name().equals("FILE") ? Setting.CLUSTER_KEY_FILE.env : setting.env;
            assertThatThrownBy(() -> source.load(setting, value))
                    .as("%s given as %s", setting.env, source)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith(named + ": ")
                    .hasMessageContaining("(" + expected);
        }
    }

    @Test
    void an_invalid_value_does_not_reveal_a_secret() {
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_JWT_SECRET", "hunter2-hunter2"), Map.of()))
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_CLUSTER_KEY", "hunter2-hunter2"), Map.of()))
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_DATABASE_URL", "jdbc:mysql://db/chat?user=chat&password=hunter2"), Map.of()))
                .hasMessageContaining("CHAT_DATABASE_URL").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_REDIS_URL", "http://default:hunter2@cache:6379"), Map.of()))
                .hasMessageContaining("CHAT_REDIS_URL").hasMessageNotContaining("hunter2");
    }

    @Test
    void a_replay_limit_over_half_the_outbox_is_cut_to_half_with_a_warning_and_so_is_a_commit_batch_warned_about() {
        ChatConfig defaults = ChatConfig.defaults();
        assertThat(defaults.effectiveReplayLimit()).isEqualTo(1000); // PROTOCOL.md 9.4
        assertThat(defaults.warnings()).isEmpty();

        ChatConfig tight = ChatConfig.load(Map.of("CHAT_OUTBOX_FRAMES", "600", "CHAT_REPLAY_LIMIT", "1000", "CHAT_APPEND_BATCH_MAX", "400"), Map.of());
        assertThat(tight.replayLimit()).isEqualTo(1000);
        assertThat(tight.effectiveReplayLimit()).isEqualTo(300);
        assertThat(tight.describe().get("CHAT_REPLAY_LIMIT")).isEqualTo("1000 (in effect 300)");
        assertThat(tight.warnings()).containsExactly(
                "CHAT_REPLAY_LIMIT 1000 is more than half of CHAT_OUTBOX_FRAMES (600): a join replays at most 300",
                "CHAT_APPEND_BATCH_MAX 400 is more than half of CHAT_OUTBOX_FRAMES (600): one commit to a busy room can close its members as slow consumers");

        ChatConfig halves = ChatConfig.load(Map.of("CHAT_OUTBOX_FRAMES", "600", "CHAT_REPLAY_LIMIT", "300", "CHAT_APPEND_BATCH_MAX", "300"), Map.of());
        assertThat(halves.effectiveReplayLimit()).isEqualTo(300);
        assertThat(halves.describe().get("CHAT_REPLAY_LIMIT")).isEqualTo("300");
        assertThat(halves.warnings()).isEmpty();
    }

    @Test
    void an_access_token_lifetime_longer_than_the_session_is_shown_as_the_session_s() {
        assertThat(ChatConfig.defaults().describe().get("CHAT_ACCESS_TOKEN_TTL")).isEqualTo("PT10M");
        ChatConfig longer = ChatConfig.load(Map.of("CHAT_TOKEN_TTL", "5m", "CHAT_ACCESS_TOKEN_TTL", "10m"), Map.of());
        assertThat(longer.describe().get("CHAT_ACCESS_TOKEN_TTL")).isEqualTo("PT10M (in effect PT5M, the session's)");
    }

    @Test
    void the_journal_is_synced_per_commit_unless_asked_not_to_and_only_the_embedded_database_has_one() {
        assertThat(ChatConfig.defaults().journalSync()).isTrue();
        assertThat(ChatConfig.defaults().describe().get("CHAT_JOURNAL_SYNC")).isEqualTo("commit");
        assertThat(ChatConfig.defaults().warnings()).isEmpty();
        ChatConfig unsynced = ChatConfig.load(Map.of("CHAT_JOURNAL_SYNC", "none"), Map.of());
        assertThat(unsynced.journalSync()).isFalse();
        assertThat(unsynced.describe().get("CHAT_JOURNAL_SYNC")).isEqualTo("none");
        assertThat(unsynced.warnings()).isEmpty();
        // On PostgreSQL there is no journal: the database's own synchronous_commit decides. The default
        // says so in the log; asking for none there is warned about, as it would not do what it says.
        ChatConfig postgres = ChatConfig.load(Map.of("CHAT_DATABASE_URL", "jdbc:postgresql://db/chat"), Map.of());
        assertThat(postgres.warnings()).isEmpty();
        assertThat(postgres.describe().get("CHAT_JOURNAL_SYNC")).isEqualTo("commit (no journal: the database's own durability)");
        ChatConfig postgresNone = ChatConfig.load(Map.of("CHAT_JOURNAL_SYNC", "none", "CHAT_DATABASE_URL", "jdbc:postgresql://db/chat"), Map.of());
        assertThat(postgresNone.warnings()).singleElement().asString().startsWith("CHAT_JOURNAL_SYNC none has no effect").contains("synchronous_commit");
    }

    @Test
    void an_outbox_budget_of_0_is_a_quarter_of_the_heap_but_never_less_than_one_outbox() {
        long quarter = Runtime.getRuntime().maxMemory() / 4;
        ChatConfig auto = ChatConfig.load(Map.of("CHAT_OUTBOX_BUDGET", "0"), Map.of());
        assertThat(auto.effectiveOutboxBudget()).isEqualTo(Math.max(quarter, 16L << 20));
        assertThat(auto.describe().get("CHAT_OUTBOX_BUDGET")).isEqualTo("0 (in effect " + auto.effectiveOutboxBudget() + ")");

        // An outbox bound bigger than a quarter of the heap: the budget is at least that bound.
        long big = Math.max(quarter + 1, 16L << 20);
        ChatConfig bigOutbox = ChatConfig.load(Map.of("CHAT_OUTBOX_BYTES", String.valueOf(Math.min(big, Integer.MAX_VALUE))), Map.of());
        assertThat(bigOutbox.effectiveOutboxBudget()).isGreaterThanOrEqualTo(bigOutbox.outboxBytes());

        ChatConfig set = ChatConfig.load(Map.of("CHAT_OUTBOX_BUDGET", "16777216"), Map.of());
        assertThat(set.effectiveOutboxBudget()).isEqualTo(16L << 20);
        assertThat(set.describe().get("CHAT_OUTBOX_BUDGET")).isEqualTo("16777216");
    }

    @Test
    void fewer_frames_in_flight_than_rooms_per_connection_is_warned_about() {
        ChatConfig c = ChatConfig.load(Map.of("CHAT_MAX_IN_FLIGHT", "50"), Map.of());
        assertThat(c.warnings()).containsExactly("CHAT_MAX_IN_FLIGHT 50 is less than CHAT_MAX_ROOMS_PER_CONNECTION (100): a client that"
                + " joins all its rooms again at once (after a reconnect) has some joins refused");
        assertThat(ChatConfig.load(Map.of("CHAT_RATE_BURST", "1000"), Map.of()).warnings()).containsExactly("CHAT_RATE_BURST 1000 is more than"
                + " CHAT_MAX_IN_FLIGHT (128): sends of a burst past the frames in flight are refused with rate_limited while the store has not answered");
        assertThat(ChatConfig.load(Map.of("CHAT_ROOMS_PER_HOUR", "0"), Map.of()).describe().get("CHAT_ROOMS_PER_HOUR")).isEqualTo("0 (no limit)");
    }

    @Test
    void admins_are_a_comma_separated_list_of_usernames_and_none_by_default() {
        assertThat(ChatConfig.defaults().roomCreationByAnyone()).isTrue();
        assertThat(ChatConfig.defaults().admins()).isEmpty();
        ChatConfig c = ChatConfig.load(Map.of("CHAT_ADMINS", " alice, Bob ,,carol "), Map.of());
        assertThat(c.admins()).containsExactly("alice", "Bob", "carol");
        assertThat(c.describe().get("CHAT_ADMINS")).isEqualTo("alice,Bob,carol");
    }

    @Test
    void describe_names_every_setting_once() {
        Map<String, String> d = ChatConfig.defaults().describe();
        for (Setting s : Setting.values()) assertThat(d).as(s.env).containsKey(s.env);
        assertThat(d).hasSize(Setting.values().length);
    }

    @Test
    void describe_masks_every_secret() {
        Map<String, String> env = Map.of(
                "CHAT_JWT_SECRET", "jwt-secret-jwt-secret-jwt-secret-0001",
                "CHAT_DATABASE_URL", "jdbc:postgresql://db:5432/chat?user=chat&password=url-password&ssl=true",
                "CHAT_DATABASE_PASSWORD", "db-password",
                "CHAT_REDIS_URL", "redis://default:redis-password@cache:6379/0",
                "CHAT_CLUSTER_KEY", "cluster-key-cluster-key-cluster-key-01");
        Map<String, String> d = ChatConfig.load(env, Map.of()).describe();
        assertThat(d.toString()).doesNotContain("jwt-secret-jwt", "url-password", "db-password", "redis-password", "cluster-key-cluster");
        assertThat(d.get("CHAT_CLUSTER_KEY")).isEqualTo("****");
        assertThat(d.get("CHAT_JWT_SECRET")).isEqualTo("****");
        assertThat(d.get("CHAT_DATABASE_PASSWORD")).isEqualTo("****");
        assertThat(d.get("CHAT_DATABASE_URL")).isEqualTo("jdbc:postgresql://db:5432/chat?user=chat&password=****&ssl=true");
        assertThat(d.get("CHAT_REDIS_URL")).isEqualTo("redis://****@cache:6379/0");

        Map<String, String> h2 = ChatConfig.load(Map.of("CHAT_DATABASE_URL", "jdbc:h2:file:/tmp/x;USER=sa;PASSWORD=h2-password"), Map.of()).describe();
        assertThat(h2.toString()).doesNotContain("h2-password");

        Map<String, String> defaults = ChatConfig.defaults().describe();
        assertThat(defaults.get("CHAT_JWT_SECRET")).isEqualTo("(generated)");
        assertThat(defaults.get("CHAT_DATABASE_PASSWORD")).isEmpty();
        assertThat(defaults.keySet()).allSatisfy(k -> assertThat(k).startsWith("CHAT_"));
        assertThat(Arrays.stream(Setting.values()).filter(Setting::secret)).containsExactlyInAnyOrder(Setting.JWT_SECRET, Setting.DATABASE_PASSWORD, Setting.CLUSTER_KEY);
    }

    @Test
    void durations_take_the_documented_forms() {
        assertThat(ChatConfig.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(ChatConfig.parseDuration("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(ChatConfig.parseDuration("30m")).isEqualTo(Duration.ofMinutes(30));
        assertThat(ChatConfig.parseDuration("24H")).isEqualTo(Duration.ofHours(24));
        assertThat(ChatConfig.parseDuration("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(ChatConfig.parseDuration("PT1H30M")).isEqualTo(Duration.ofMinutes(90));
    }

    @Test
    void every_setting_is_read_from_the_file_its_FILE_variable_names_without_the_trailing_newline() throws Exception {
        Path dir = Files.createTempDirectory("parley-secrets");
        Path secret = Files.writeString(dir.resolve("jwt"), "0123456789abcdef0123456789abcdef-from-a-file\n");
        Path password = Files.writeString(dir.resolve("db"), "pass word\r\n");
        Path redis = Files.writeString(dir.resolve("redis"), "redis://parley:s3cret@cache:6379");
        Path port = Files.writeString(dir.resolve("port"), "8181");

        ChatConfig c = ChatConfig.load(Map.of("CHAT_JWT_SECRET_FILE", secret.toString(), "CHAT_DATABASE_PASSWORD_FILE", password.toString(),
                "CHAT_REDIS_URL_FILE", redis.toString(), "CHAT_PORT_FILE", port.toString(), "CHAT_ADMIN_PORT_FILE", ""), Map.of());

        assertThat(c.jwtSecret()).isEqualTo("0123456789abcdef0123456789abcdef-from-a-file");
        assertThat(c.databasePassword()).isEqualTo("pass word");
        assertThat(c.redisUrl()).isEqualTo("redis://parley:s3cret@cache:6379");
        assertThat(c.port()).isEqualTo(8181);
        assertThat(c.adminPort()).as("an empty _FILE variable is no file").isEqualTo(9180);
        assertThat(c.describe().toString()).doesNotContain("from-a-file", "pass word", "s3cret");
        // A flag still wins over the file, as over the variable.
        assertThat(ChatConfig.load(Map.of("CHAT_PORT_FILE", port.toString()), Map.of(Setting.PORT, "9000")).port()).isEqualTo(9000);
    }

    @Test
    void a_variable_set_both_directly_and_as_a_file_is_refused() throws Exception {
        Path file = Files.writeString(Files.createTempFile("parley-secret", ""), "0123456789abcdef0123456789abcdef-from-a-file");

        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_JWT_SECRET", "0123456789abcdef0123456789abcdef-inline",
                "CHAT_JWT_SECRET_FILE", file.toString()), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CHAT_JWT_SECRET: set both as CHAT_JWT_SECRET and as CHAT_JWT_SECRET_FILE (expected: one of them)");
    }

    @Test
    void a_file_that_cannot_be_read_or_is_too_large_is_refused_naming_the_variable_not_the_content() throws Exception {
        Path dir = Files.createTempDirectory("parley-secrets");
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_JWT_SECRET_FILE", dir.resolve("missing").toString()), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("CHAT_JWT_SECRET_FILE: " + dir.resolve("missing"))
                .hasMessageContaining("expected: a file this user can read; NoSuchFileException");
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_DATABASE_PASSWORD_FILE", dir.toString()), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("CHAT_DATABASE_PASSWORD_FILE: ");
        Path big = Files.writeString(dir.resolve("big"), "x".repeat(64 * 1024 + 1));
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_JWT_SECRET_FILE", big.toString()), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessage("CHAT_JWT_SECRET_FILE: " + big + " (expected: a file of at most 64 KiB)");
        Path unreadable = Files.writeString(dir.resolve("unreadable"), "0123456789abcdef0123456789abcdef-unreadable");
        Files.setPosixFilePermissions(unreadable, PosixFilePermissions.fromString("---------"));
        if (!Files.isReadable(unreadable)) { // root reads anything
            assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_JWT_SECRET_FILE", unreadable.toString()), Map.of()))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("AccessDeniedException").hasMessageNotContaining("unreadable-");
        }
        Path shortSecret = Files.writeString(dir.resolve("short"), "hunter2-hunter2");
        assertThatThrownBy(() -> ChatConfig.load(Map.of("CHAT_JWT_SECRET_FILE", shortSecret.toString()), Map.of()))
                .hasMessage("CHAT_JWT_SECRET: too short (expected: at least 32 bytes)");
    }

    @Test
    void a_redis_url_names_one_server_a_sentinel_group_or_a_redis_cluster_and_is_shown_masked() {
        for (String url : List.of("redis://cache:6379", "rediss://cache:6380?verifyPeer=CA", "redis-sentinel://s1:26379,s2:26379/0#mymaster",
                "rediss-sentinel://s1:26379#mymaster", "redis-cluster://c1:7000,c2:7001,c3:7002", "rediss-cluster://c1:7000")) {
            ChatConfig c = ChatConfig.load(Map.of("CHAT_REDIS_URL", url), Map.of());
            assertThat(c.redisUrl()).isEqualTo(url);
            assertThat(c.clustered()).isTrue();
        }
        ChatConfig c = ChatConfig.load(Map.of("CHAT_REDIS_URL", "redis-cluster://parley:hunter2@c1:7000,c2:7001"), Map.of());
        assertThat(c.describe()).containsEntry("CHAT_REDIS_URL", "redis-cluster://****@c1:7000,c2:7001");
    }

    @Test
    void secrets_given_as_flags_which_ps_shows_to_every_user_are_refused_without_repeating_them() {
        Map<Setting, String> refused = Map.of(
                Setting.JWT_SECRET, "0123456789abcdef0123456789abcdef-hunter2",
                Setting.DATABASE_PASSWORD, "hunter2",
                Setting.REDIS_URL, "redis://parley:hunter2@cache:6379",
                Setting.DATABASE_URL, "jdbc:postgresql://db/chat?user=chat&password=hunter2");
        refused.forEach((s, v) -> assertThatThrownBy(() -> ChatConfig.refuseSecretFlags(Map.of(s, v)))
                .as(s.flag).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(s.flag + ": a secret on the command line")
                .hasMessageContaining("expected: the variable " + s.env + ", or " + s.env + "_FILE")
                .hasMessageNotContaining("hunter2"));
        assertThatThrownBy(() -> ChatConfig.refuseSecretFlags(Map.of(Setting.REDIS_URL, "rediss://hunter2@cache:6379"))).isInstanceOf(ConfigException.class);
        assertThatThrownBy(() -> ChatConfig.refuseSecretFlags(Map.of(Setting.REDIS_URL, "redis-cluster://parley:hunter2@c1:7000,c2:7000")))
                .isInstanceOf(ConfigException.class).hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> ChatConfig.refuseSecretFlags(Map.of(Setting.REDIS_URL, "redis-sentinel://:hunter2@s1:26379#mymaster")))
                .isInstanceOf(ConfigException.class).hasMessageNotContaining("hunter2");

        // What carries no secret passes.
        ChatConfig.refuseSecretFlags(Map.of(Setting.REDIS_URL, "redis://cache:6379", Setting.DATABASE_URL, "jdbc:postgresql://db/chat",
                Setting.PORT, "8080", Setting.DATABASE_USER, "chat", Setting.JWT_SECRET, ""));
    }

    /** A value can come from the environment, a file or a flag; all are validated the same way. */
    private enum ChatConfigSource {
        ENV {
            @Override
            ChatConfig load(Setting s, String value) {
                return ChatConfig.load(Map.of(s.env, value), Map.of());
            }
        },
        FLAG {
            @Override
            ChatConfig load(Setting s, String value) {
                return ChatConfig.load(Map.of(), Map.of(s, value));
            }
        },
        FILE {
            @Override
            ChatConfig load(Setting s, String value) {
                try {
                    Path file = Files.createTempFile("parley-setting", ".txt");
                    file.toFile().deleteOnExit();
                    Files.writeString(file, value + "\n"); // as `echo value > file` writes it
                    return ChatConfig.load(Map.of(s.fileEnv(), file.toString()), Map.of());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };

        abstract ChatConfig load(Setting s, String value);
    }
}
