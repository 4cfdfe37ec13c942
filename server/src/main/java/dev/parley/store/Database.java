package dev.parley.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import org.flywaydb.core.Flyway;
import org.h2.api.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** The connection pool and the schema. H2 and PostgreSQL go through the same code and the same migrations. */
public final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);

    private final HikariDataSource pool;
    private final HikariDataSource healthPool;
    private final boolean h2File;
    private final boolean sync;
    private volatile boolean checkpointAllowed = true;
    /**
     * The embedded database only: a connection held open for the node's life, outside the pools, so
     * that H2 never closes (and opens again) on its own while the node runs; and the H2 database it
     * is a connection to. See {@link #connection}.
     */
    private final Connection anchor;
    private final Object engine;
    private final AtomicBoolean reopened = new AtomicBoolean();
    /** A prepared room change whose write failed: see {@link #commitDurably}. */
    private final AtomicBoolean unwritten = new AtomicBoolean();
    private final AtomicLong prepared = new AtomicLong();
    /** Tests only: runs inside {@link #commitDurably} between the write and the commit. */
    private volatile Consumer<Connection> afterPreparedWrite = c -> { };

    public Database(String url, String user, String password, int poolSize) {
        this(url, user, password, poolSize, false);
    }

    /**
     * @param sync whether {@link #persist} also forces what it writes to the disk
     *             ({@code CHAT_JOURNAL_SYNC=commit}): then a power cut takes back no sign-up, new room
     *             or room change that was answered, as the journal's sync keeps every acknowledged message
     */
    public Database(String url, String user, String password, int poolSize, boolean sync) {
        this(url, user, password, poolSize, sync, false);
    }

    /**
     * @param embedded whether this is the embedded default, whose messages are in a journal for the
     *                 moments before H2 writes them: then a database that H2 closed on a fault and the
     *                 pool opened again (without those moments) is refused, see {@link #connection}
     */
    public Database(String url, String user, String password, int poolSize, boolean sync, boolean embedded) {
        this.sync = sync;
        this.pool = new HikariDataSource(config(url, user, password, poolSize, "parley-db"));
        this.h2File = url.startsWith("jdbc:h2:file:");
        // db/migration holds what both databases run alike; a version whose DDL differs has a file in
        // each of db/postgresql and db/h2 (V9: PostgreSQL's full-text index, which H2 has no form of).
        String own = url.startsWith("jdbc:postgresql:") ? "classpath:db/postgresql" : "classpath:db/h2";
        if (h2File) commitInDoubt();
        Flyway.configure().dataSource(pool).locations("classpath:db/migration", own).load().migrate();
        try (Connection c = pool.getConnection()) {
            persist(c);
        } catch (SQLException e) {
            pool.close();
            throw new StoreException("could not write the schema", e);
        }
        if (embedded && h2File) {
            Connection held = null;
            try {
                held = DriverManager.getConnection(url, user, password);
                this.engine = h2Engine(held);
                this.anchor = held;
            } catch (SQLException | RuntimeException e) {
                try {
                    if (held != null) held.close();
                } catch (SQLException again) {
                    e.addSuppressed(again);
                }
                pool.close();
                throw new StoreException("could not open the database", e);
            }
            if (engine == null) log.warn("cannot tell this H2's engine apart: a database that H2 closes on a fault and the pool opens again will not be refused");
        } else {
            this.anchor = null;
            this.engine = null;
        }
        // One connection of its own for the readiness check: in a reconnect storm the pool's
        // connections are all busy with joins' reads, and a check waiting its turn for one past the
        // pool's timeout took the node for down (BENCHMARKS.md entry 58). Opened when first asked for.
        HikariConfig health = config(url, user, password, 1, "parley-db-health");
        health.setMinimumIdle(0);
        health.setInitializationFailTimeout(-1);
        this.healthPool = new HikariDataSource(health);
        log.info("database ready url={}", url.replaceAll("(?i)(password=)[^&;]*", "$1****"));
    }

    private static final class EvictBrokenH2Connections implements SQLExceptionOverride {
        @java.lang.Override
        public Override adjudicate(SQLException e) {
            return switch (e.getErrorCode()) {
                case ErrorCode.CONNECTION_BROKEN_1, ErrorCode.DATABASE_IS_CLOSED, ErrorCode.DATABASE_CALLED_AT_SHUTDOWN -> Override.MUST_EVICT;
                default -> Override.CONTINUE_EVICT;
            };
        }
    }

    private static HikariConfig config(String url, String user, String password, int poolSize, String name) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        if (!user.isEmpty()) hc.setUsername(user);
        if (!password.isEmpty()) hc.setPassword(password);
        hc.setMaximumPoolSize(poolSize);
        hc.setMinimumIdle(Math.min(2, poolSize));
        hc.setPoolName(name);
        // Fail fast while the database is down, so a send gets `unavailable` in about a second
        // instead of hanging; the pool reconnects by itself when the database is back.
        hc.setConnectionTimeout(1500);
        hc.setValidationTimeout(1000);
        hc.setInitializationFailTimeout(30_000);
        if (url.startsWith("jdbc:h2:")) {
            // Hikari discards a broken connection only for SQLSTATE 08xxx, which PostgreSQL uses and H2
            // does not: without this, a closed H2 database leaves dead connections in the pool forever.
            hc.setExceptionOverride(new EvictBrokenH2Connections());
        }
        if (url.startsWith("jdbc:postgresql:")) {
            hc.addDataSourceProperty("reWriteBatchedInserts", "true");
            hc.addDataSourceProperty("socketTimeout", "30");
            hc.addDataSourceProperty("connectTimeout", "5");
        }
        return hc;
    }

    public DataSource dataSource() {
        return pool;
    }

    /**
     * A connection from the pool. On the embedded database, refused (SQLSTATE 08006, as a database
     * that is down) once H2 has been opened again under the node: H2 closes itself on a fault (a full
     * disk), the pool then opens it again, and it lacks the commits it had not written yet, which the
     * journal holds. A node writing on would give their seqs to new messages and events, so until a
     * restart (whose start restores the journal first) nothing is read or written, and the readiness
     * check says the database is down.
     */
    public Connection connection() throws SQLException {
        Connection c = pool.getConnection();
        if (unwritten.get()) {
            c.close();
            throw refused();
        }
        if (engine != null) sameDatabase(c);
        return c;
    }

    /**
     * Throws if this database is refused until a restart ({@link #connection}): for a session that
     * holds its connection (the group commit's writer), checked after it has locked its rooms and
     * before it commits.
     */
    void requireUsable() throws SQLException {
        if (unwritten.get() || reopened.get()) throw refused();
    }

    private static SQLException refused() {
        return new SQLException("the database was closed by a fault; restart the node", "08006");
    }

    private void sameDatabase(Connection c) throws SQLException {
        if (!reopened.get()) {
            try {
                if (h2Engine(c) == engine) return;
            } catch (SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
            if (reopened.compareAndSet(false, true)) {
                log.error("the database was closed by a fault and opened again without the commits H2 had not written: "
                        + "refusing every read and write until the node is restarted, which restores them from the journal");
            }
        }
        c.close();
        throw refused();
    }

    /** The H2 database a connection is to: another object once H2 has closed it and opened it again. */
    private static Object h2Engine(Connection c) throws SQLException {
        org.h2.engine.Session s = c.unwrap(org.h2.jdbc.JdbcConnection.class).getSession();
        return s instanceof org.h2.engine.SessionLocal local ? local.getDatabase() : null;
    }

    /**
     * Commits {@code c}'s transaction, a change that takes a room's seq (a membership, edit or
     * reaction event), so that no one reads it before it is on the disk. The journal holds only
     * messages; committed first and written after, such an event could be read (a join's replay, a
     * history page) and the next seq given to a message, acknowledged from the journal, before a
     * crash took the event back: a hole in the room's seqs after the restart, or the event's seq
     * given to another one that a client that saw it would never fetch. On an H2 file the
     * transaction is prepared (PREPARE COMMIT: its rows stay unseen and the room's row locked, so
     * the room's next seq waits), written with H2's pages ({@link #persist}), then committed. A
     * crash after the write leaves it in doubt, and the next start commits it ({@link #commitInDoubt}):
     * its commit was never written, though it may have been answered. A write or sync that fails
     * after the prepare (H2 may have written the prepared transaction already, and does not always
     * close on a failed sync) makes the node refuse the database until a restart, this node's
     * writer included: rolled back and answered {@code unavailable}, the change's seq would go to
     * the next message, acknowledged from the journal, while the file may still hold the change
     * that the next start commits. After a restart it is there or not, as the disk decides.
     * Elsewhere, a plain commit (PostgreSQL's is durable).
     *
     * <p>The room's row stays locked through the write and sync (about 2 ms on this project's
     * machine): a send to the same room waits for it, and with it the group commit that holds it.
     */
    public void commitDurably(Connection c) throws SQLException {
        if (h2File && checkpointAllowed) {
            try (Statement st = c.createStatement()) {
                st.execute("PREPARE COMMIT parley_" + prepared.incrementAndGet());
            }
            try {
                persist(c);
                afterPreparedWrite.accept(c);
            } catch (SQLException | RuntimeException e) {
                if (unwritten.compareAndSet(false, true)) {
                    log.error("a room change could not be written to the disk after it was prepared: refusing every read and write "
                            + "until the node is restarted, whose start finds it on the disk or not ({})", e.toString());
                }
                throw e;
            }
        }
        c.commit();
    }

    /** Tests only: an action run after each prepared change is written, before it is committed. */
    void afterPreparedWrite(Consumer<Connection> action) {
        this.afterPreparedWrite = action;
    }

    /** Commits what {@link #commitDurably} had prepared and written when the node stopped without committing it. */
    private void commitInDoubt() {
        try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
            List<String> names = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT transaction_name FROM information_schema.in_doubt")) {
                while (rs.next()) names.add(rs.getString(1));
            }
            for (String name : names) st.execute("COMMIT TRANSACTION \"" + name.replace("\"", "\"\"") + "\"");
            if (!names.isEmpty()) log.info("committed {} room changes that were written but not yet committed when the node stopped", names.size());
        } catch (SQLException e) {
            pool.close();
            throw new StoreException("could not commit the room changes the node had prepared when it stopped", e);
        }
    }

    /**
     * Writes what is committed to the database file now, where the database would otherwise hold it
     * in memory for a while: an H2 file without WRITE_DELAY=0, as the embedded default is. Messages
     * have the journal for that; the rare other writes (a sign-up, a new room) call this after their
     * commit, before they are acknowledged. A no-op elsewhere, and cheap when nothing is unwritten.
     *
     * @return false if the database may still hold commits in memory: an H2 user without the right to
     *         CHECKPOINT
     */
    public boolean persist(Connection c) throws SQLException {
        return persist(c, sync);
    }

    /**
     * As {@link #persist(Connection)}; with {@code sync}, H2 also forces its file to the disk
     * ({@code CHECKPOINT SYNC}: its pages, then an fsync), so that what it wrote survives a power cut.
     */
    public boolean persist(Connection c, boolean sync) throws SQLException {
        if (!h2File) return true;
        if (!checkpointAllowed) return false;
        try (Statement st = c.createStatement()) {
            st.execute(sync ? "CHECKPOINT SYNC" : "CHECKPOINT");
            return true;
        } catch (SQLException e) {
            if (e.getErrorCode() != ErrorCode.ADMIN_RIGHTS_REQUIRED) throw e;
            // A database URL of the operator's own, with a user who may not: H2 writes on its own schedule.
            checkpointAllowed = false;
            log.warn("the database user may not CHECKPOINT; sign-ups and new rooms are written on H2's own schedule");
            return false;
        }
    }

    /** True if a connection can be had and answers, within about a second. */
    public boolean healthy() {
        if (unwritten.get()) return false;
        try (Connection c = healthPool.getConnection()) {
            if (engine != null) sameDatabase(c);
            return c.isValid(1);
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    public void close() {
        healthPool.close();
        pool.close();
        if (anchor != null) {
            try {
                anchor.close(); // the last connection: H2 writes what it holds and closes, as it did without one
            } catch (SQLException e) {
                log.warn("closing the database failed: {}", e.toString());
            }
        }
    }
}
