package dev.parley.bench;

import at.favre.lib.crypto.bcrypt.BCrypt;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Writes a {@link StoreShape} into the server's database with JDBC, as the server would have written
 * it message by message. The bench imports nothing of the server, so this is <b>coupled to the
 * server's schema</b> by hand: it was written against Flyway version {@value #SCHEMA_VERSION}
 * ({@code server/src/main/resources/db/migration/V10__retention.sql}, with {@code db/h2} and
 * {@code db/postgresql} V9; V11 added users.bot and messages.bot with defaults, which a loaded
 * user or message leaves false; V12 only added tables of its own, webhooks; V13 set the search index's
 * fastupdate off, which the index made again after a load keeps, as it is made from its own definition;
 * V14 added message_reactions.reacted_seq, and a load writes no reactions), and refuses a database at any other version ({@link #checkSchema}).
 * A migration that changes users, rooms, room_members, read_markers or messages must be read here
 * and {@link #SCHEMA_VERSION} raised with it.
 *
 * <p>What the server relies on, and how it is kept:
 * <ul>
 * <li>A room's {@code last_seq} is its highest seq, and its seqs run from 1 without a gap
 *     ({@code first_seq} 0: nothing cut). Each room's messages and its {@code last_seq} are written in
 *     one transaction, so a load that fails part way leaves whole rooms, never a room whose counter
 *     is ahead of its rows.</li>
 * <li>{@code members} counts the room's {@code room_members} rows; every member has a read marker at
 *     the room's last seq (as V8 gave the members there were).</li>
 * <li>Search: H2 keeps no index (db/h2 V9: it reads the messages). PostgreSQL's GIN index
 *     {@code messages_search} is an expression index PostgreSQL keeps itself; keeping it row by row
 *     would bound the load at a few thousand messages a second, so it is dropped and made again,
 *     from its own definition as the database reports it, after the messages are in.</li>
 * <li>The look-alike keys of the names ({@code users.username_skeleton}, {@code rooms.skeleton})
 *     are left null: the server computes them (ICU) and fills every null one at start-up (store.Keys).</li>
 * <li>The embedded H2's journal ({@code parley.journal} beside the file) must be empty: its records
 *     are messages the server has still to put into the file, which it does at its next start. The
 *     loader refuses a data directory whose journal holds any, and writes nothing there itself.</li>
 * </ul>
 * Every loaded room is public; every loaded user's password is {@link Registrar#PASSWORD} (bcrypt
 * cost 4), so anyone may log in as one.
 */
final class Loader {
    /** The Flyway version of the schema this loader writes (see the class comment). */
    static final String SCHEMA_VERSION = "15";
    /** Rooms are written in transactions of about this many messages. */
    private static final long TRANSACTION = 50_000;
    private static final int BATCH = 1_000;

    private final Supplier<Connection> connections;
    private final boolean postgres;
    private final StoreShape shape;
    private final TextGenerator texts;
    private final int threads;
    private final PrintStream progress;
    private final AtomicLong written = new AtomicLong();
    private final Map<String, Double> phases = new LinkedHashMap<>();

    /** @param connections a new connection to the database each call */
    Loader(Supplier<Connection> connections, boolean postgres, StoreShape shape, TextGenerator texts, int threads, PrintStream progress) {
        this.connections = connections;
        this.postgres = postgres;
        this.shape = shape;
        this.texts = texts;
        this.threads = postgres ? Math.max(1, threads) : 1; // H2 writes one transaction at a time anyway
        this.progress = progress;
    }

    long written() {
        return written.get();
    }

    /** Seconds each phase of {@link #load} took, in order: where a slow load spends its time. */
    Map<String, Double> phases() {
        return phases;
    }

    private void phase(String name, long startNanos) {
        phases.put(name, Report.round((System.nanoTime() - startNanos) / 1e9));
    }

    /** Refuses a database without the server's schema, or at another version than {@link #SCHEMA_VERSION}. */
    static void checkSchema(Connection c) throws SQLException {
        String version;
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version FROM flyway_schema_history WHERE success AND version IS NOT NULL ORDER BY installed_rank DESC LIMIT 1")) {
            version = rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException("the database has no Parley schema (no Flyway history: " + e.getMessage().lines().findFirst().orElse("")
                    + "): start the server once on it, or pass --server-jar", e);
        }
        if (!SCHEMA_VERSION.equals(version)) {
            throw new IllegalStateException("the database's schema is at Flyway version " + version + ", and this loader writes version " + SCHEMA_VERSION
                    + " only: it must be updated for the migrations since (see Loader's class comment)");
        }
    }

    /** Refuses a store that holds any of the rooms to load already: a load goes into rooms of its own. */
    void checkRoomsFree(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT name FROM rooms WHERE name LIKE ? ESCAPE '!'")) {
            ps.setString(1, shape.roomPrefix().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    String rest = name.substring(shape.roomPrefix().length());
                    if (rest.matches("0|[1-9][0-9]{0,9}") && Long.parseLong(rest) < shape.rooms()) {
                        throw new IllegalStateException("room " + name + " exists already: load into a fresh store, or give another --room-prefix");
                    }
                }
            }
        }
    }

    /** Users, rooms and members, then the messages room by room, then the read markers. */
    void load() throws Exception {
        long start = System.nanoTime();
        try (Connection c = connections.get()) {
            c.setAutoCommit(false);
            checkSchema(c);
            checkRoomsFree(c);
            writeUsers(c);
            writeRooms(c);
            c.commit();
        }
        phase("usersAndRooms", start);
        String searchIndex = postgres ? dropSearchIndex() : null;
        try {
            start = System.nanoTime();
            writeMessages();
            phase("messages", start);
        } finally {
            if (searchIndex != null) {
                progress.println("load: making the search index again");
                start = System.nanoTime();
                try (Connection c = connections.get(); Statement st = c.createStatement()) {
                    st.execute("SET maintenance_work_mem = '512MB'");
                    st.execute(searchIndex);
                }
                phase("searchIndex", start);
            }
        }
        start = System.nanoTime();
        try (Connection c = connections.get()) {
            c.setAutoCommit(false);
            writeReadMarkers(c);
            c.commit();
            if (postgres) {
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("ANALYZE");
                }
            } else {
                try (Statement st = c.createStatement()) {
                    st.execute("CHECKPOINT SYNC");
                }
            }
        }
        phase(postgres ? "readMarkersAndAnalyze" : "readMarkersAndCheckpoint", start);
    }

    private void writeUsers(Connection c) throws SQLException {
        String hash = BCrypt.withDefaults().hashToString(4, Registrar.PASSWORD.toCharArray());
        long now = System.currentTimeMillis();
        // A user of an earlier load (same names) is used as it is.
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO users (username, username_lower, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (int u = 0; u < shape.users(); u++) {
                ps.setString(1, shape.user(u));
                ps.setString(2, shape.user(u).toLowerCase(java.util.Locale.ROOT));
                ps.setString(3, hash);
                ps.setLong(4, now);
                ps.addBatch();
                if (u % BATCH == BATCH - 1) ps.executeBatch();
            }
            ps.executeBatch();
        }
    }

    /** The rooms with last_seq 0 (their messages set it), and their members. */
    private void writeRooms(Connection c) throws SQLException {
        try (PreparedStatement room = c.prepareStatement(
                "INSERT INTO rooms (name, last_seq, created_at, kind, members, deleted, first_seq) VALUES (?, 0, ?, 'public', ?, FALSE, 0)");
             PreparedStatement member = c.prepareStatement(
                     "INSERT INTO room_members (room, user_key, username, role, added_at) VALUES (?, ?, ?, ?, ?)")) {
            for (int r = 0; r < shape.rooms(); r++) {
                room.setString(1, shape.room(r));
                room.setLong(2, shape.startMillis());
                room.setInt(3, shape.members());
                room.addBatch();
                for (int j = 0; j < shape.members(); j++) {
                    String user = shape.user(shape.member(r, j));
                    member.setString(1, shape.room(r));
                    member.setString(2, user.toLowerCase(java.util.Locale.ROOT));
                    member.setString(3, user);
                    member.setString(4, j == 0 ? "owner" : "member");
                    member.setLong(5, shape.startMillis());
                    member.addBatch();
                }
                if (r % 100 == 99) {
                    room.executeBatch();
                    member.executeBatch();
                }
            }
            room.executeBatch();
            member.executeBatch();
        }
    }

    private void writeReadMarkers(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO read_markers (user_key, room, seq) VALUES (?, ?, ?)")) {
            int n = 0;
            for (int r = 0; r < shape.rooms(); r++) {
                for (int j = 0; j < shape.members(); j++) {
                    ps.setString(1, shape.user(shape.member(r, j)).toLowerCase(java.util.Locale.ROOT));
                    ps.setString(2, shape.room(r));
                    ps.setLong(3, shape.count(r));
                    ps.addBatch();
                    if (++n % BATCH == 0) ps.executeBatch();
                }
            }
            ps.executeBatch();
        }
    }

    /** The definition of PostgreSQL's search index, dropped; null if there is none. */
    private String dropSearchIndex() throws SQLException {
        try (Connection c = connections.get(); Statement st = c.createStatement()) {
            String def;
            try (ResultSet rs = st.executeQuery("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'messages_search'")) {
                def = rs.next() ? rs.getString(1) : null;
            }
            if (def != null) st.execute("DROP INDEX messages_search");
            return def;
        }
    }

    /** Each of the threads takes every threads-th room, and writes its rooms in transactions of about {@link #TRANSACTION} messages. */
    private void writeMessages() throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                parts.add(pool.submit(() -> {
                    try (Connection c = connections.get()) {
                        c.setAutoCommit(false);
                        if (postgres) {
                            try (Statement st = c.createStatement()) {
                                st.execute("SET synchronous_commit = off");
                            }
                        }
                        List<Integer> group = new ArrayList<>();
                        long size = 0;
                        for (int r = first; r < shape.rooms(); r += threads) {
                            group.add(r);
                            size += shape.count(r);
                            if (size >= TRANSACTION) {
                                writeRooms(c, group);
                                group.clear();
                                size = 0;
                            }
                        }
                        if (!group.isEmpty()) writeRooms(c, group);
                    }
                    return null;
                }));
            }
            for (Future<?> f : parts) f.get();
        }
    }

    /** The messages of these rooms and their last seqs, in one transaction. */
    private void writeRooms(Connection c, List<Integer> rooms) throws SQLException {
        if (postgres) copyMessages(c, rooms);
        else insertMessages(c, rooms);
        try (PreparedStatement ps = c.prepareStatement("UPDATE rooms SET last_seq = ? WHERE name = ?")) {
            for (int r : rooms) {
                ps.setLong(1, shape.count(r));
                ps.setString(2, shape.room(r));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        c.commit();
        for (int r : rooms) written.addAndGet(shape.count(r));
    }

    private void insertMessages(Connection c, List<Integer> rooms) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO messages (room, seq, id, sender, client_id, text, ts) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            int n = 0;
            for (int r : rooms) {
                String room = shape.room(r);
                for (long seq = 1; seq <= shape.count(r); seq++) {
                    long m = shape.message(r, seq);
                    ps.setString(1, room);
                    ps.setLong(2, seq);
                    ps.setString(3, id(m));
                    ps.setString(4, shape.user(shape.sender(r, m)));
                    ps.setString(5, clientId(m));
                    ps.setString(6, texts.text(m));
                    ps.setLong(7, shape.ts(m));
                    ps.addBatch();
                    if (++n % BATCH == 0) ps.executeBatch();
                }
            }
            ps.executeBatch();
        }
    }

    /** COPY in PostgreSQL's text format: a line a row, tab between columns. */
    private void copyMessages(Connection c, List<Integer> rooms) throws SQLException {
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY messages (room, seq, id, sender, client_id, text, ts) FROM STDIN");
        try {
            // Rows go out in chunks of about 64 KiB: a CopyData message each, not one a row.
            StringBuilder chunk = new StringBuilder(70_000);
            for (int r : rooms) {
                String room = shape.room(r);
                for (long seq = 1; seq <= shape.count(r); seq++) {
                    long m = shape.message(r, seq);
                    chunk.append(room).append('\t').append(seq).append('\t').append(id(m)).append('\t').append(shape.user(shape.sender(r, m)))
                            .append('\t').append(clientId(m)).append('\t');
                    escape(chunk, texts.text(m));
                    chunk.append('\t').append(shape.ts(m)).append('\n');
                    if (chunk.length() >= 64_000) flush(copy, chunk);
                }
            }
            flush(copy, chunk);
            copy.endCopy();
        } finally {
            if (copy.isActive()) copy.cancelCopy();
        }
    }

    private static void flush(CopyIn copy, StringBuilder chunk) throws SQLException {
        byte[] bytes = chunk.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 0) copy.writeToCopy(bytes, 0, bytes.length);
        chunk.setLength(0);
    }

    private static void escape(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\\' -> b.append("\\\\");
                case '\t' -> b.append("\\t");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                default -> b.append(ch);
            }
        }
    }

    private static String clientId(long n) {
        return "load-" + Long.toString(n, 36);
    }

    private static final char[] CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

    /**
     * An id as the server makes them (26 characters of Crockford base32: 48 bits of time, then 80 of
     * noise), here 40 bits of a hash of the message's number and 40 of the number itself: no two alike.
     */
    private String id(long n) {
        char[] out = new char[26];
        long time = shape.ts(n);
        for (int i = 9; i >= 0; i--) {
            out[i] = CROCKFORD[(int) (time & 31)];
            time >>>= 5;
        }
        long noise = n * 0x9E3779B97F4A7C15L;
        long number = n;
        for (int i = 25; i >= 18; i--) {
            out[i] = CROCKFORD[(int) (number & 31)];
            number >>>= 5;
        }
        for (int i = 17; i >= 10; i--) {
            out[i] = CROCKFORD[(int) (noise >>> 59)];
            noise <<= 5;
        }
        return new String(out);
    }
}
