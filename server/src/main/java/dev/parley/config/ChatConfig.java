package dev.parley.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import static dev.parley.config.SettingValues.adminList;
import static dev.parley.config.SettingValues.decimal;
import static dev.parley.config.SettingValues.duration;
import static dev.parley.config.SettingValues.integer;
import static dev.parley.config.SettingValues.origins;
import static dev.parley.config.SettingValues.pattern;
import static dev.parley.config.SettingValues.proxies;
import static dev.parley.config.SettingValues.registration;
import static dev.parley.config.SettingValues.roomCreation;
import static dev.parley.config.SettingValues.shortDuration;

/**
 * The whole configuration of a node, validated. Built from {@link Setting}: a flag wins over
 * its environment variable, which wins over the default. Any variable may instead name a file
 * that holds the value, in {@code <variable>_FILE} (as Docker and Kubernetes mount secrets).
 *
 * <p>Over 400 lines because every setting's parsing, its checks against the others and its line in
 * the start-up log are here, side by side; split, a new setting would be spread over several files.
 */
public record ChatConfig(
        String host,
        int port,
        Path dataDir,
        String databaseUrl,
        String databaseUser,
        String databasePassword,
        int databasePoolSize,
        String redisUrl,
        Duration presenceTtl,
        int presenceBatchThreshold,
        Duration presenceBatchInterval,
        String clusterKey,
        String clusterKeyFile,
        String jwtSecret,
        String jwksUrl,
        String jwksIssuer,
        String jwksAudience,
        boolean registrationOpen,
        Duration tokenTtl,
        Duration accessTokenTtl,
        List<String> allowedOrigins,
        String nodeId,
        double rateLimit,
        int rateBurst,
        int maxRoomsPerConnection,
        int maxRoomsPerUser,
        int roomsPerHour,
        int apiRate,
        int maxInFlight,
        int maxFrameBytes,
        int maxTextLength,
        Pattern usernamePattern,
        Pattern roomPattern,
        int passwordMin,
        int passwordMax,
        int bcryptCost,
        int passwordThreads,
        int passwordQueue,
        int loginFailuresPerIp,
        int registrationsPerIp,
        List<AddressRange> trustedProxies,
        int outboxFrames,
        long outboxBytes,
        Duration flushInterval,
        int replayLimit,
        Duration heartbeatInterval,
        Duration heartbeatTimeout,
        Duration appendLinger,
        int appendBatchMax,
        int eventLoops,
        Duration drainTimeout,
        String logFormat,
        List<String> admins,
        boolean roomCreationByAnyone,
        String adminHost,
        int adminPort,
        boolean apiDocs,
        boolean journalSync,
        String transport,

        long outboxBudget,
        Duration unwritableTimeout,
        Duration requestHeadTimeout,
        int maxConnections,
        int maxConnectionsPerIp,
        int maxConnectionsPerUser,
        int retentionDays,
        long retentionMessages,
        boolean webhookAllowPrivate,
        Duration webhookTimeout,
        Duration webhookRetryBase,
        int webhookAttempts,
        double upgradeRate) {
    private static final Logger log = LoggerFactory.getLogger(ChatConfig.class);

    /**
     * What a node id may be. It is written into Redis: presence entries are {@code <node>|<user>},
     * split at the first '|', and the Redis client names (CLIENT SETNAME takes no spaces) carry it.
     */
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    /** The most days a server or a room may keep messages: 100 years, past which "for ever" (0) says it better. */
    public static final int MAX_RETENTION_DAYS = 36_500;
    /** The most messages a server or a room may keep by count: a billion, past which "no limit" (0) says it better. */
    public static final long MAX_RETENTION_MESSAGES = 1_000_000_000L;
    /** 1 TiB: far past any heap, and a plain number in a message. */
    private static final long MAX_OUTBOX_BUDGET = 1L << 40;

    /**
     * What an allowed origin may be: a scheme and a host with an optional port, as browsers send
     * {@code Origin}. The origins also go into the web client's Content-Security-Policy, where a
     * space, a quote, ',' or ';' would start another source or directive.
     */
    private static final Pattern ORIGIN = Pattern.compile("\\*|[A-Za-z][A-Za-z0-9+.-]*://[^\\s;,'\"/]+");

    /** The most a {@code *_FILE} may hold: secrets and URLs are short; this refuses a device or a log file named by mistake. */
    static final int MAX_FILE_BYTES = 64 * 1024;

    /** Defaults only: what {@code serve} with no flags and no CHAT_* variables runs with. */
    public static ChatConfig defaults() {
        return load(Map.of(), Map.of());
    }

    /**
     * @param env   environment variables (only CHAT_* ones are read)
     * @param flags values given as flags, keyed by setting
     */
    public static ChatConfig load(Map<String, String> env, Map<Setting, String> flags) {
        Map<Setting, String> v = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String value = flags.get(s);
            if (value == null) value = variable(env, s);
            v.put(s, value == null ? s.defaultValue : value.trim());
        }
        Path dataDir = Path.of(v.get(Setting.DATA_DIR));
        String dbUrl = v.get(Setting.DATABASE_URL);
        if (dbUrl.isEmpty()) dbUrl = embeddedDatabaseUrl(dataDir);
        String nodeId = v.get(Setting.NODE_ID);
        if (nodeId.isEmpty()) nodeId = defaultNodeId(hostName());
        ChatConfig c = new ChatConfig(
                v.get(Setting.HOST),
                integer(v, Setting.PORT, 0, 65535),
                dataDir,
                dbUrl,
                v.get(Setting.DATABASE_USER),
                v.get(Setting.DATABASE_PASSWORD),
                integer(v, Setting.DATABASE_POOL_SIZE, 1, 200),
                v.get(Setting.REDIS_URL),
                duration(v, Setting.PRESENCE_TTL),
                integer(v, Setting.PRESENCE_BATCH_THRESHOLD, 0, 1_000_000),
                duration(v, Setting.PRESENCE_BATCH_INTERVAL),
                readClusterKey(v.get(Setting.CLUSTER_KEY), v.get(Setting.CLUSTER_KEY_FILE)),
                v.get(Setting.CLUSTER_KEY_FILE),
                v.get(Setting.JWT_SECRET),
                v.get(Setting.JWKS_URL),
                v.get(Setting.JWKS_ISSUER),
                v.get(Setting.JWKS_AUDIENCE),
                registration(v.get(Setting.REGISTRATION)),
                duration(v, Setting.TOKEN_TTL),
                duration(v, Setting.ACCESS_TOKEN_TTL),
                origins(v.get(Setting.ALLOWED_ORIGINS)),
                nodeId,
                decimal(v, Setting.RATE_LIMIT),
                integer(v, Setting.RATE_BURST, 1, 1_000_000),
                integer(v, Setting.MAX_ROOMS_PER_CONNECTION, 1, 100_000),
                integer(v, Setting.MAX_ROOMS_PER_USER, 1, 1_000_000),
                integer(v, Setting.ROOMS_PER_HOUR, 0, 1_000_000),
                integer(v, Setting.API_RATE, 0, 1_000_000),
                integer(v, Setting.MAX_IN_FLIGHT, 1, 100_000),
                integer(v, Setting.MAX_FRAME_BYTES, 256, 16 * 1024 * 1024),
                integer(v, Setting.MAX_TEXT_LENGTH, 1, 1_000_000),
                pattern(v, Setting.USERNAME_PATTERN),
                pattern(v, Setting.ROOM_PATTERN),
                integer(v, Setting.PASSWORD_MIN, 1, 1024),
                integer(v, Setting.PASSWORD_MAX, 1, 4096),
                integer(v, Setting.BCRYPT_COST, 4, 31),
                integer(v, Setting.PASSWORD_THREADS, 0, 256),
                integer(v, Setting.PASSWORD_QUEUE, 1, 100_000),
                integer(v, Setting.LOGIN_FAILURES_PER_IP, 1, 1_000_000),
                integer(v, Setting.REGISTRATIONS_PER_IP, 1, 1_000_000),
                proxies(v.get(Setting.TRUSTED_PROXIES)),
                integer(v, Setting.OUTBOX_FRAMES, 4, 1_000_000),
                integer(v, Setting.OUTBOX_BYTES, 1 << 20, Integer.MAX_VALUE),
                shortDuration(v, Setting.FLUSH_INTERVAL),
                integer(v, Setting.REPLAY_LIMIT, 1, 1_000_000),
                duration(v, Setting.HEARTBEAT_INTERVAL),
                duration(v, Setting.HEARTBEAT_TIMEOUT),
                shortDuration(v, Setting.APPEND_LINGER),
                integer(v, Setting.APPEND_BATCH_MAX, 1, 10_000),
                integer(v, Setting.EVENT_LOOPS, 0, 1024),
                duration(v, Setting.DRAIN_TIMEOUT),
                v.get(Setting.LOG_FORMAT).toLowerCase(Locale.ROOT),
                adminList(v.get(Setting.ADMINS)),
                roomCreation(v.get(Setting.ROOM_CREATION)),
                v.get(Setting.ADMIN_HOST),
                integer(v, Setting.ADMIN_PORT, 0, 65535),
                onOff(v, Setting.API_DOCS),
                journalSync(v.get(Setting.JOURNAL_SYNC)),
                transport(v.get(Setting.TRANSPORT)),

                longInteger(v, Setting.OUTBOX_BUDGET, 0, MAX_OUTBOX_BUDGET),
                duration(v, Setting.UNWRITABLE_TIMEOUT),
                duration(v, Setting.REQUEST_HEAD_TIMEOUT),
                integer(v, Setting.MAX_CONNECTIONS, 0, 10_000_000),
                integer(v, Setting.MAX_CONNECTIONS_PER_IP, 0, 10_000_000),
                integer(v, Setting.MAX_CONNECTIONS_PER_USER, 0, 10_000_000),
                integer(v, Setting.RETENTION_DAYS, 0, MAX_RETENTION_DAYS),
                longInteger(v, Setting.RETENTION_MESSAGES, 0, MAX_RETENTION_MESSAGES),
                trueFalse(v, Setting.WEBHOOK_ALLOW_PRIVATE),
                duration(v, Setting.WEBHOOK_TIMEOUT),
                duration(v, Setting.WEBHOOK_RETRY_BASE),
                integer(v, Setting.WEBHOOK_ATTEMPTS, 1, 100),
                decimal(v, Setting.UPGRADE_RATE));
        c.validate();
        for (String w : c.warnings()) log.warn(w);
        return c;
    }

    /**
     * The value of a setting's variable, or of the file its {@code _FILE} variable names (the whole
     * file; {@link #load} trims it like any value, so a trailing newline goes); null if neither is set.
     * Both set is refused: which one wins would be a guess.
     */
    private static String variable(Map<String, String> env, Setting s) {
        String value = env.get(s.env);
        // CHAT_CLUSTER_KEY_FILE is a setting of its own (it came before files for every variable):
        // read by readClusterKey, not here, or the one variable would set the key twice.
        if (s == Setting.CLUSTER_KEY) return value;
        String file = env.get(s.fileEnv());
        if (file == null || file.isBlank()) return value;
        if (value != null) {
            throw new ConfigException(s.env + ": set both as " + s.env + " and as " + s.fileEnv() + " (expected: one of them)");
        }
        try (InputStream in = Files.newInputStream(Path.of(file.trim()))) {
            byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new ConfigException(s.fileEnv() + ": " + file.trim() + " (expected: a file of at most " + MAX_FILE_BYTES / 1024 + " KiB)");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException | InvalidPathException e) {
            throw new ConfigException(s.fileEnv() + ": " + file.trim() + " (expected: a file this user can read; "
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * Refuses a secret given as a flag of {@code serve}: a process's command line is readable by every
     * user of the machine ({@code ps}, {@code /proc/<pid>/cmdline}); its environment and its files are
     * not. The passwords a database or Redis URL may carry count as secrets. The value is never repeated.
     */
    public static void refuseSecretFlags(Map<Setting, String> flags) {
        for (Map.Entry<Setting, String> e : flags.entrySet()) {
            Setting s = e.getKey();
            String value = e.getValue() == null ? "" : e.getValue().trim();
            if (value.isEmpty() || !(s.secret() || carriesPassword(s, value))) continue;
            throw new ConfigException(s.flag + ": a secret on the command line can be read by every user of this machine with ps"
                    + " (expected: the variable " + s.env + ", or " + s.fileEnv() + " naming a file that holds it)");
        }
    }

    /** A Redis URL with user info (Lettuce reads a lone one as the password), or a JDBC URL with a password parameter. */
    static boolean carriesPassword(Setting s, String value) {
        return switch (s) {
            case REDIS_URL -> value.matches("(?s)[A-Za-z-]+://[^/@]*@.*");
            case DATABASE_URL -> value.toLowerCase(Locale.ROOT).contains("password=");
            default -> false;
        };
    }

    private void validate() {
        if (!databaseUrl.startsWith("jdbc:h2:") && !databaseUrl.startsWith("jdbc:postgresql:")) {
            throw new ConfigException(Setting.DATABASE_URL.env + ": " + maskDatabaseUrl(databaseUrl) + " (expected: a jdbc:h2: or jdbc:postgresql: URL)");
        }
        validateRedisUrl();
        validateJwks();
        if (tokenTtl.compareTo(java.time.Duration.ofSeconds(1)) < 0) { // a token's exp is in whole seconds
            throw new ConfigException(Setting.TOKEN_TTL.env + ": " + tokenTtl + " (expected: at least 1s)");
        }
        if (accessTokenTtl.compareTo(java.time.Duration.ofSeconds(1)) < 0) {
            throw new ConfigException(Setting.ACCESS_TOKEN_TTL.env + ": " + accessTokenTtl + " (expected: at least 1s)");
        }
        if (outboxBytes < 128L * maxFrameBytes) { // a history page of 100 messages, each up to a frame, must fit
            throw new ConfigException(Setting.OUTBOX_BYTES.env + ": " + outboxBytes + " (expected: at least 128 x "
                    + Setting.MAX_FRAME_BYTES.env + " = " + 128L * maxFrameBytes + ")");
        }
        if (outboxBudget != 0 && outboxBudget < outboxBytes) { // one connection could pass the budget alone, and be closed for it at once
            throw new ConfigException(Setting.OUTBOX_BUDGET.env + ": " + outboxBudget + " (expected: 0, or at least "
                    + Setting.OUTBOX_BYTES.env + " = " + outboxBytes + ")");
        }
        if (presenceTtl.compareTo(java.time.Duration.ofMillis(300)) < 0) {
            throw new ConfigException(Setting.PRESENCE_TTL.env + ": " + presenceTtl + " (expected: at least 300ms)");
        }
        if (presenceBatchInterval.compareTo(Duration.ofMillis(50)) < 0 || presenceBatchInterval.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new ConfigException(Setting.PRESENCE_BATCH_INTERVAL.env + ": " + presenceBatchInterval + " (expected: 50ms to 1m)");
        }
        if (!jwtSecret.isEmpty() && jwtSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            throw new ConfigException(Setting.JWT_SECRET.env + ": too short (expected: at least 32 bytes)");
        }
        if (!clusterKey.isEmpty() && clusterKey.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            Setting s = clusterKeyFile.isEmpty() ? Setting.CLUSTER_KEY : Setting.CLUSTER_KEY_FILE;
            throw new ConfigException(s.env + ": " + (clusterKeyFile.isEmpty() ? "" : clusterKeyFile + ": ") + "too short (expected: at least 32 bytes)");
        }
        if (passwordMin > passwordMax) {
            throw new ConfigException(Setting.PASSWORD_MIN.env + ": " + passwordMin + " (expected: <= " + Setting.PASSWORD_MAX.env + " " + passwordMax + ")");
        }
        if (!(rateLimit > 0) || Double.isInfinite(rateLimit)) { // NaN too: a NaN bucket never refills
            throw new ConfigException(Setting.RATE_LIMIT.env + ": " + rateLimit + " (expected: a finite number > 0)");
        }
        if (!(upgradeRate >= 0) || Double.isInfinite(upgradeRate)) { // NaN too
            throw new ConfigException(Setting.UPGRADE_RATE.env + ": " + upgradeRate + " (expected: a finite number >= 0; 0 means no limit)");
        }
        if (maxRoomsPerUser < maxRoomsPerConnection) { // a cap per connection that a connection could never reach
            throw new ConfigException(Setting.MAX_ROOMS_PER_USER.env + ": " + maxRoomsPerUser + " (expected: at least "
                    + Setting.MAX_ROOMS_PER_CONNECTION.env + " " + maxRoomsPerConnection + ")");
        }
        if (heartbeatTimeout.compareTo(heartbeatInterval) <= 0) {
            throw new ConfigException(Setting.HEARTBEAT_TIMEOUT.env + ": " + heartbeatTimeout + " (expected: longer than the heartbeat interval " + heartbeatInterval + ")");
        }
        if (!NODE_ID.matcher(nodeId).matches()) {
            throw new ConfigException(Setting.NODE_ID.env + ": " + nodeId
                    + " (expected: 1 to 64 ASCII letters, digits, '_', '.' or '-', starting with a letter or digit)");
        }
        for (String admin : admins) {
            // A token's sub is at most 64 characters and names have no spaces: such an entry could never match anyone.
            if (admin.length() > 64 || admin.chars().anyMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch))) {
                throw new ConfigException(Setting.ADMINS.env + ": " + admin + " (expected: comma-separated usernames of at most 64 characters, without spaces)");
            }
        }
        for (String origin : allowedOrigins) {
            if (!ORIGIN.matcher(origin).matches()) {
                throw new ConfigException(Setting.ALLOWED_ORIGINS.env + ": " + origin + " (expected: comma-separated origins such as https://chat.example.com, or *)");
            }
        }
        if (adminPort != 0 && adminPort == port) {
            throw new ConfigException(Setting.ADMIN_PORT.env + ": " + adminPort + " (expected: a port other than " + Setting.PORT.env + " " + port
                    + ": the admin listener must not be the public one)");
        }
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new ConfigException(Setting.LOG_FORMAT.env + ": " + logFormat + " (expected: text or json)");
        }
    }

    /**
     * An identity provider's tokens are trusted only with an issuer and an audience to check: without
     * them a token the provider signed for another application, or another provider's tokens served
     * from the same JWKS, would sign in here. The keys come over https: over plain http whoever sits
     * on the path could hand us keys of their own (a loopback host has no path to sit on).
     */
    private void validateJwks() {
        if (jwksUrl.isEmpty()) {
            if (!jwksIssuer.isEmpty()) throw new ConfigException(Setting.JWKS_ISSUER.env + ": " + jwksIssuer + " (expected: empty unless " + Setting.JWKS_URL.env + " is set)");
            if (!jwksAudience.isEmpty()) throw new ConfigException(Setting.JWKS_AUDIENCE.env + ": " + jwksAudience + " (expected: empty unless " + Setting.JWKS_URL.env + " is set)");
            return;
        }
        if (!jwksUrlAllowed(jwksUrl)) {
            throw new ConfigException(Setting.JWKS_URL.env + ": " + jwksUrl + " (expected: an https URL, or http for a loopback host such as 127.0.0.1)");
        }
        if (jwksIssuer.isEmpty() || jwksIssuer.chars().anyMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch))) {
            throw new ConfigException(Setting.JWKS_ISSUER.env + ": " + jwksIssuer + " (expected: the iss claim of the identity provider's tokens, without spaces; required with " + Setting.JWKS_URL.env + ")");
        }
        if (jwksAudience.isEmpty() || jwksAudience.chars().anyMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch))) {
            throw new ConfigException(Setting.JWKS_AUDIENCE.env + ": " + jwksAudience + " (expected: this server's audience (aud) at the identity provider, without spaces; required with " + Setting.JWKS_URL.env + ")");
        }
    }

    /** https, or http to a loopback host (a test's or a sidecar's), by name or literal; no DNS is asked. */
    public static boolean jwksUrlAllowed(String url) {
        java.net.URI uri;
        try {
            uri = new java.net.URI(url);
        } catch (java.net.URISyntaxException e) {
            return false;
        }
        String host = uri.getHost();
        if (uri.getScheme() == null || host == null || host.isEmpty()) return false;
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("https")) return true;
        if (!scheme.equals("http")) return false;
        if (host.equalsIgnoreCase("localhost")) return true;
        byte[] a = AddressRange.literal(host);
        if (a == null) return false;
        try {
            return InetAddress.getByAddress(a).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /**
     * Allowed, but unwise, ways the settings combine; {@link #load} logs them once. Each names what
     * the server does about it.
     */
    List<String> warnings() {
        List<String> out = new ArrayList<>(3);
        if (effectiveReplayLimit() < replayLimit) {
            out.add(Setting.REPLAY_LIMIT.env + " " + replayLimit + " is more than half of " + Setting.OUTBOX_FRAMES.env
                    + " (" + outboxFrames + "): a join replays at most " + effectiveReplayLimit());
        }
        if (appendBatchMax > outboxFrames / 2) {
            out.add(Setting.APPEND_BATCH_MAX.env + " " + appendBatchMax + " is more than half of " + Setting.OUTBOX_FRAMES.env
                    + " (" + outboxFrames + "): one commit to a busy room can close its members as slow consumers");
        }
        if (!journalSync && !embeddedDatabase()) {
            out.add(Setting.JOURNAL_SYNC.env + " none has no effect with " + Setting.DATABASE_URL.env + " set: only the embedded"
                    + " database keeps a journal. PostgreSQL makes each commit durable by its own synchronous_commit (on by default)");
        }
        if (!jwksUrl.isEmpty() && registrationOpen) {
            out.add(Setting.JWKS_URL.env + " is set and " + Setting.REGISTRATION.env + " is open: a name the identity provider's users"
                    + " have not yet signed in with can be registered here first, and their tokens are then refused;"
                    + " set " + Setting.REGISTRATION.env + "=closed if accounts come from the identity provider");
        }
        if (maxInFlight < maxRoomsPerConnection) {
            out.add(Setting.MAX_IN_FLIGHT.env + " " + maxInFlight + " is less than " + Setting.MAX_ROOMS_PER_CONNECTION.env
                    + " (" + maxRoomsPerConnection + "): a client that joins all its rooms again at once (after a reconnect) has some joins refused");
        }
        if (rateBurst > maxInFlight) {
            out.add(Setting.RATE_BURST.env + " " + rateBurst + " is more than " + Setting.MAX_IN_FLIGHT.env + " (" + maxInFlight
                    + "): sends of a burst past the frames in flight are refused with rate_limited while the store has not answered");
        }
        return out;
    }

    /**
     * The most messages a join with {@code since} replays: {@code CHAT_REPLAY_LIMIT}, but at most half
     * the outbox. A replay is queued on the connection's outbox at once: if it could fill the outbox,
     * the resuming client would be closed with 4002 again and again. Past this, the join says
     * {@code recovered:false} and the client pages the rest with history, at its own pace. (The
     * default outbox, 2048, keeps the replay limit PROTOCOL.md documents, 1000.)
     */
    public int effectiveReplayLimit() {
        return Math.min(replayLimit, Math.max(1, outboxFrames / 2));
    }

    /**
     * The most bytes of messages a join with {@code since} replays: an eighth of {@code CHAT_OUTBOX_BYTES}
     * (2 MiB by default). The replay limit counts frames; a replay of big messages would pass the
     * outbox's bytes long before its frames. An eighth lets a client resume several rooms at once;
     * a thousand ordinary messages (a few hundred bytes each) stay well within it.
     */
    public long replayBytes() {
        return outboxBytes / 8;
    }

    /**
     * The most bytes the outboxes of the node may hold together: {@code CHAT_OUTBOX_BUDGET}, or, for
     * 0, a quarter of the JVM's maximum heap, and never less than one outbox's bound. A quarter
     * leaves the rest of the heap to what the node holds anyway (connections, rooms, caches) and to
     * the garbage between two collections.
     */
    public long effectiveOutboxBudget() {
        return outboxBudget > 0 ? outboxBudget : Math.max(outboxBytes, Runtime.getRuntime().maxMemory() / 4);
    }

    public boolean clustered() {
        return !redisUrl.isEmpty();
    }

    public boolean h2() {
        return databaseUrl.startsWith("jdbc:h2:");
    }

    /**
     * The H2 file in the data dir that an empty {@code CHAT_DATABASE_URL} means.
     * No WRITE_DELAY=0: H2 writes every commit itself only with it, at about 185 µs a commit; instead
     * the group commit appends each batch to a journal beside the file (see {@code store.Journal})
     * and H2 writes its pages every half second.
     * DB_CLOSE_ON_EXIT=FALSE: H2's own shutdown hook would close the database on SIGTERM while our
     * drain is still committing what is queued; the drain closes it instead.
     * CACHE_SIZE=2048 (KiB): every commit puts fresh pages in H2's page cache and evicts old ones; a
     * bigger cache keeps them alive just long enough to be copied by each young GC, which doubled the
     * GC pauses (and so the latency tail) under steady sends.
     */
    public static String embeddedDatabaseUrl(Path dataDir) {
        return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("parley")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_ON_EXIT=FALSE;CACHE_SIZE=2048";
    }

    /** True for the embedded default: this node alone writes the database, so it may keep a journal for it. */
    public boolean embeddedDatabase() {
        return databaseUrl.equals(embeddedDatabaseUrl(dataDir));
    }

    /**
     * Half the cores, at least one: bcrypt is all CPU, and a flood of logins must leave the other
     * half to the event loops and to the rest of the work.
     */
    public int passwordThreadCount() {
        return passwordThreads > 0 ? passwordThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    public int eventLoopCount() {
        return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
    }

    /** One line per setting, secrets masked: what the node logs once at start-up. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(Setting.HOST.env, host);
        out.put(Setting.PORT.env, String.valueOf(port));
        out.put(Setting.DATA_DIR.env, dataDir.toString());
        out.put(Setting.DATABASE_URL.env, maskDatabaseUrl(databaseUrl));
        out.put(Setting.DATABASE_USER.env, databaseUser);
        out.put(Setting.DATABASE_PASSWORD.env, databasePassword.isEmpty() ? "" : "****");
        out.put(Setting.REDIS_URL.env, maskRedisUrl(redisUrl));
        out.put(Setting.PRESENCE_TTL.env, presenceTtl.toString());
        out.put(Setting.PRESENCE_BATCH_THRESHOLD.env, String.valueOf(presenceBatchThreshold));
        out.put(Setting.PRESENCE_BATCH_INTERVAL.env, presenceBatchInterval.toString());
        out.put(Setting.CLUSTER_KEY.env, !clusterKey.isEmpty() ? "****" : clustered() ? "(derived from " + Setting.JWT_SECRET.env + ")" : "");
        out.put(Setting.CLUSTER_KEY_FILE.env, clusterKeyFile);
        out.put(Setting.JWT_SECRET.env, jwtSecret.isEmpty() ? "(generated)" : "****");
        out.put(Setting.JWKS_URL.env, jwksUrl);
        out.put(Setting.JWKS_ISSUER.env, jwksIssuer);
        out.put(Setting.JWKS_AUDIENCE.env, jwksAudience);
        out.put(Setting.REGISTRATION.env, registrationOpen ? "open" : "closed");
        out.put(Setting.TOKEN_TTL.env, tokenTtl.toString());
        out.put(Setting.ACCESS_TOKEN_TTL.env, accessTokenTtl.toString()
                + (accessTokenTtl.compareTo(tokenTtl) > 0 ? " (in effect " + tokenTtl + ", the session's)" : ""));
        out.put(Setting.ALLOWED_ORIGINS.env, allowedOrigins.isEmpty() ? "(same origin + localhost)" : String.join(",", allowedOrigins));
        out.put(Setting.NODE_ID.env, nodeId);
        out.put(Setting.RATE_LIMIT.env, String.valueOf(rateLimit));
        out.put(Setting.RATE_BURST.env, String.valueOf(rateBurst));
        out.put(Setting.MAX_ROOMS_PER_CONNECTION.env, String.valueOf(maxRoomsPerConnection));
        out.put(Setting.MAX_ROOMS_PER_USER.env, String.valueOf(maxRoomsPerUser));
        out.put(Setting.ROOMS_PER_HOUR.env, roomsPerHour == 0 ? "0 (no limit)" : String.valueOf(roomsPerHour));
        out.put(Setting.API_RATE.env, apiRate == 0 ? "0 (no limit)" : String.valueOf(apiRate));
        out.put(Setting.MAX_IN_FLIGHT.env, String.valueOf(maxInFlight));
        out.put(Setting.MAX_FRAME_BYTES.env, String.valueOf(maxFrameBytes));
        out.put(Setting.MAX_TEXT_LENGTH.env, String.valueOf(maxTextLength));
        out.put(Setting.USERNAME_PATTERN.env, usernamePattern.pattern());
        out.put(Setting.ROOM_PATTERN.env, roomPattern.pattern());
        out.put(Setting.PASSWORD_MIN.env, String.valueOf(passwordMin));
        out.put(Setting.PASSWORD_MAX.env, String.valueOf(passwordMax));
        out.put(Setting.BCRYPT_COST.env, String.valueOf(bcryptCost));
        out.put(Setting.PASSWORD_THREADS.env, String.valueOf(passwordThreadCount()));
        out.put(Setting.PASSWORD_QUEUE.env, String.valueOf(passwordQueue));
        out.put(Setting.LOGIN_FAILURES_PER_IP.env, String.valueOf(loginFailuresPerIp));
        out.put(Setting.REGISTRATIONS_PER_IP.env, String.valueOf(registrationsPerIp));
        out.put(Setting.TRUSTED_PROXIES.env, trustedProxies.isEmpty() ? "(none: the connection's address)"
                : String.join(",", trustedProxies.stream().map(AddressRange::toString).toList()));
        out.put(Setting.OUTBOX_FRAMES.env, String.valueOf(outboxFrames));
        out.put(Setting.OUTBOX_BYTES.env, String.valueOf(outboxBytes));
        out.put(Setting.FLUSH_INTERVAL.env, flushInterval.toMillis() + "ms");
        out.put(Setting.REPLAY_LIMIT.env, replayLimit + (effectiveReplayLimit() < replayLimit ? " (in effect " + effectiveReplayLimit() + ")" : ""));
        out.put(Setting.HEARTBEAT_INTERVAL.env, heartbeatInterval.toString());
        out.put(Setting.HEARTBEAT_TIMEOUT.env, heartbeatTimeout.toString());
        out.put(Setting.APPEND_LINGER.env, appendLinger.toMillis() + "ms");
        out.put(Setting.APPEND_BATCH_MAX.env, String.valueOf(appendBatchMax));
        out.put(Setting.EVENT_LOOPS.env, String.valueOf(eventLoopCount()));
        out.put(Setting.DRAIN_TIMEOUT.env, drainTimeout.toString());
        out.put(Setting.LOG_FORMAT.env, logFormat);
        out.put(Setting.ADMINS.env, String.join(",", admins));
        out.put(Setting.ROOM_CREATION.env, roomCreationByAnyone ? "anyone" : "admins");
        out.put(Setting.DATABASE_POOL_SIZE.env, String.valueOf(databasePoolSize));
        out.put(Setting.ADMIN_HOST.env, adminHost);
        out.put(Setting.ADMIN_PORT.env, String.valueOf(adminPort));
        out.put(Setting.API_DOCS.env, apiDocs ? "on" : "off");
        out.put(Setting.JOURNAL_SYNC.env, (journalSync ? "commit" : "none") + (embeddedDatabase() ? "" : " (no journal: the database's own durability)"));
        out.put(Setting.TRANSPORT.env, transport);
        out.put(Setting.OUTBOX_BUDGET.env, outboxBudget > 0 ? String.valueOf(outboxBudget) : "0 (in effect " + effectiveOutboxBudget() + ")");
        out.put(Setting.UNWRITABLE_TIMEOUT.env, unwritableTimeout.toString());
        out.put(Setting.REQUEST_HEAD_TIMEOUT.env, requestHeadTimeout.toString());
        out.put(Setting.MAX_CONNECTIONS.env, String.valueOf(maxConnections));
        out.put(Setting.MAX_CONNECTIONS_PER_IP.env, String.valueOf(maxConnectionsPerIp));
        out.put(Setting.MAX_CONNECTIONS_PER_USER.env, String.valueOf(maxConnectionsPerUser));
        out.put(Setting.RETENTION_DAYS.env, retentionDays == 0 ? "0 (for ever)" : String.valueOf(retentionDays));
        out.put(Setting.RETENTION_MESSAGES.env, retentionMessages == 0 ? "0 (no limit)" : String.valueOf(retentionMessages));
        out.put(Setting.WEBHOOK_ALLOW_PRIVATE.env, String.valueOf(webhookAllowPrivate));
        out.put(Setting.WEBHOOK_TIMEOUT.env, webhookTimeout.toString());
        out.put(Setting.WEBHOOK_RETRY_BASE.env, webhookRetryBase.toString());
        out.put(Setting.WEBHOOK_ATTEMPTS.env, String.valueOf(webhookAttempts));
        out.put(Setting.UPGRADE_RATE.env, upgradeRate == 0 ? "0 (no limit)" : String.valueOf(upgradeRate));
        return out;
    }

    private static String maskDatabaseUrl(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1****");
    }

    /**
     * The three forms of a Redis: one server, a Sentinel group (Lettuce's URL: the Sentinels, then the
     * master's name after '#'), a Redis Cluster (its nodes, or some of them). The URL is parsed again
     * by the broker; what is checked here is what a typo most often gets wrong.
     */
    private void validateRedisUrl() {
        if (redisUrl.isEmpty()) return;
        String scheme = redisUrl.contains("://") ? redisUrl.substring(0, redisUrl.indexOf("://")) : "";
        boolean known = switch (scheme) {
            case "redis", "rediss", "redis-cluster", "rediss-cluster" -> true;
            case "redis-sentinel", "rediss-sentinel" -> redisUrl.indexOf('#') > 0 && !redisUrl.endsWith("#");
            default -> false;
        };
        if (!known) {
            throw new ConfigException(Setting.REDIS_URL.env + ": " + maskRedisUrl(redisUrl) + " (expected: redis://[[user]:password@]host[:port]"
                    + " (one Redis), redis-sentinel://[[user]:password@]host[:port][,host[:port]...]#master (a master found through Sentinel),"
                    + " or redis-cluster://[[user]:password@]host[:port][,host[:port]...] (a Redis Cluster, 7 or newer); rediss... for TLS)");
        }
    }

    private static String maskRedisUrl(String url) {
        return url.replaceAll("//[^@/]*@", "//****@");
    }

    /** Accepts 250ms, 90s, 30m, 24h, 7d, or an ISO-8601 duration such as PT1H. */
    public static Duration parseDuration(String raw) {
        return SettingValues.parseDuration(raw);
    }

    private static boolean trueFalse(Map<Setting, String> v, Setting s) {
        return switch (v.get(s).toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ConfigException(s.env + ": " + v.get(s) + " (expected: true or false)");
        };
    }

    private static boolean onOff(Map<Setting, String> v, Setting s) {
        return switch (v.get(s).toLowerCase(Locale.ROOT)) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new ConfigException(s.env + ": " + v.get(s) + " (expected: on or off)");
        };
    }

    private static long longInteger(Map<Setting, String> v, Setting s, long min, long max) {
        String raw = v.get(s);
        try {
            long n = Long.parseLong(raw);
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(s.env + ": " + raw + " (expected: a whole number from " + min + " to " + max + ")");
        }
    }

    /**
     * The cluster key, from {@code CHAT_CLUSTER_KEY} or read from {@code CHAT_CLUSTER_KEY_FILE} (a
     * secret in a file stays out of the environment, which other processes of the user can read);
     * empty if neither is set.
     */
    private static String readClusterKey(String value, String file) {
        if (file.isEmpty()) return value;
        if (!value.isEmpty()) {
            throw new ConfigException(Setting.CLUSTER_KEY_FILE.env + ": " + file + " (expected: " + Setting.CLUSTER_KEY.env + " or "
                    + Setting.CLUSTER_KEY_FILE.env + ", not both)");
        }
        try {
            return java.nio.file.Files.readString(Path.of(file)).strip();
        } catch (java.io.IOException | RuntimeException e) {
            throw new ConfigException(Setting.CLUSTER_KEY_FILE.env + ": " + file + " (expected: a readable file holding the key; " + e + ")");
        }
    }

    /** {@code none} (false) or {@code commit} (true): whether the journal is synced to the disk before each group commit's acks. */
    private static boolean journalSync(String raw) {
        return switch (raw.toLowerCase(Locale.ROOT)) {
            case "none" -> false;
            case "commit" -> true;
            default -> throw new ConfigException(Setting.JOURNAL_SYNC.env + ": " + raw + " (expected: none or commit)");
        };
    }

    /** auto, io_uring, epoll or nio (see dev.parley.NetworkTransport). */
    private static String transport(String raw) {
        String t = raw.toLowerCase(Locale.ROOT);
        return switch (t) {
            case "auto", "io_uring", "epoll", "nio" -> t;
            default -> throw new ConfigException(Setting.TRANSPORT.env + ": " + raw + " (expected: auto, io_uring, epoll or nio)");
        };
    }

    /** The host name, made to follow the node id rule (any host name does not), and a random suffix. */
    static String defaultNodeId(String hostName) {
        String host = hostName.replaceAll("[^A-Za-z0-9_.-]", "-").replaceAll("^[^A-Za-z0-9]+", "");
        if (host.isEmpty()) host = "node";
        // 58 + "-" + 5 hex digits: 64
        return host.substring(0, Math.min(host.length(), 58)) + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "node";
        }
    }

}
