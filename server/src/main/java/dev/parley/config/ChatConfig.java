package dev.parley.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
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
import java.util.regex.PatternSyntaxException;

/**
 * The whole configuration of a node, validated. Built from {@link Setting}: a flag wins over
 * its environment variable, which wins over the default.
 *
 * <p>A little over 400 lines: each setting is read, checked and described here, once, and the rules
 * that tie settings together need them all in one place.
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
        String jwtSecret,
        String jwksUrl,
        Duration tokenTtl,
        List<String> allowedOrigins,
        String nodeId,
        double rateLimit,
        int rateBurst,
        int maxRoomsPerConnection,
        int maxRoomsPerUser,
        int roomsPerHour,
        int maxInFlight,
        int maxFrameBytes,
        int maxTextLength,
        Pattern usernamePattern,
        Pattern roomPattern,
        int passwordMin,
        int passwordMax,
        int bcryptCost,
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
        boolean roomCreationByAnyone) {
    private static final Logger log = LoggerFactory.getLogger(ChatConfig.class);

    /**
     * What a node id may be. It is written into Redis: presence entries are {@code <node>|<user>},
     * split at the first '|', and the Redis client names (CLIENT SETNAME takes no spaces) carry it.
     */
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

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
            if (value == null) value = env.get(s.env);
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
                v.get(Setting.JWT_SECRET),
                v.get(Setting.JWKS_URL),
                duration(v, Setting.TOKEN_TTL),
                origins(v.get(Setting.ALLOWED_ORIGINS)),
                nodeId,
                decimal(v, Setting.RATE_LIMIT),
                integer(v, Setting.RATE_BURST, 1, 1_000_000),
                integer(v, Setting.MAX_ROOMS_PER_CONNECTION, 1, 100_000),
                integer(v, Setting.MAX_ROOMS_PER_USER, 1, 1_000_000),
                integer(v, Setting.ROOMS_PER_HOUR, 0, 1_000_000),
                integer(v, Setting.MAX_IN_FLIGHT, 1, 100_000),
                integer(v, Setting.MAX_FRAME_BYTES, 256, 16 * 1024 * 1024),
                integer(v, Setting.MAX_TEXT_LENGTH, 1, 1_000_000),
                pattern(v, Setting.USERNAME_PATTERN),
                pattern(v, Setting.ROOM_PATTERN),
                integer(v, Setting.PASSWORD_MIN, 1, 1024),
                integer(v, Setting.PASSWORD_MAX, 1, 4096),
                integer(v, Setting.BCRYPT_COST, 4, 31),
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
                admins(v.get(Setting.ADMINS)),
                roomCreation(v.get(Setting.ROOM_CREATION)));
        c.validate();
        for (String w : c.warnings()) log.warn(w);
        return c;
    }

    private void validate() {
        if (!databaseUrl.startsWith("jdbc:h2:") && !databaseUrl.startsWith("jdbc:postgresql:")) {
            throw new ConfigException(Setting.DATABASE_URL.env + ": " + maskDatabaseUrl(databaseUrl) + " (expected: a jdbc:h2: or jdbc:postgresql: URL)");
        }
        if (!redisUrl.isEmpty() && !redisUrl.startsWith("redis://") && !redisUrl.startsWith("rediss://")) {
            throw new ConfigException(Setting.REDIS_URL.env + ": " + maskRedisUrl(redisUrl) + " (expected: redis://[[user]:password@]host[:port], or rediss:// for TLS)");
        }
        if (!jwksUrl.isEmpty() && !jwksUrl.startsWith("https://") && !jwksUrl.startsWith("http://")) {
            throw new ConfigException(Setting.JWKS_URL.env + ": " + jwksUrl + " (expected: an http(s) URL)");
        }
        if (tokenTtl.compareTo(java.time.Duration.ofSeconds(1)) < 0) { // a token's exp is in whole seconds
            throw new ConfigException(Setting.TOKEN_TTL.env + ": " + tokenTtl + " (expected: at least 1s)");
        }
        if (outboxBytes < 128L * maxFrameBytes) { // a history page of 100 messages, each up to a frame, must fit
            throw new ConfigException(Setting.OUTBOX_BYTES.env + ": " + outboxBytes + " (expected: at least 128 x "
                    + Setting.MAX_FRAME_BYTES.env + " = " + 128L * maxFrameBytes + ")");
        }
        if (presenceTtl.compareTo(java.time.Duration.ofMillis(300)) < 0) {
            throw new ConfigException(Setting.PRESENCE_TTL.env + ": " + presenceTtl + " (expected: at least 300ms)");
        }
        if (!jwtSecret.isEmpty() && jwtSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            throw new ConfigException(Setting.JWT_SECRET.env + ": too short (expected: at least 32 bytes)");
        }
        if (passwordMin > passwordMax) {
            throw new ConfigException(Setting.PASSWORD_MIN.env + ": " + passwordMin + " (expected: <= " + Setting.PASSWORD_MAX.env + " " + passwordMax + ")");
        }
        if (!(rateLimit > 0) || Double.isInfinite(rateLimit)) { // NaN too: a NaN bucket never refills
            throw new ConfigException(Setting.RATE_LIMIT.env + ": " + rateLimit + " (expected: a finite number > 0)");
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
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new ConfigException(Setting.LOG_FORMAT.env + ": " + logFormat + " (expected: text or json)");
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
        out.put(Setting.JWT_SECRET.env, jwtSecret.isEmpty() ? "(generated)" : "****");
        out.put(Setting.JWKS_URL.env, jwksUrl);
        out.put(Setting.TOKEN_TTL.env, tokenTtl.toString());
        out.put(Setting.ALLOWED_ORIGINS.env, allowedOrigins.isEmpty() ? "(same origin + localhost)" : String.join(",", allowedOrigins));
        out.put(Setting.NODE_ID.env, nodeId);
        out.put(Setting.RATE_LIMIT.env, String.valueOf(rateLimit));
        out.put(Setting.RATE_BURST.env, String.valueOf(rateBurst));
        out.put(Setting.MAX_ROOMS_PER_CONNECTION.env, String.valueOf(maxRoomsPerConnection));
        out.put(Setting.MAX_ROOMS_PER_USER.env, String.valueOf(maxRoomsPerUser));
        out.put(Setting.ROOMS_PER_HOUR.env, roomsPerHour == 0 ? "0 (no limit)" : String.valueOf(roomsPerHour));
        out.put(Setting.MAX_IN_FLIGHT.env, String.valueOf(maxInFlight));
        out.put(Setting.MAX_FRAME_BYTES.env, String.valueOf(maxFrameBytes));
        out.put(Setting.MAX_TEXT_LENGTH.env, String.valueOf(maxTextLength));
        out.put(Setting.USERNAME_PATTERN.env, usernamePattern.pattern());
        out.put(Setting.ROOM_PATTERN.env, roomPattern.pattern());
        out.put(Setting.PASSWORD_MIN.env, String.valueOf(passwordMin));
        out.put(Setting.PASSWORD_MAX.env, String.valueOf(passwordMax));
        out.put(Setting.BCRYPT_COST.env, String.valueOf(bcryptCost));
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
        return out;
    }

    private static String maskDatabaseUrl(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1****");
    }

    private static String maskRedisUrl(String url) {
        return url.replaceAll("//[^@/]*@", "//****@");
    }

    private static int integer(Map<Setting, String> v, Setting s, int min, int max) {
        String raw = v.get(s);
        try {
            int n = Integer.parseInt(raw);
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(s.env + ": " + raw + " (expected: a whole number from " + min + " to " + max + ")");
        }
    }

    private static double decimal(Map<Setting, String> v, Setting s) {
        String raw = v.get(s);
        try {
            return Double.parseDouble(raw);
        } catch (NumberFormatException e) {
            throw new ConfigException(s.env + ": " + raw + " (expected: a number)");
        }
    }

    private static Pattern pattern(Map<Setting, String> v, Setting s) {
        try {
            return Pattern.compile(v.get(s));
        } catch (PatternSyntaxException e) {
            throw new ConfigException(s.env + ": " + v.get(s) + " (expected: a regular expression)");
        }
    }

    /** Accepts 250ms, 90s, 30m, 24h, 7d, or an ISO-8601 duration such as PT1H; at least a millisecond. */
    static Duration duration(Map<Setting, String> v, Setting s) {
        String raw = v.get(s);
        Duration d = parsed(raw, s, "250ms, 90s, 30m, 24h or 7d");
        // Zero or negative breaks every user: a periodic timer of 0 ms throws, and a drain of 0 waits forever.
        if (d.toMillis() < 1) throw new ConfigException(s.env + ": " + raw + " (expected: a duration of at least 1ms)");
        return d;
    }

    /**
     * 0ms (off) up to 100ms, for the latency a setting trades for fewer writes: the flush interval
     * (longer would only add latency, since a write carries at most 512 frames) and the append linger.
     */
    static Duration shortDuration(Map<Setting, String> v, Setting s) {
        String raw = v.get(s);
        Duration d = parsed(raw, s, "2ms");
        if (d.isNegative() || d.toMillis() > 100) throw new ConfigException(s.env + ": " + raw + " (expected: 0ms to 100ms)");
        return d;
    }

    private static Duration parsed(String raw, Setting s, String examples) {
        try {
            return parseDuration(raw);
        } catch (RuntimeException e) {
            throw new ConfigException(s.env + ": " + raw + " (expected: a duration such as " + examples + ")");
        }
    }

    public static Duration parseDuration(String raw) {
        String t = raw.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("p")) return Duration.parse(t.toUpperCase(Locale.ROOT));
        if (t.endsWith("ms")) return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        return switch (t.charAt(t.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            case 'd' -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException(raw);
        };
    }

    /** Usernames, as given: they are compared regardless of case, like usernames everywhere. */
    private static List<String> admins(String raw) {
        if (raw.isBlank()) return List.of();
        return java.util.Arrays.stream(raw.split(",")).map(String::trim).filter(a -> !a.isEmpty()).toList();
    }

    /** {@code anyone} (true) or {@code admins} (false). */
    private static boolean roomCreation(String raw) {
        return switch (raw.toLowerCase(Locale.ROOT)) {
            case "anyone" -> true;
            case "admins" -> false;
            default -> throw new ConfigException(Setting.ROOM_CREATION.env + ": " + raw + " (expected: anyone or admins)");
        };
    }

    private static List<String> origins(String raw) {
        if (raw.isBlank()) return List.of();
        return java.util.Arrays.stream(raw.split(",")).map(String::trim).filter(o -> !o.isEmpty())
                .map(o -> o.endsWith("/") ? o.substring(0, o.length() - 1) : o).toList();
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
