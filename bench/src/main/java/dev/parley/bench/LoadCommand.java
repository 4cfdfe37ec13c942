package dev.parley.bench;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code bench load}: fills a stopped server's store with N messages over R rooms (see {@link StoreShape}
 * and {@link TextGenerator}), with JDBC, for the read-side measurements ({@code bench query}). The
 * schema is the server's, written by {@link Loader}, which says how it is coupled to it.
 */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Bulk loader: fills a STOPPED server's store (H2 or PostgreSQL) with N messages over R rooms, with JDBC.",
                "It writes the server's tables as the server would have (gap-free seqs from 1, room counters, members, search index),",
                "straight into the embedded H2 of a data directory (--data-dir) or a PostgreSQL (--database-url, with COPY).",
                "The schema must exist (start the server once on the store, or pass --server-jar) at the version the loader knows.",
                "Texts: a fixed-seed Zipf vocabulary, plus marker words at exact frequencies: quokka in 1 message in 100,000, zeppelin in 1 in 1,000, quasar in 1 in 10.",
                "Users are <user-prefix>N, password bench-password-0; rooms <room-prefix>N, public, with --members members each."})
final class LoadCommand implements Callable<Integer> {
    @ArgGroup(multiplicity = "1")
    Store store;

    static final class Store {
        @Option(names = "--data-dir", paramLabel = "<dir>", description = "the server's data directory: its embedded H2 database")
        Path dataDir;

        @Option(names = "--database-url", paramLabel = "<jdbc:postgresql:...>", description = "a PostgreSQL database the server uses")
        String databaseUrl;
    }

    @Option(names = "--database-user", paramLabel = "<user>", defaultValue = "", description = "PostgreSQL user")
    String databaseUser;

    @Option(names = "--database-password", paramLabel = "<password>", description = "PostgreSQL password; default: the environment's CHAT_DATABASE_PASSWORD (a flag shows in ps)")
    String databasePassword;

    @Option(names = "--messages", paramLabel = "<n>", defaultValue = "1M", converter = CountConverter.class,
            description = "messages to write (1M, 10M, 30M, 20000...). Default: ${DEFAULT-VALUE}")
    long messages;

    @Option(names = "--rooms", paramLabel = "<n>", defaultValue = "10000", description = "rooms they are spread over, evenly. Default: ${DEFAULT-VALUE}")
    int rooms;

    @Option(names = "--users", paramLabel = "<n>", defaultValue = "1000", description = "users who sent them. Default: ${DEFAULT-VALUE}")
    int users;

    @Option(names = "--members", paramLabel = "<n>", defaultValue = "10", description = "members of each room, who send its messages. Default: ${DEFAULT-VALUE}")
    int members;

    @Option(names = "--room-prefix", paramLabel = "<prefix>", defaultValue = "load", description = "room names: prefix then 0, 1... Default: ${DEFAULT-VALUE}")
    String roomPrefix;

    @Option(names = "--user-prefix", paramLabel = "<prefix>", defaultValue = "loadu", description = "usernames: prefix then 0, 1... Default: ${DEFAULT-VALUE}")
    String userPrefix;

    @Option(names = "--seed", paramLabel = "<n>", defaultValue = "1", description = "seed of the texts. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--vocabulary", paramLabel = "<n>", defaultValue = "50000", description = "distinct words (besides the markers). Default: ${DEFAULT-VALUE}")
    int vocabulary;

    @Option(names = "--interval-ms", paramLabel = "<ms>", defaultValue = "100",
            description = "time between two messages (of the whole store); the newest is now. Default: ${DEFAULT-VALUE}")
    long intervalMs;

    @Option(names = "--threads", paramLabel = "<n>", defaultValue = "2", description = "PostgreSQL connections writing at once (H2: one). Default: ${DEFAULT-VALUE}")
    int threads;

    @Option(names = "--server-jar", paramLabel = "<parley.jar>",
            description = "start this server jar once on the store first (on a free loopback port, until it is ready), so that its migrations make the schema")
    Path serverJar;

    @Option(names = "--json", description = "print the summary as one JSON object on stdout")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!roomPrefix.matches("[a-z0-9][a-z0-9_-]{0,50}")) throw new IllegalArgumentException("--room-prefix: lowercase letters, digits, _ and -");
        if (!userPrefix.matches("[A-Za-z0-9_.-]{1,20}")) throw new IllegalArgumentException("--user-prefix: letters, digits, _ . and -");
        boolean postgres = store.databaseUrl != null;
        if (postgres && !store.databaseUrl.startsWith("jdbc:postgresql:")) throw new IllegalArgumentException("--database-url: a jdbc:postgresql: URL");
        String password = databasePassword != null ? databasePassword : System.getenv().getOrDefault("CHAT_DATABASE_PASSWORD", "");
        if (serverJar != null) startOnce(serverJar, postgres, password);
        String url = postgres ? store.databaseUrl : h2Url(store.dataDir);
        if (!postgres) refuseUnreplayedJournal(store.dataDir);
        long now = System.currentTimeMillis();
        StoreShape shape = new StoreShape(messages, rooms, users, members, roomPrefix, userPrefix, now - messages * intervalMs, intervalMs);
        Supplier<Connection> connections = () -> {
            try {
                return DriverManager.getConnection(url, postgres ? databaseUser : "", postgres ? password : "");
            } catch (SQLException e) {
                throw new IllegalStateException("cannot connect to " + (postgres ? store.databaseUrl : store.dataDir) + ": " + e.getMessage(), e);
            }
        };
        Loader loader = new Loader(connections, postgres, shape, new TextGenerator(seed, vocabulary), threads, System.err);
        long start = System.nanoTime();
        // H2 closes a file database with its last connection: this one keeps it open between the loader's.
        try (Connection keep = postgres ? null : connections.get()) {
            Thread progress = Thread.ofPlatform().daemon().name("load-progress").start(() -> progress(loader, start));
            try {
                loader.load();
            } finally {
                progress.interrupt();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("scenario", "load");
        out.put("date", Instant.now().toString());
        out.put("database", postgres ? "postgresql" : "h2");
        out.put("schemaVersion", Loader.SCHEMA_VERSION);
        out.put("messages", messages);
        out.put("rooms", rooms);
        out.put("users", users);
        out.put("members", members);
        out.put("roomPrefix", roomPrefix);
        out.put("userPrefix", userPrefix);
        out.put("seed", seed);
        out.put("vocabulary", vocabulary);
        out.put("seconds", Report.round(seconds));
        out.put("messagesPerSecond", Math.round(messages / seconds));
        Map<String, Object> phases = new LinkedHashMap<>(loader.phases());
        out.put("phaseSeconds", phases);
        Double writing = loader.phases().get("messages");
        if (writing != null && writing > 0) out.put("messagesPerSecondWriting", Math.round(messages / writing));
        Map<String, Object> markers = new LinkedHashMap<>();
        for (TextGenerator.Marker m : TextGenerator.MARKERS) markers.put(m.word(), TextGenerator.occurrences(m, messages));
        out.put("markers", markers);
        Report.print(System.out, out, json);
        return 0;
    }

    /** The server's own URL of its embedded database (config.ChatConfig.embeddedDatabaseUrl), but that it must exist and a bigger cache. */
    static String h2Url(Path dataDir) {
        return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("parley")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;IFEXISTS=TRUE;CACHE_SIZE=65536";
    }

    /** The server puts the journal's records into the database at its start: loading before that would write seqs it then finds taken. */
    static void refuseUnreplayedJournal(Path dataDir) throws IOException {
        Path journal = dataDir.resolve("parley.journal");
        if (Files.exists(journal) && mayHoldRecords(journal)) {
            throw new IllegalStateException(journal + " holds messages the server has not yet written into its database (it stopped uncleanly):"
                    + " start it once and stop it, then load");
        }
    }

    /**
     * Whether the server's journal (its store.Journal, which this module does not link) may hold
     * records. A first-version file ({@code PARLEYJ1}) is empty at its 8-byte header's length. The
     * current one ({@code PARLEYJ2}, a 16-byte header) is filled with zeros ahead of its records, and
     * the server zeroes its first record's length whenever it empties it, at every start and clean stop.
     */
    static boolean mayHoldRecords(Path journal) throws IOException {
        byte[] head;
        try (var in = Files.newInputStream(journal)) {
            head = in.readNBytes(24);
        }
        if (head.length < 8) return false;
        String magic = new String(head, 0, 8, java.nio.charset.StandardCharsets.US_ASCII);
        if (magic.equals("PARLEYJ1")) return Files.size(journal) > 8;
        if (!magic.equals("PARLEYJ2")) return true; // not ours to judge: the server will say
        for (int i = 16; i < head.length; i++) if (head[i] != 0) return true;
        return false;
    }

    private static void progress(Loader loader, long start) {
        try {
            while (true) {
                Thread.sleep(5_000);
                long n = loader.written();
                System.err.printf(Locale.ROOT, "load: %,d messages, %,.0f/s%n", n, n / ((System.nanoTime() - start) / 1e9));
            }
        } catch (InterruptedException e) {
            // done
        }
    }

    /** Starts the server jar on the store until it is ready, then stops it: its Flyway migrations have run. */
    private void startOnce(Path jar, boolean postgres, String password) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-jar", jar.toString(), "serve",
                "--host", "127.0.0.1", "--port", String.valueOf(port), "--admin-port", "0"));
        if (postgres) {
            cmd.addAll(List.of("--database-url", store.databaseUrl, "--database-user", databaseUser));
        } else {
            if (!Files.exists(store.dataDir)) {
                // As the server makes it: only its owner may read the messages and password hashes.
                Files.createDirectories(store.dataDir);
                try {
                    Files.setPosixFilePermissions(store.dataDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system
                }
            }
            cmd.addAll(List.of("--data-dir", store.dataDir.toString()));
        }
        Path log = Files.createTempFile("parley-load-server", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        pb.environment().put("CHAT_JWT_SECRET", HexFormat.of().formatHex(secret));
        if (postgres) pb.environment().put("CHAT_DATABASE_PASSWORD", password);
        System.err.println("load: starting " + jar + " once, for its migrations (log: " + log + ")");
        Process server = pb.start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (true) {
                if (!server.isAlive()) throw new IllegalStateException("the server exited (" + server.exitValue() + "):\n" + Files.readString(log));
                try {
                    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() == 200) break;
                } catch (IOException e) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) throw new IllegalStateException("the server was not ready in 120 s:\n" + Files.readString(log));
                Thread.sleep(100);
            }
        } finally {
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        Files.deleteIfExists(log);
    }

    /** Reads 20000, 20_000, 20k, 1M, 1.5M. */
    static final class CountConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String v) {
            String s = v.trim().replace("_", "").toLowerCase(Locale.ROOT);
            long unit = s.endsWith("k") ? 1_000 : s.endsWith("m") ? 1_000_000 : 1;
            if (unit > 1) s = s.substring(0, s.length() - 1);
            try {
                return Math.round(Double.parseDouble(s) * unit);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + v + "' is not a count (expected e.g. 20000, 20k, 1M)");
            }
        }
    }
}
