package dev.parley.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Retention: removing a room's old messages and room events, oldest first, in small transactions.
 * Blocking JDBC: {@link RetentionSweep} calls it on its own thread.
 *
 * <p>What goes is always a prefix of the room's sequence: the sweep moves {@code rooms.first_seq}
 * (where the room's history starts, as for a deleted room) up past the oldest rows that are old
 * enough, then deletes the rows below it. Every read starts at {@code first_seq} already
 * ({@link MessageReads#SINCE_DELETION}), so rows below it that a crash left behind are never seen,
 * and the journal puts none back ({@link Journal#recover} skips them); the next sweep deletes them.
 * A row younger than {@link #KEEP_RECENT_MILLIS} is never removed, whatever the count says: a node
 * that is behind (its broker lost an event) reads what it missed from the store within a second, and
 * a join reads the room events since its access check; neither may find a removal or a ban gone.
 *
 * <p>Idempotent, so every node of a cluster may sweep every room: {@code first_seq} only ever goes
 * up ({@code WHERE first_seq < ?}), and a range deleted twice deletes nothing the second time. Two
 * nodes sweeping at once do some work twice, never harm. Deleted rooms are not swept: their history
 * is purged by {@link RoomStore#purge}, and their {@code room_deleted} event stays.
 */
public final class RetentionStore {
    /**
     * The tables whose rows belong to one seq of a room (keyed by room and seq): what the sweep, and
     * a deleted room's purge, remove below {@code first_seq}, in one transaction per range. A new
     * table of that kind is one more name here.
     */
    static final List<String> TABLES_BY_SEQ = List.of("messages", "message_reactions");
    /** No row younger than this is removed (see the class comment). PROTOCOL.md says 10 minutes. */
    public static final long KEEP_RECENT_MILLIS = 10 * 60_000L;
    /** Seqs removed per transaction, at most: a transaction stays short, and so do the locks it holds. */
    static final int BATCH = 500;
    private static final long DAY_MILLIS = 86_400_000L;

    private final Database db;
    private final int batch;

    public RetentionStore(Database db) {
        this(db, BATCH);
    }

    /** @param batch seqs per transaction: a test's, to see several */
    RetentionStore(Database db, int batch) {
        this.db = requireNonNull(db, "db");
        this.batch = batch;
    }

    /** A retention: days and messages, 0 for no limit of that kind. */
    public record Policy(int days, long messages) {
        public static final Policy NONE = new Policy(0, 0);

        public boolean none() {
            return days == 0 && messages == 0;
        }

        /**
         * What a room keeps: its own setting (null: the server's), but never more than the server's
         * where the server has a limit, so that lowering the server's limit binds every room.
         */
        public Policy forRoom(Integer roomDays, Long roomMessages) {
            return new Policy((int) tighter(days, roomDays), tighter(messages, roomMessages));
        }

        private static long tighter(long server, Number room) {
            if (room == null) return server;
            return server == 0 ? room.longValue() : Math.min(server, room.longValue());
        }
    }

    /** What one sweep of a room did: rows removed, and whether it stopped with more to do. */
    public record Swept(long rows, boolean more) {}

    /**
     * Up to {@code limit} names of rooms that are not deleted, by name after {@code after}: with a
     * server default, every room; without one, only the rooms with a setting of their own.
     */
    public List<String> rooms(String after, int limit, boolean all) {
        String sql = "SELECT name FROM rooms WHERE NOT deleted AND name > ?"
                + (all ? "" : " AND (retention_days IS NOT NULL OR retention_messages IS NOT NULL)") + " ORDER BY name LIMIT ?";
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, after);
            ps.setInt(2, limit);
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not list rooms to sweep", e);
        }
    }

    /**
     * Removes what the room keeps no longer under {@code server}'s retention and its own, at most
     * {@code maxBatches} transactions of at most {@link #BATCH} seqs each. Blocking.
     *
     * @param now epoch millis: what counts as old is measured from here
     */
    public Swept sweep(String room, Policy server, long now, int maxBatches) {
        long swept = 0;
        try (Connection c = db.connection()) {
            for (int b = 0; b < maxBatches; b++) {
                long n = step(c, room, server, now);
                if (n < 0) return new Swept(swept, false);
                swept += n;
            }
            return new Swept(swept, true);
        } catch (SQLException e) {
            throw new StoreException("could not sweep room " + room, e);
        }
    }

    /** One transaction's worth. @return rows removed, or -1 when there is nothing (more) to do */
    private long step(Connection c, String room, Policy server, long now) throws SQLException {
        long first, last;
        Policy keep;
        try (PreparedStatement ps = c.prepareStatement("SELECT first_seq, last_seq, deleted, retention_days, retention_messages FROM rooms WHERE name = ?")) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getBoolean(3)) return -1;
                first = rs.getLong(1);
                last = rs.getLong(2);
                int days = rs.getInt(4);
                Integer roomDays = rs.wasNull() ? null : days;
                long messages = rs.getLong(5);
                Long roomMessages = rs.wasNull() ? null : messages;
                keep = server.forRoom(roomDays, roomMessages);
            }
        }
        long lowest;
        try (PreparedStatement ps = c.prepareStatement("SELECT MIN(seq) FROM messages WHERE room = ?")) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                lowest = rs.getLong(1);
                if (rs.wasNull()) return -1;
            }
        }
        // Rows below the start that an earlier sweep (or a crash during it) left: delete those first.
        if (lowest < first) return delete(c, room, lowest, Math.min(first, lowest + batch));
        if (keep.none()) return -1;
        long byCount = keep.messages() > 0 ? last - keep.messages() + 1 : 0; // seqs below this are past the count
        long byAge = keep.days() > 0 ? now - keep.days() * DAY_MILLIS : Long.MIN_VALUE; // rows before this are past the age
        if (keep.days() == 0 && byCount <= lowest) return -1;
        long recent = now - KEEP_RECENT_MILLIS;
        // The oldest row first, alone: most sweeps of most rooms end here, having read one row.
        long end = oldPrefixEnd(c, room, lowest, 1, byCount, byAge, recent);
        if (end < 0) return -1;
        end = Math.max(end, oldPrefixEnd(c, room, lowest, batch, byCount, byAge, recent));
        try (PreparedStatement ps = c.prepareStatement("UPDATE rooms SET first_seq = ? WHERE name = ? AND first_seq < ? AND NOT deleted")) {
            ps.setLong(1, end);
            ps.setString(2, room);
            ps.setLong(3, end);
            if (ps.executeUpdate() == 0) return -1; // deleted meanwhile: its purge takes it from here
        }
        // The new start on the disk before any row goes (H2: reads and a journal replay skip what is
        // below it from then on). A no-op on PostgreSQL, where the statement's commit is durable.
        db.persist(c);
        return delete(c, room, lowest, end);
    }

    /**
     * The seq after the last of the room's oldest {@code limit} rows from {@code from} that are old
     * enough to go, taken in seq order up to the first that is not; -1 if the first is not.
     */
    private static long oldPrefixEnd(Connection c, String room, long from, int limit, long byCount, long byAge, long recent) throws SQLException {
        long end = -1;
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, ts FROM messages WHERE room = ? AND seq >= ? ORDER BY seq LIMIT ?")) {
            ps.setString(1, room);
            ps.setLong(2, from);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long seq = rs.getLong(1), ts = rs.getLong(2);
                    boolean old = ts < recent && (seq < byCount || ts < byAge);
                    if (!old) break;
                    end = seq + 1;
                }
            }
        }
        return end;
    }

    /** Deletes the room's rows with {@code from <= seq < to} from every table keyed by seq, in one transaction. @return messages deleted */
    private static long delete(Connection c, String room, long from, long to) throws SQLException {
        c.setAutoCommit(false);
        try {
            long deleted = deleteRange(c, room, from, to);
            c.commit();
            return deleted;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** The rows of {@code from <= seq < to} of every table keyed by seq, in the caller's transaction. @return messages deleted */
    static long deleteRange(Connection c, String room, long from, long to) throws SQLException {
        long messages = 0;
        for (String table : TABLES_BY_SEQ) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE room = ? AND seq >= ? AND seq < ?")) {
                ps.setString(1, room);
                ps.setLong(2, from);
                ps.setLong(3, to);
                int n = ps.executeUpdate();
                if (table.equals("messages")) messages = n;
            }
        }
        return messages;
    }
}
