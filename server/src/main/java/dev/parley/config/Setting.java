package dev.parley.config;

/**
 * Every setting of the server, once: its environment variable, its {@code serve} flag, its
 * default and what it means. The variable names are public interface (deploy files and
 * operators use them), so a rename here is a breaking change. docs/CONFIG.md lists the
 * same table, and a test keeps the two in step.
 */
public enum Setting {
    HOST("CHAT_HOST", "--host", "0.0.0.0", "address to listen on"),
    PORT("CHAT_PORT", "--port", "8080", "HTTP and WebSocket port (0 picks a free one)"),
    ADMIN_HOST("CHAT_ADMIN_HOST", "--admin-host", "127.0.0.1", "address of the admin listener (/metrics, detailed /health/*); keep it off the public network"),
    ADMIN_PORT("CHAT_ADMIN_PORT", "--admin-port", "9180", "port of the admin listener, not the public one (0 picks a free one)"),
    DATA_DIR("CHAT_DATA_DIR", "--data-dir", "./data", "folder of the H2 database file and the generated secret"),
    DATABASE_URL("CHAT_DATABASE_URL", "--database-url", "", "a jdbc:h2: or jdbc:postgresql: URL; empty means an H2 file in the data dir"),
    DATABASE_USER("CHAT_DATABASE_USER", "--database-user", "", "database user"),
    DATABASE_PASSWORD("CHAT_DATABASE_PASSWORD", "--database-password", "", "database password (masked in logs)"),
    DATABASE_POOL_SIZE("CHAT_DATABASE_POOL_SIZE", "--database-pool-size", "8", "JDBC connections in the pool (the readiness check holds one more of its own)"),
    REDIS_URL("CHAT_REDIS_URL", "--redis-url", "", "redis://[[user]:password@]host[:port] to join a cluster; redis-sentinel://host:26379[,host:26379...]#master for a master found through Sentinel; redis-cluster://host:port[,host:port...] for a Redis Cluster (7+, sharded Pub/Sub); rediss... for TLS (verifyPeer=FULL by default; ?verifyPeer=CA or NONE); empty means the in-process broker"),
    PRESENCE_TTL("CHAT_PRESENCE_TTL", "--presence-ttl", "15s", "in a cluster, how long a node's presence entries outlive their last refresh (every third of it): the users of a node that died go offline within about 4/3 of this"),
    PRESENCE_BATCH_THRESHOLD("CHAT_PRESENCE_BATCH_THRESHOLD", "--presence-batch-threshold", "100", "a room with more users online than this gets its presence as one presence_summary frame per interval instead of a presence frame per arrival and departure; 0 means never"),
    PRESENCE_BATCH_INTERVAL("CHAT_PRESENCE_BATCH_INTERVAL", "--presence-batch-interval", "2s", "how often a big room's presence changes are sent, as one presence_summary frame to each member"),
    CLUSTER_KEY("CHAT_CLUSTER_KEY", "--cluster-key", "", "in a cluster, the key (at least 32 UTF-8 bytes, the same on every node) of the HMAC-SHA256 that authenticates every event between nodes; empty means derived from CHAT_JWT_SECRET"),
    CLUSTER_KEY_FILE("CHAT_CLUSTER_KEY_FILE", "--cluster-key-file", "", "a file holding CHAT_CLUSTER_KEY (white space at either end ignored), instead of the variable"),
    JWT_SECRET("CHAT_JWT_SECRET", "--jwt-secret", "", "HS256 key, at least 32 UTF-8 bytes; empty means generated and kept in the data dir"),
    JWKS_URL("CHAT_JWKS_URL", "--jwks-url", "", "also accept RS256/ES256 tokens signed by a key of this JWKS: an https URL (http only for a loopback host); needs CHAT_JWKS_ISSUER and CHAT_JWKS_AUDIENCE"),
    JWKS_ISSUER("CHAT_JWKS_ISSUER", "--jwks-issuer", "", "the iss claim every token of the identity provider must carry, exactly; required with CHAT_JWKS_URL"),
    JWKS_AUDIENCE("CHAT_JWKS_AUDIENCE", "--jwks-audience", "", "a value the aud claim of every token of the identity provider must hold (this server's client id there); required with CHAT_JWKS_URL"),
    REGISTRATION("CHAT_REGISTRATION", "--registration", "open", "open: anyone may register an account; closed: POST /api/auth/register is refused with 403 forbidden"),
    TOKEN_TTL("CHAT_TOKEN_TTL", "--token-ttl", "24h", "lifetime of the bearer tokens this server issues, and of a browser's session (e.g. 90s, 30m, 24h, 7d)"),
    ACCESS_TOKEN_TTL("CHAT_ACCESS_TOKEN_TTL", "--access-token-ttl", "10m", "lifetime of a browser session's access tokens, which the web client renews with its cookie (never past the session's end)"),
    ALLOWED_ORIGINS("CHAT_ALLOWED_ORIGINS", "--allowed-origins", "", "comma-separated origins allowed to open /ws, * for any; empty means same origin and localhost; also added to the web client's connect-src"),
    NODE_ID("CHAT_NODE_ID", "--node-id", "", "name of this node in a cluster: 1 to 64 ASCII letters, digits, _ . or -, starting with a letter or digit; empty means host name + random suffix"),
    RATE_LIMIT("CHAT_RATE_LIMIT", "--rate-limit", "20", "sends per second per connection"),
    RATE_BURST("CHAT_RATE_BURST", "--rate-burst", "40", "burst of sends per connection"),
    MAX_ROOMS_PER_CONNECTION("CHAT_MAX_ROOMS_PER_CONNECTION", "--max-rooms-per-connection", "100", "rooms one connection may be in or joining at once; a join of one more is refused with too_many_rooms"),
    MAX_ROOMS_PER_USER("CHAT_MAX_ROOMS_PER_USER", "--max-rooms-per-user", "200", "different rooms the connections of one user on this node may be in at once (at least CHAT_MAX_ROOMS_PER_CONNECTION); past it too_many_rooms"),
    ROOMS_PER_HOUR("CHAT_ROOMS_PER_HOUR", "--rooms-per-hour", "30", "rooms one user may make an hour on this node (a join of a name not taken, or POST /api/rooms; administrators are exempt): that many at once, then one every 60/N minutes; past it quota_exceeded; 0 means no limit"),
    API_RATE("CHAT_API_RATE", "--api-rate", "20", "HTTP API requests a second one signed-in user may make on this node, after a burst of five seconds' worth; past it 429 rate_limited with Retry-After; 0 means no limit"),
    MAX_IN_FLIGHT("CHAT_MAX_IN_FLIGHT", "--max-in-flight", "128", "frames of one connection waiting for their answer at once (joins, history reads, sends in the store, refreshes); one more is refused with rate_limited"),
    MAX_FRAME_BYTES("CHAT_MAX_FRAME_BYTES", "--max-frame-bytes", "16384", "largest WebSocket frame accepted; larger closes with 1009"),
    MAX_TEXT_LENGTH("CHAT_MAX_TEXT_LENGTH", "--max-text-length", "4000", "longest message text, in characters after trimming"),
    USERNAME_PATTERN("CHAT_USERNAME_PATTERN", "--username-pattern", "^[A-Za-z0-9_.-]{3,32}$", "what a username must match"),
    ROOM_PATTERN("CHAT_ROOM_PATTERN", "--room-pattern", "^[a-z0-9][a-z0-9_-]{0,63}$", "what a room name must match; an empty name, or one with { or }, is refused whatever this says"),
    PASSWORD_MIN("CHAT_PASSWORD_MIN", "--password-min", "8", "shortest password"),
    PASSWORD_MAX("CHAT_PASSWORD_MAX", "--password-max", "128", "longest password"),
    BCRYPT_COST("CHAT_BCRYPT_COST", "--bcrypt-cost", "10", "bcrypt cost factor of password hashes (4..31)"),
    PASSWORD_THREADS("CHAT_PASSWORD_THREADS", "--password-threads", "0", "threads that check and make password hashes (register, login, password change, account deletion); 0 means half the cores, at least 1"),
    PASSWORD_QUEUE("CHAT_PASSWORD_QUEUE", "--password-queue", "32", "password checks that may wait for one of those threads; past it they are refused with 503 and Retry-After"),
    LOGIN_FAILURES_PER_IP("CHAT_LOGIN_FAILURES_PER_IP", "--login-failures-per-ip", "50", "logins without the right password from one client address before its next ones are slowed (a growing delay, up to a minute); forgiven after 5 quiet minutes"),
    REGISTRATIONS_PER_IP("CHAT_REGISTRATIONS_PER_IP", "--registrations-per-ip", "20", "accounts one client address may register before its next ones are slowed (a growing delay, up to an hour); forgiven after a quiet hour"),
    TRUSTED_PROXIES("CHAT_TRUSTED_PROXIES", "--trusted-proxies", "", "comma-separated addresses or CIDR ranges of the reverse proxies whose X-Forwarded-For names the client's address; empty means the address of the connection"),
    OUTBOX_FRAMES("CHAT_OUTBOX_FRAMES", "--outbox-frames", "2048", "outgoing queue of a connection; past half, typing and presence are dropped; full closes with 4002"),
    OUTBOX_BYTES("CHAT_OUTBOX_BYTES", "--outbox-bytes", "16777216", "most bytes queued for a connection (16 MiB), whatever the frames: past it the connection is closed with 4002 like a full queue; at least 128 x CHAT_MAX_FRAME_BYTES, so a history page always fits"),
    OUTBOX_BUDGET("CHAT_OUTBOX_BUDGET", "--outbox-budget", "0", "most bytes queued for all the connections of the node together; past it the connections holding the most are closed with 4002 until a quarter of it is free again; 0 means a quarter of the JVM's maximum heap, and any other value must be at least CHAT_OUTBOX_BYTES"),
    UNWRITABLE_TIMEOUT("CHAT_UNWRITABLE_TIMEOUT", "--unwritable-timeout", "30s", "a connection whose socket takes nothing for this long (its client reads nothing, whatever it sends) is closed with 4002"),
    FLUSH_INTERVAL("CHAT_FLUSH_INTERVAL", "--flush-interval", "3ms", "least time between two socket writes to one connection; frames meanwhile travel together; 0ms writes each at once; at most 100ms"),
    REPLAY_LIMIT("CHAT_REPLAY_LIMIT", "--replay-limit", "1000", "most messages replayed on a join with since (at most half of CHAT_OUTBOX_FRAMES)"),
    HEARTBEAT_INTERVAL("CHAT_HEARTBEAT_INTERVAL", "--heartbeat-interval", "25s", "how often the server pings each connection"),
    HEARTBEAT_TIMEOUT("CHAT_HEARTBEAT_TIMEOUT", "--heartbeat-timeout", "60s", "a connection silent this long is closed: a WebSocket that answers no ping, or an HTTP connection that sends nothing"),
    REQUEST_HEAD_TIMEOUT("CHAT_REQUEST_HEAD_TIMEOUT", "--request-head-timeout", "10s", "longest an HTTP request line and headers may take to arrive, however slowly they trickle, counted from the connection's opening (from the first byte, for a later request on a kept-alive connection); past it the answer is 408 and the connection is closed"),
    MAX_CONNECTIONS("CHAT_MAX_CONNECTIONS", "--max-connections", "20000", "most WebSocket connections of the node; more are refused before the upgrade with 503 and Retry-After; 0 for no cap"),
    MAX_CONNECTIONS_PER_IP("CHAT_MAX_CONNECTIONS_PER_IP", "--max-connections-per-ip", "1000", "most WebSocket connections of the node from one client address (an IPv6 /64 counts as one address); more are refused with 429 and Retry-After; TCP connections of any kind from the address are capped at twice this plus 64 (one more is closed at once); 0 for no cap. Behind a reverse proxy set CHAT_TRUSTED_PROXIES, or all connections count as the proxy's address"),
    MAX_CONNECTIONS_PER_USER("CHAT_MAX_CONNECTIONS_PER_USER", "--max-connections-per-user", "100", "most WebSocket connections of the node for one user; more are refused with 429 and Retry-After; 0 for no cap"),
    UPGRADE_RATE("CHAT_UPGRADE_RATE", "--upgrade-rate", "1000", "WebSocket upgrades the node takes a second, after a burst of one second's worth (a node that restarted gets its clients back at this pace: 19,000 within about 20 s at the default); past it 503 unavailable with Retry-After before the upgrade; 0 means no limit"),
    APPEND_LINGER("CHAT_APPEND_LINGER", "--append-linger", "1ms", "on a busy node (4 or more sends expected meanwhile), how long a send may wait for others to share its group commit; 0ms commits at once; at most 100ms"),
    APPEND_BATCH_MAX("CHAT_APPEND_BATCH_MAX", "--append-batch-max", "1024", "most messages committed in one group-commit transaction; keep it at most half of CHAT_OUTBOX_FRAMES (a commit reaches a room's members all at once)"),
    JOURNAL_SYNC("CHAT_JOURNAL_SYNC", "--journal-sync", "commit", "embedded H2 only: commit (each group commit's journal write is synced to the disk before its acks: an acknowledged message survives a power cut) or none (it survives a killed process, not a power cut; about a sixth less CPU and 0.3 ms less on the median ack, docs/BENCHMARKS.md entry 62)"),
    TRANSPORT("CHAT_TRANSPORT", "--transport", "auto", "the network transport of the event loops: auto (the fastest available as measured: epoll, then io_uring, then nio), io_uring, epoll or nio; one not available here falls back to the next, as the start-up log says; io_uring is for measuring (under overload its completion queue overflows)"),
    EVENT_LOOPS("CHAT_EVENT_LOOPS", "--event-loops", "0", "event-loop threads serving connections; 0 means one per core"),
    DRAIN_TIMEOUT("CHAT_DRAIN_TIMEOUT", "--drain-timeout", "10s", "on SIGTERM, how long to wait for pending commits before closing"),
    ADMINS("CHAT_ADMINS", "--admins", "", "comma-separated usernames (any letter case) of the server-wide administrators, who may disable and enable accounts; empty means none"),
    ROOM_CREATION("CHAT_ROOM_CREATION", "--room-creation", "anyone", "who may make rooms (POST /api/rooms, or a join of a name not taken): anyone or admins"),
    RETENTION_DAYS("CHAT_RETENTION_DAYS", "--retention-days", "0", "messages (and room events) older than this many days are removed by a background sweep, unless a room keeps them less long; also the most a room may set; 0 keeps them for ever (up to 36500)"),
    RETENTION_MESSAGES("CHAT_RETENTION_MESSAGES", "--retention-messages", "0", "each room keeps at most its newest this many messages (and room events); older ones are removed by the sweep once 10 minutes old; also the most a room may set; 0 means no limit"),
    WEBHOOK_ALLOW_PRIVATE("CHAT_WEBHOOK_ALLOW_PRIVATE", "--webhook-allow-private", "false", "true lets rooms' webhooks call loopback, private and link-local addresses (on-premises receivers); false, the default, refuses them (SSRF)"),
    WEBHOOK_TIMEOUT("CHAT_WEBHOOK_TIMEOUT", "--webhook-timeout", "10s", "how long a webhook delivery may take to connect, and then to be answered, before it counts as a failure"),
    WEBHOOK_RETRY_BASE("CHAT_WEBHOOK_RETRY_BASE", "--webhook-retry-base", "10s", "the wait after a webhook's first failed delivery; it doubles with each failure in a row (at most 1h), with jitter"),
    WEBHOOK_ATTEMPTS("CHAT_WEBHOOK_ATTEMPTS", "--webhook-attempts", "12", "failed deliveries in a row after which a webhook is disabled (about 2 to 3.5 hours with the default back-off); 1 to 100"),
    API_DOCS("CHAT_API_DOCS", "--api-docs", "on", "on or off: the API docs page at /docs (/openapi.yaml and /asyncapi.yaml are served either way)"),
    LOG_FORMAT("CHAT_LOG_FORMAT", "--log-format", "text", "text or json (one JSON object per line)");

    public final String env;
    public final String flag;
    public final String defaultValue;
    public final String description;

    Setting(String env, String flag, String defaultValue, String description) {
        this.env = env;
        this.flag = flag;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    public boolean secret() {
        return this == JWT_SECRET || this == DATABASE_PASSWORD || this == CLUSTER_KEY;
    }

    /** The variable that names a file holding this setting's value (Docker and Kubernetes secrets). */
    public String fileEnv() {
        return env + "_FILE";
    }
}
