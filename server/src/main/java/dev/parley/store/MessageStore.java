package dev.parley.store;

import dev.parley.event.Ids;
import dev.parley.event.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The source of truth for order. {@link #append} assigns the room's next seq and stores the message;
 * concurrent appends are committed together by one writer thread (group commit), so a burst of
 * sends costs one transaction, not one each. The room row is locked for the transaction, which keeps
 * seqs gap-free when several nodes append to the same room. A unique key on (room, sender, clientId)
 * makes a retried send return the first copy instead of storing a second one.
 *
 * <p>Reads are plain blocking JDBC: callers run them off the event loop.
 */
public final class MessageStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MessageStore.class);
    private static final String COLUMNS = "room, seq, id, sender, text, ts, client_id";
    private static final String INSERT_MESSAGE = "INSERT INTO messages (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)";
    private static final String INSERT_ROOM = "INSERT INTO rooms (name, last_seq, created_at) VALUES (?, 0, ?) ON CONFLICT DO NOTHING";
    /** Most keys (or rooms) one statement looks up or locks with an IN list. */
    private static final int IN_LIST_CHUNK = 128;
    private static final long SESSION_IDLE_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long SESSION_RENEW_NANOS = TimeUnit.MINUTES.toNanos(5);
    /** How much journal to let pile up before H2 is told to write its pages and the journal is emptied. */
    static final long JOURNAL_CHECKPOINT_BYTES = 8 << 20;

    private final Database db;
    private final Journal journal; // null: the database makes each commit durable itself
    private final long journalCheckpointBytes;
    private long journalCheckpointAt;
    private final int batchMax;
    private final Linger linger; // the writer thread's only
    private final Consumer<List<Message>> onCommit;
    private final BatchObserver observer;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private volatile boolean running = true;
    private WriterSession session; // the writer thread's only

    /** What an append produced: the stored message, and whether it was stored before (a retry). */
    public record Appended(Message message, boolean duplicate) {}

    public record Page(List<Message> messages, boolean hasMore) {}

    public record RoomInfo(String name, long lastSeq) {}

    /** Told the size and duration of each committed batch; the metrics listen here. */
    public interface BatchObserver {
        void batchCommitted(int size, long nanos);

        BatchObserver NONE = (size, nanos) -> {};
    }

    private record Pending(String room, String sender, String clientId, String text, CompletableFuture<Appended> result, long queuedAt) {}

    /**
     * @param onCommit called on the writer thread with each transaction's new messages, in seq order
     *                 per room, after the commit and before any append future completes
     */
    public MessageStore(Database db, int batchMax, Consumer<List<Message>> onCommit, BatchObserver observer) {
        this(db, null, batchMax, 0, onCommit, observer);
    }

    /**
     * @param journal the embedded database's {@link Journal}, which this store then owns: whatever it
     *                holds that the database lacks is put back before the first append
     * @param lingerNanos under load, how long appends may wait for others to share their commit (see {@link Linger})
     */
    public MessageStore(Database db, Journal journal, int batchMax, long lingerNanos, Consumer<List<Message>> onCommit, BatchObserver observer) {
        this(db, journal, JOURNAL_CHECKPOINT_BYTES, batchMax, lingerNanos, onCommit, observer);
    }

    /** @param journalCheckpointBytes how much journal makes the writer have H2 write its pages and empty it */
    MessageStore(Database db, Journal journal, long journalCheckpointBytes, int batchMax, long lingerNanos, Consumer<List<Message>> onCommit, BatchObserver observer) {
        this.db = requireNonNull(db, "db");
        this.journal = journal;
        this.journalCheckpointBytes = journalCheckpointBytes;
        this.journalCheckpointAt = journalCheckpointBytes;
        if (journal != null) {
            try {
                recover(db, journal);
            } catch (RuntimeException e) {
                try {
                    journal.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
        this.batchMax = batchMax;
        this.linger = new Linger(lingerNanos, System.nanoTime());
        this.onCommit = requireNonNull(onCommit, "onCommit");
        this.observer = requireNonNull(observer, "observer");
        this.writer = Thread.ofPlatform().name("parley-group-commit").daemon(true).unstarted(this::writeLoop);
        this.writer.start();
    }

    /** Queues a message for the next group commit. Completes on the writer thread. */
    public CompletableFuture<Appended> append(String room, String sender, String clientId, String text) {
        CompletableFuture<Appended> result = new CompletableFuture<>();
        if (!running) {
            result.completeExceptionally(new StoreException("store is closed", null));
            return result;
        }
        queue.add(new Pending(room, sender, clientId, text, result, System.nanoTime()));
        return result;
    }

    /** Appends waiting for a commit. */
    public int pendingAppends() {
        return queue.size();
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>(batchMax);
        while (running || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                queue.drainTo(batch, batchMax - 1);
                if (batch.size() < batchMax) {
                    long wait = linger.waitNanos(first.queuedAt, System.nanoTime());
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                        queue.drainTo(batch, batchMax - batch.size());
                    }
                }
                linger.taken(batch.size());
                commit(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Throwable t) {
                log.error("group commit failed unexpectedly", t);
                for (Pending p : batch) p.result.completeExceptionally(t);
            } finally {
                batch.clear();
            }
        }
        if (journal != null) {
            if (journal.size() > 0) checkpoint();
            try {
                journal.close();
            } catch (IOException e) {
                log.warn("closing the journal failed: {}", e.toString());
            }
        }
        endSession();
        for (Pending p; (p = queue.poll()) != null; ) {
            p.result.completeExceptionally(new StoreException("store is closed", null));
        }
    }

    /**
     * Appends the transaction's new messages to the journal before it commits: once it commits, its
     * senders may be acknowledged. If the write fails the transaction is rolled back, so the journal
     * never lacks a committed message; if the commit fails after the write, the journal holds
     * messages that were not acknowledged, which a replay stores and a retry of the send then finds.
     */
    private void journal(List<Message> fresh) throws SQLException {
        if (journal == null || fresh.isEmpty()) return;
        try {
            journal.append(fresh);
        } catch (IOException e) {
            // SQLSTATE 58030, an I/O error: the batch fails as if the database were unavailable.
            throw new SQLException("journal write failed: " + e.getMessage(), "58030", e);
        }
    }

    /**
     * Has H2 write everything committed (so far only in memory and the journal) to its file, then
     * empties the journal. Runs on the writer thread, which alone appends, so nothing committed can
     * slip in between. On failure the journal is kept and grows until the next try.
     */
    private void checkpoint() {
        try {
            WriterSession w = session();
            persistAll(db, w.connection);
            journal.clear();
            journalCheckpointAt = journalCheckpointBytes;
        } catch (SQLException | IOException e) {
            journalCheckpointAt = journal.size() + journalCheckpointBytes;
            log.warn("checkpoint failed, keeping the journal ({} bytes): {}", journal.size(), e.toString());
        }
    }

    /** Has the database write everything committed; the journal may only be emptied after this. */
    private static void persistAll(Database db, Connection c) throws SQLException {
        if (!db.persist(c)) throw new SQLException("the database cannot be told to write its pages now");
    }

    /**
     * Stores what the journal holds and the database lacks: the commits of the last half second or so
     * before a crash, which H2 had not written yet. A message already stored (same room and seq) is
     * skipped, so a journal that was not emptied before a clean stop replays to no effect.
     */
    private static void recover(Database db, Journal journal) {
        List<Message> messages = new ArrayList<>();
        try {
            journal.replay(messages::addAll);
        } catch (IOException e) {
            throw new StoreException("could not read the journal " + journal.path(), e);
        }
        if (messages.isEmpty()) return;
        int restored = 0;
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try (PreparedStatement room = c.prepareStatement(INSERT_ROOM);
                 PreparedStatement insert = c.prepareStatement(INSERT_MESSAGE + " ON CONFLICT DO NOTHING");
                 PreparedStatement bump = c.prepareStatement("UPDATE rooms SET last_seq = GREATEST(last_seq, ?) WHERE name = ?")) {
                for (Message m : messages) {
                    room.setString(1, m.room());
                    room.setLong(2, m.tsMillis());
                    room.executeUpdate();
                    bind(insert, m);
                    if (insert.executeUpdate() == 0) continue;
                    restored++;
                    bump.setLong(1, m.seq());
                    bump.setString(2, m.room());
                    bump.executeUpdate();
                }
            }
            c.commit();
            persistAll(db, c);
            journal.clear();
        } catch (SQLException | IOException e) {
            throw new StoreException("could not restore the journal " + journal.path() + " into the database", e);
        }
        log.info("journal {}: {} messages, {} of them restored to the database", journal.path(), messages.size(), restored);
    }

    private void commit(List<Pending> batch) {
        long start = System.nanoTime();
        List<Appended> results;
        List<Message> fresh = new ArrayList<>(batch.size());
        try {
            WriterSession w = session();
            try {
                results = appendAll(w, batch, fresh, false);
                journal(fresh);
                w.connection.commit();
            } catch (SQLException e) {
                rollbackQuietly(w.connection);
                if (!integrityViolation(e)) {
                    if (!refusesData(e)) endSession();
                    throw e;
                }
                // Most likely a retried send whose first copy is stored (or is in this batch): do it
                // again, looking every key up first. A value the database refuses fails here again.
                fresh.clear();
                results = appendWithLookup(w, batch, fresh);
            } catch (RuntimeException e) {
                rollbackQuietly(w.connection);
                endSession();
                throw e;
            }
        } catch (SQLException e) {
            if (refusesData(e)) {
                if (batch.size() > 1) {
                    // One message the database refuses must not fail the others committed with it:
                    // commit each on its own, so that only the culprit fails.
                    log.warn("group commit of {} messages refused ({}); committing them one by one", batch.size(), e.getMessage());
                    for (Pending p : batch) commit(List.of(p));
                } else {
                    log.warn("the database refused a message of {} to room {}: {}", batch.get(0).sender, batch.get(0).room, e.getMessage());
                    batch.get(0).result.completeExceptionally(new RefusedException("the message cannot be stored", e));
                }
                return;
            }
            log.warn("group commit of {} messages failed: {}", batch.size(), e.getMessage());
            StoreException failure = new StoreException("the database is unavailable", e);
            for (Pending p : batch) p.result.completeExceptionally(failure);
            return;
        }
        observer.batchCommitted(batch.size(), System.nanoTime() - start);
        if (!fresh.isEmpty()) {
            try {
                onCommit.accept(fresh);
            } catch (RuntimeException e) {
                log.error("commit listener failed", e);
            }
        }
        for (int i = 0; i < batch.size(); i++) batch.get(i).result.complete(results.get(i));
        // After the acks: the checkpoint writes every page H2 has not written yet, which takes a while.
        if (journal != null && journal.size() >= journalCheckpointAt) checkpoint();
    }

    private List<Appended> appendWithLookup(WriterSession w, List<Pending> batch, List<Message> fresh) throws SQLException {
        try {
            List<Appended> results = appendAll(w, batch, fresh, true);
            journal(fresh);
            w.connection.commit();
            return results;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(w.connection);
            if (!(e instanceof SQLException s && refusesData(s))) endSession();
            throw e;
        }
    }

    /** An integrity violation (SQLSTATE class 23): on the fast path, most likely a retried send. */
    private static boolean integrityViolation(SQLException e) {
        return hasSqlStateClass(e, "23");
    }

    /**
     * The writer's connection with its statements prepared once. Preparing them per commit made H2
     * parse and plan four statements a commit: at 1,000 commits a second that was most of the
     * server's garbage, and so of its GC pauses. The connection is checked when it has been idle
     * (as the pool would on a borrow) and handed back to the pool now and then, so that the pool's
     * max lifetime still applies to it.
     */
    private WriterSession session() throws SQLException {
        long now = System.nanoTime();
        if (session != null && now - session.borrowedAt > SESSION_RENEW_NANOS) endSession();
        if (session != null && now - session.lastUsed > SESSION_IDLE_CHECK_NANOS && !session.connection.isValid(1)) endSession();
        if (session == null) session = new WriterSession(db.connection(), now);
        session.lastUsed = now;
        return session;
    }

    private void endSession() {
        if (session == null) return;
        session.close();
        session = null;
    }

    private static final class WriterSession implements AutoCloseable {
        final Connection connection;
        final long borrowedAt;
        long lastUsed;
        final PreparedStatement insert;
        final PreparedStatement bump;
        final PreparedStatement lockRoom;
        final PreparedStatement insertRoom;
        /** Adds to a room's last seq and returns the new one. */
        final PreparedStatement reserveSeqs;
        /** PostgreSQL only (null on H2): takes a room's next seq and inserts one message with it. */
        final PreparedStatement appendOne;
        /** The retry lookup for 1, 2, 4, ... 128 keys; a smaller chunk repeats its last key. */
        final PreparedStatement[] existing = new PreparedStatement[8];
        /** Locks 1, 2, 4, ... 128 rooms at once, in name order; a smaller chunk repeats its last room. */
        final PreparedStatement[] lockRooms = new PreparedStatement[8];

        WriterSession(Connection c, long now) throws SQLException {
            this.connection = c;
            this.borrowedAt = now;
            try {
                c.setAutoCommit(false);
                boolean postgres = "PostgreSQL".equals(c.getMetaData().getDatabaseProductName());
                if (postgres) {
                    // Until autovacuum first analyzes a new messages table, PostgreSQL guesses it is
                    // tiny and answers the retry lookup with a scan of the whole table, on every
                    // commit: appends slowed as the table grew, and two nodes sharing one core fell
                    // behind within seconds. Every statement of this session has an index to use.
                    try (var st = c.createStatement()) {
                        st.execute("SET enable_seqscan = off");
                    }
                }
                insert = c.prepareStatement(INSERT_MESSAGE);
                bump = c.prepareStatement("UPDATE rooms SET last_seq = ? WHERE name = ?");
                lockRoom = c.prepareStatement("SELECT last_seq FROM rooms WHERE name = ? FOR UPDATE");
                insertRoom = c.prepareStatement(INSERT_ROOM);
                // H2 has no UPDATE ... RETURNING; it reads what an UPDATE wrote through FINAL TABLE.
                reserveSeqs = c.prepareStatement(postgres
                        ? "UPDATE rooms SET last_seq = last_seq + ? WHERE name = ? RETURNING last_seq"
                        : "SELECT last_seq FROM FINAL TABLE (UPDATE rooms SET last_seq = last_seq + ? WHERE name = ?)");
                appendOne = postgres ? c.prepareStatement("WITH r AS (UPDATE rooms SET last_seq = last_seq + 1 WHERE name = ? RETURNING last_seq) "
                        + "INSERT INTO messages (" + COLUMNS + ") SELECT ?, last_seq, ?, ?, ?, ?, ? FROM r RETURNING seq") : null;
            } catch (SQLException e) {
                closeQuietly(c);
                throw e;
            }
        }

        /** The power of two at or above {@code keys}: a handful of statement shapes instead of 128. */
        static int lookupSlots(int keys) {
            return 1 << (32 - Integer.numberOfLeadingZeros(keys - 1));
        }

        PreparedStatement existing(int slots) throws SQLException {
            return shaped(existing, slots, "SELECT " + COLUMNS + " FROM messages WHERE (room, sender, client_id) IN (%s)", "(?, ?, ?)");
        }

        PreparedStatement lockRooms(int slots) throws SQLException {
            return shaped(lockRooms, slots, "SELECT name, last_seq FROM rooms WHERE name IN (%s) ORDER BY name FOR UPDATE", "?");
        }

        /** The statement of {@code sql} with {@code slots} (a power of two) copies of {@code mark} in its IN list, prepared once. */
        private PreparedStatement shaped(PreparedStatement[] cache, int slots, String sql, String mark) throws SQLException {
            int slot = Integer.numberOfTrailingZeros(slots);
            if (cache[slot] == null) cache[slot] = connection.prepareStatement(sql.formatted(String.join(",", Collections.nCopies(slots, mark))));
            return cache[slot];
        }

        @Override
        public void close() {
            // Closing the connection closes its statements; a broken one is discarded by the pool.
            closeQuietly(connection);
        }

        private static void closeQuietly(Connection c) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    /**
     * A data exception (SQLSTATE class 22: a value too long, a bad character) or an integrity
     * violation (23) is about the message, not the database: retrying it would fail again.
     */
    private static boolean refusesData(SQLException e) {
        return hasSqlStateClass(e, "22") || hasSqlStateClass(e, "23");
    }

    private static boolean hasSqlStateClass(SQLException e, String sqlStateClass) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith(sqlStateClass)) return true;
        }
        return false;
    }

    /**
     * Stores the batch in the current transaction. Without {@code lookup} it assumes no retries (the
     * common case, and one query fewer a room): a retry then breaks the unique key and the caller
     * runs the batch again with {@code lookup}, which finds the stored copies first.
     */
    private List<Appended> appendAll(WriterSession w, List<Pending> batch, List<Message> fresh, boolean lookup) throws SQLException {
        // Rooms are locked in name order so that two nodes committing the same rooms cannot deadlock.
        Map<String, List<Integer>> byRoom = new TreeMap<>();
        for (int i = 0; i < batch.size(); i++) byRoom.computeIfAbsent(batch.get(i).room, r -> new ArrayList<>()).add(i);
        Appended[] results = new Appended[batch.size()];
        long now = System.currentTimeMillis();
        PreparedStatement insert = w.insert;
        PreparedStatement bump = w.bump;
        insert.clearBatch(); // a failed transaction may have left rows batched
        bump.clearBatch();
        if (!lookup && byRoom.size() == 1) {
            String room = byRoom.keySet().iterator().next();
            // On its own only without a journal, which must hold the message before it commits.
            boolean done = batch.size() == 1 && journal == null && w.appendOne != null
                    ? appendOne(w, room, batch.get(0), results, fresh, now)
                    : appendToOneRoom(w, room, batch, byRoom.get(room), results, fresh, now);
            if (done) return List.of(results);
        }
        Map<String, Long> lastSeqs = lockRooms(w, new ArrayList<>(byRoom.keySet()));
        for (Map.Entry<String, List<Integer>> e : byRoom.entrySet()) {
            String room = e.getKey();
            Long locked = lastSeqs.get(room);
            long seq = locked != null ? locked : lockRoom(w, room);
            Map<String, Message> known = lookup ? existing(w, room, batch, e.getValue()) : new HashMap<>();
            for (int i : e.getValue()) {
                Pending p = batch.get(i);
                String key = p.sender + '\u0000' + p.clientId;
                Message prior = known.get(key);
                if (prior != null) {
                    results[i] = new Appended(prior, true);
                    continue;
                }
                Message m = new Message(room, ++seq, Ids.next(now), p.sender, p.text, now, p.clientId);
                known.put(key, m);
                results[i] = new Appended(m, false);
                fresh.add(m);
                bind(insert, m);
                insert.addBatch();
            }
            bump.setLong(1, seq);
            bump.setString(2, room);
            bump.addBatch();
        }
        insert.executeBatch();
        bump.executeBatch();
        return List.of(results);
    }

    /**
     * A batch of one message on PostgreSQL, which is most commits at a moderate rate: one statement
     * takes the room's next seq (locking its row, as the general path does) and inserts the message,
     * and commits on its own. That is one round trip to the database where the general path needs
     * four (lock, insert, bump, commit). A retry breaks the unique key as on the general path, and
     * nothing is stored.
     *
     * @return false if the room does not exist yet (nothing was done): the general path creates it
     */
    private static boolean appendOne(WriterSession w, String room, Pending p, Appended[] results, List<Message> fresh, long now) throws SQLException {
        String id = Ids.next(now);
        PreparedStatement ps = w.appendOne;
        ps.setString(1, room);
        ps.setString(2, room);
        ps.setString(3, id);
        ps.setString(4, p.sender);
        ps.setString(5, p.text);
        ps.setLong(6, now);
        ps.setString(7, p.clientId);
        long seq;
        w.connection.setAutoCommit(true); // no transaction is open here, so this sends nothing
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) return false;
            seq = rs.getLong(1);
        } finally {
            w.connection.setAutoCommit(false);
        }
        Message m = new Message(room, seq, id, p.sender, p.text, now, p.clientId);
        results[0] = new Appended(m, false);
        fresh.add(m);
        return true;
    }

    /**
     * A batch of one room (on H2 also a batch of one message): one statement takes the room's row
     * lock and its seqs at once, where the general path locks with {@code SELECT ... FOR UPDATE}
     * and bumps with a second statement. On PostgreSQL that is one round trip fewer per commit, and
     * where two nodes append to the same room, the lock they queue on is held that much shorter; on
     * H2 it is one change of the rooms table instead of two (H2 marks a row locked by writing it).
     * Sends repeated within the batch (same sender and clientId) share one seq, as on the general path.
     *
     * @return false if the room does not exist yet (nothing was done): the general path creates it
     */
    private static boolean appendToOneRoom(WriterSession w, String room, List<Pending> batch, List<Integer> indexes,
                                           Appended[] results, List<Message> fresh, long now) throws SQLException {
        // The first index of each (sender, clientId) in the batch: later ones are retries of it.
        Map<String, Integer> firstOfKey = new HashMap<>();
        int[] first = new int[indexes.size()];
        for (int n = 0; n < indexes.size(); n++) {
            int i = indexes.get(n);
            Integer earlier = firstOfKey.putIfAbsent(batch.get(i).sender + '\u0000' + batch.get(i).clientId, i);
            first[n] = earlier != null ? earlier : i;
        }
        w.reserveSeqs.setLong(1, firstOfKey.size());
        w.reserveSeqs.setString(2, room);
        long seq;
        try (ResultSet rs = w.reserveSeqs.executeQuery()) {
            if (!rs.next()) return false;
            seq = rs.getLong(1) - firstOfKey.size();
        }
        for (int n = 0; n < indexes.size(); n++) {
            int i = indexes.get(n);
            if (first[n] != i) {
                results[i] = new Appended(results[first[n]].message(), true);
                continue;
            }
            Pending p = batch.get(i);
            Message m = new Message(room, ++seq, Ids.next(now), p.sender, p.text, now, p.clientId);
            results[i] = new Appended(m, false);
            fresh.add(m);
            bind(w.insert, m);
            w.insert.addBatch();
        }
        w.insert.executeBatch();
        return true;
    }

    /**
     * Locks the rows of the rooms that exist, in name order (two nodes committing the same rooms
     * cannot deadlock), one statement per 128 rooms instead of one per room: a batch that spans a
     * hundred rooms spent most of its time locking them one by one. Returns their last seqs. A room
     * that does not exist yet (rooms are created on join, so this is rare) is created and locked
     * after the others; should that ever deadlock with another node, the database aborts one of
     * the two transactions and its senders get {@code unavailable} and retry.
     */
    private static Map<String, Long> lockRooms(WriterSession w, List<String> sortedRooms) throws SQLException {
        Map<String, Long> out = new HashMap<>();
        for (int from = 0; from < sortedRooms.size(); from += IN_LIST_CHUNK) {
            List<String> chunk = sortedRooms.subList(from, Math.min(sortedRooms.size(), from + IN_LIST_CHUNK));
            int slots = WriterSession.lookupSlots(chunk.size());
            PreparedStatement ps = w.lockRooms(slots);
            for (int n = 0; n < slots; n++) ps.setString(n + 1, chunk.get(Math.min(n, chunk.size() - 1)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    /** Locks the room row for this transaction and returns its last seq, creating the room if needed. */
    private static long lockRoom(WriterSession w, String room) throws SQLException {
        for (int attempt = 0; attempt < 2; attempt++) {
            w.lockRoom.setString(1, room);
            try (ResultSet rs = w.lockRoom.executeQuery()) {
                if (rs.next()) return rs.getLong(1);
            }
            w.insertRoom.setString(1, room);
            w.insertRoom.setLong(2, System.currentTimeMillis());
            w.insertRoom.executeUpdate();
        }
        throw new SQLException("room " + room + " could not be created");
    }

    private static void insertRoom(Connection c, String room) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_ROOM)) {
            ps.setString(1, room);
            ps.setLong(2, System.currentTimeMillis());
            ps.executeUpdate();
        }
    }

    /**
     * Messages already stored under the batch's (sender, clientId) keys for this room. The lookup is a
     * row-value IN on all three columns of the (room, sender, client_id) unique index, so each key is
     * an index probe; {@code room = ? AND client_id IN (...)} used only the room prefix and scanned all
     * of the room's messages, which made appends slow down as rooms grew.
     */
    private static Map<String, Message> existing(WriterSession w, String room, List<Pending> batch, List<Integer> indexes) throws SQLException {
        Map<String, Message> found = new HashMap<>();
        for (int from = 0; from < indexes.size(); from += IN_LIST_CHUNK) {
            List<Integer> chunk = indexes.subList(from, Math.min(indexes.size(), from + IN_LIST_CHUNK));
            int slots = WriterSession.lookupSlots(chunk.size());
            PreparedStatement ps = w.existing(slots);
            int k = 1;
            for (int n = 0; n < slots; n++) {
                Pending p = batch.get(chunk.get(Math.min(n, chunk.size() - 1)));
                ps.setString(k++, room);
                ps.setString(k++, p.sender);
                ps.setString(k++, p.clientId);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Message m = read(rs);
                    found.put(m.from() + '\u0000' + m.clientId(), m);
                }
            }
        }
        return found;
    }

    /** Creates the room if it does not exist; returns its last seq. Blocking. */
    public long ensureRoom(String room) {
        try (Connection c = db.connection()) {
            OptionalLong last = lastSeq(c, room);
            if (last.isPresent()) return last.getAsLong();
            insertRoom(c, room);
            db.persist(c);
            return lastSeq(c, room).orElseThrow();
        } catch (SQLException e) {
            throw new StoreException("could not create room", e);
        }
    }

    /** The room's last seq, or empty if no one ever joined it. Blocking. */
    public OptionalLong lastSeq(String room) {
        try (Connection c = db.connection()) {
            return lastSeq(c, room);
        } catch (SQLException e) {
            throw new StoreException("could not read room", e);
        }
    }

    private static OptionalLong lastSeq(Connection c, String room) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT last_seq FROM rooms WHERE name = ?")) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
        }
    }

    /** Every room, by name. Blocking. */
    public List<RoomInfo> rooms() {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT name, last_seq FROM rooms ORDER BY name");
             ResultSet rs = ps.executeQuery()) {
            List<RoomInfo> out = new ArrayList<>();
            while (rs.next()) out.add(new RoomInfo(rs.getString(1), rs.getLong(2)));
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not list rooms", e);
        }
    }

    /**
     * One page of a room's history, ascending by seq. With neither cursor: the newest {@code limit};
     * {@code before}: the newest {@code limit} below it; {@code after}: the oldest {@code limit} above it.
     * {@code hasMore} says whether more exist beyond the page in the direction of paging. Blocking.
     */
    public Page page(String room, Long before, Long after, int limit) {
        boolean forward = after != null;
        String sql = "SELECT " + COLUMNS + " FROM messages WHERE room = ?"
                + (before != null ? " AND seq < ?" : "") + (after != null ? " AND seq > ?" : "")
                + (forward ? " ORDER BY seq ASC" : " ORDER BY seq DESC") + " LIMIT ?";
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, room);
            if (before != null) ps.setLong(i++, before);
            if (after != null) ps.setLong(i++, after);
            ps.setInt(i, limit + 1);
            List<Message> rows = new ArrayList<>(limit + 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) rows.add(read(rs));
            }
            boolean hasMore = rows.size() > limit;
            if (hasMore) rows.remove(rows.size() - 1);
            if (!forward) Collections.reverse(rows);
            return new Page(rows, hasMore);
        } catch (SQLException e) {
            throw new StoreException("could not read history", e);
        }
    }

    /** Messages with {@code after < seq <= upTo}, ascending. Blocking. */
    public List<Message> range(String room, long after, long upTo) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                     + " FROM messages WHERE room = ? AND seq > ? AND seq <= ? ORDER BY seq ASC")) {
            ps.setString(1, room);
            ps.setLong(2, after);
            ps.setLong(3, upTo);
            List<Message> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(read(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not read messages", e);
        }
    }

    /** Last seqs of the named rooms that exist. Blocking. */
    public Map<String, Long> lastSeqs(List<String> rooms) {
        Map<String, Long> out = new HashMap<>();
        if (rooms.isEmpty()) return out;
        try (Connection c = db.connection()) {
            for (int from = 0; from < rooms.size(); from += 100) {
                List<String> chunk = rooms.subList(from, Math.min(rooms.size(), from + 100));
                String marks = String.join(",", Collections.nCopies(chunk.size(), "?"));
                try (PreparedStatement ps = c.prepareStatement("SELECT name, last_seq FROM rooms WHERE name IN (" + marks + ")")) {
                    for (int k = 0; k < chunk.size(); k++) ps.setString(k + 1, chunk.get(k));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not read rooms", e);
        }
    }

    private static void bind(PreparedStatement ps, Message m) throws SQLException {
        ps.setString(1, m.room());
        ps.setLong(2, m.seq());
        ps.setString(3, m.id());
        ps.setString(4, m.from());
        ps.setString(5, m.text());
        ps.setLong(6, m.tsMillis());
        ps.setString(7, m.clientId());
    }

    private static Message read(ResultSet rs) throws SQLException {
        return new Message(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getLong(6), rs.getString(7));
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool discards it
        }
    }

    /** Stops taking appends, commits what is queued (waiting at most {@code timeout}), then stops the writer. */
    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    public void close(Duration timeout) {
        running = false;
        try {
            writer.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
