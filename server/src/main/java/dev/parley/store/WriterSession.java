package dev.parley.store;

import dev.parley.event.Ids;
import dev.parley.event.Message;
import dev.parley.store.GroupCommitWriter.Pending;
import dev.parley.store.MessageStore.Appended;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.parley.store.SqlDialect.READ_COLUMNS;
import static dev.parley.store.SqlDialect.bindMessage;
import static java.util.Objects.requireNonNull;

/**
 * The writer's connection with its statements prepared once, and what one attempt at a batch does
 * with them in the current transaction: lock the rooms, assign the seqs, insert. Preparing the
 * statements per commit made H2 parse and plan four statements a commit: at 1,000 commits a second
 * that was most of the server's garbage, and so of its GC pauses. {@link GroupCommitWriter} commits
 * or rolls back, and decides when to hand the connection back to the pool. Only the writer thread
 * uses a session.
 */
final class WriterSession implements AutoCloseable {
    /** Most keys (or rooms) one statement looks up or locks with an IN list. */
    private static final int IN_LIST_CHUNK = 128;
    /** {@link #lockRooms}' last seq of a deleted room, whose messages are refused. */
    private static final long DELETED = -1;

    final Connection connection;
    final long borrowedAt;
    long lastUsed;
    private final PreparedStatement insert;
    private final PreparedStatement bump;
    private final PreparedStatement lockRoom;
    private final PreparedStatement insertRoom;
    /** Finds what a reply answers; prepared on first use (few sends are replies). */
    private PreparedStatement replyTarget;
    /** Adds to a room's last seq and returns the new one. */
    private final PreparedStatement reserveSeqs;
    /**
     * Takes a room's next seq and inserts one message with it (null where the dialect has no such
     * statement). Null with a journal too, which must hold the message before it commits.
     */
    private final PreparedStatement appendOne;
    /** The retry lookup for 1, 2, 4, ... 128 keys; a smaller chunk repeats its last key. */
    private final PreparedStatement[] existing = new PreparedStatement[8];
    /** Locks 1, 2, 4, ... 128 rooms at once, in name order; a smaller chunk repeats its last room. */
    private final PreparedStatement[] lockRooms = new PreparedStatement[8];

    /** @param journaled whether each commit's messages go to a journal before it commits */
    WriterSession(Connection c, long now, boolean journaled) throws SQLException {
        this.connection = requireNonNull(c, "c");
        this.borrowedAt = now;
        try {
            c.setAutoCommit(false);
            SqlDialect dialect = SqlDialect.of(c);
            dialect.configure(c);
            insert = c.prepareStatement(SqlDialect.INSERT_MESSAGE);
            bump = c.prepareStatement("UPDATE rooms SET last_seq = ? WHERE name = ?");
            lockRoom = c.prepareStatement("SELECT last_seq FROM rooms WHERE name = ? FOR UPDATE");
            insertRoom = c.prepareStatement(SqlDialect.INSERT_ROOM);
            reserveSeqs = c.prepareStatement(dialect.reserveSeqs());
            String one = journaled ? null : dialect.appendOne();
            appendOne = one == null ? null : c.prepareStatement(one);
        } catch (SQLException e) {
            closeQuietly(c);
            throw e;
        }
    }

    /**
     * Stores the batch in the current transaction. Without {@code lookup} it assumes no retries (the
     * common case, and one query fewer a room): a retry then breaks the unique key and the caller
     * runs the batch again with {@code lookup}, which finds the stored copies first.
     *
     * <p>A message to a deleted room gets no result (null at its index) and is not stored: the send
     * was checked against its sender's seat before the deletion reached it, and stored after the
     * deletion it would be read by whoever takes the room's name next. Checked here, under the room's
     * lock, where the deletion's commit is ordered with the append. So is a message whose sender's
     * access was checked before the room's last deletion ({@code Pending.seat} below
     * {@code rooms.deleted_seq}) in a room whose name was taken again since: it was meant for the
     * room that was deleted, whose members the new room's are not.
     */
    List<Appended> appendAll(List<Pending> batch, List<Message> fresh, boolean lookup) throws SQLException {
        // Rooms are locked in name order so that two nodes committing the same rooms cannot deadlock.
        Map<String, List<Integer>> byRoom = new TreeMap<>();
        for (int i = 0; i < batch.size(); i++) byRoom.computeIfAbsent(batch.get(i).room(), r -> new ArrayList<>()).add(i);
        Appended[] results = new Appended[batch.size()];
        long now = System.currentTimeMillis();
        PreparedStatement insert = this.insert;
        PreparedStatement bump = this.bump;
        insert.clearBatch(); // a failed transaction may have left rows batched
        bump.clearBatch();
        if (!lookup && byRoom.size() == 1) {
            String room = byRoom.keySet().iterator().next();
            // On its own only without a journal, which must hold the message before it commits.
            boolean done = batch.size() == 1 && appendOne != null
                    ? appendOne(room, batch.get(0), results, fresh, now)
                    : appendToOneRoom(room, batch, byRoom.get(room), results, fresh, now);
            if (done) return List.of(results);
        }
        Map<String, long[]> lastSeqs = lockRooms(new ArrayList<>(byRoom.keySet()));
        for (Map.Entry<String, List<Integer>> e : byRoom.entrySet()) {
            String room = e.getKey();
            long[] locked = lastSeqs.get(room);
            if (locked != null && locked[0] == DELETED) continue; // their results stay null: refused, see below
            long seq = locked != null ? locked[0] : lockRoom(room);
            long deletedSeq = locked != null ? locked[1] : 0;
            long firstSeq = locked != null ? locked[2] : 0;
            Map<String, Message> known = lookup ? existing(room, batch, e.getValue(), firstSeq) : new HashMap<>();
            for (int i : e.getValue()) {
                Pending p = batch.get(i);
                if (seatOf(p) < deletedSeq) continue; // meant for the room deleted since: refused, as above
                String key = p.sender() + '\u0000' + p.clientId();
                Message prior = known.get(key);
                if (prior != null) {
                    results[i] = new Appended(prior, true);
                    continue;
                }
                Message m = new Message(room, ++seq, Ids.next(now), p.sender(), p.text(), now, p.clientId(), null, p.replyTo(), null, p.bot());
                known.put(key, m);
                results[i] = new Appended(m, false);
                fresh.add(m);
                bindMessage(insert, m);
                insert.addBatch();
            }
            bump.setLong(1, seq);
            bump.setString(2, room);
            bump.addBatch();
        }
        insert.executeBatch();
        bump.executeBatch();
        return Arrays.asList(results);
    }

    /**
     * A batch of one message on PostgreSQL, which is most commits at a moderate rate: one statement
     * takes the room's next seq (locking its row, as the general path does) and inserts the message,
     * and commits on its own. That is one round trip to the database where the general path needs
     * four (lock, insert, bump, commit). A retry breaks the unique key as on the general path, and
     * nothing is stored.
     *
     * @return false if the room does not exist yet, or was deleted after the sender's seat (nothing
     *         was done): the general path creates it, or refuses the message
     */
    private boolean appendOne(String room, Pending p, Appended[] results, List<Message> fresh, long now) throws SQLException {
        String id = Ids.next(now);
        PreparedStatement ps = appendOne;
        ps.setString(1, room);
        ps.setLong(2, seatOf(p));
        ps.setString(3, room);
        ps.setString(4, id);
        ps.setString(5, p.sender());
        ps.setString(6, p.text());
        ps.setLong(7, now);
        ps.setString(8, p.clientId());
        if (p.replyTo() > 0) ps.setLong(9, p.replyTo());
        else ps.setNull(9, java.sql.Types.BIGINT);
        ps.setString(10, SqlDialect.mentionsColumn(dev.parley.event.Mentions.of(p.text())));
        ps.setBoolean(11, p.bot());
        long seq;
        connection.setAutoCommit(true); // no transaction is open here, so this sends nothing
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) return false;
            seq = rs.getLong(1);
        } finally {
            connection.setAutoCommit(false);
        }
        Message m = new Message(room, seq, id, p.sender(), p.text(), now, p.clientId(), null, p.replyTo(), null, p.bot());
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
     * @return false if the room does not exist yet, or was deleted after a sender's seat (nothing was
     *         done): the general path creates it, or refuses those messages
     */
    private boolean appendToOneRoom(String room, List<Pending> batch, List<Integer> indexes,
                                    Appended[] results, List<Message> fresh, long now) throws SQLException {
        // The first index of each (sender, clientId) in the batch: later ones are retries of it.
        Map<String, Integer> firstOfKey = new HashMap<>();
        int[] first = new int[indexes.size()];
        for (int n = 0; n < indexes.size(); n++) {
            int i = indexes.get(n);
            Integer earlier = firstOfKey.putIfAbsent(batch.get(i).sender() + '\u0000' + batch.get(i).clientId(), i);
            first[n] = earlier != null ? earlier : i;
        }
        long oldestSeat = Long.MAX_VALUE;
        for (int i : indexes) oldestSeat = Math.min(oldestSeat, seatOf(batch.get(i)));
        reserveSeqs.setLong(1, firstOfKey.size());
        reserveSeqs.setString(2, room);
        reserveSeqs.setLong(3, oldestSeat);
        long seq;
        try (ResultSet rs = reserveSeqs.executeQuery()) {
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
            Message m = new Message(room, ++seq, Ids.next(now), p.sender(), p.text(), now, p.clientId(), null, p.replyTo(), null, p.bot());
            results[i] = new Appended(m, false);
            fresh.add(m);
            bindMessage(insert, m);
            insert.addBatch();
        }
        insert.executeBatch();
        return true;
    }

    /**
     * Locks the rows of the rooms that exist, in name order (two nodes committing the same rooms
     * cannot deadlock), one statement per 128 rooms instead of one per room: a batch that spans a
     * hundred rooms spent most of its time locking them one by one. Returns their last seqs
     * ({@link #DELETED} for a deleted room), the seqs of their last deletions (0: never) and where
     * their histories start ({@code first_seq}). A room
     * that does not exist yet (rooms are created on join, so this is rare) is created and locked
     * after the others; should that ever deadlock with another node, the database aborts one of
     * the two transactions and its senders get {@code unavailable} and retry.
     */
    private Map<String, long[]> lockRooms(List<String> sortedRooms) throws SQLException {
        Map<String, long[]> out = new HashMap<>();
        for (int from = 0; from < sortedRooms.size(); from += IN_LIST_CHUNK) {
            List<String> chunk = sortedRooms.subList(from, Math.min(sortedRooms.size(), from + IN_LIST_CHUNK));
            int slots = lookupSlots(chunk.size());
            PreparedStatement ps = shaped(lockRooms, slots, "SELECT name, last_seq, deleted, deleted_seq, first_seq FROM rooms WHERE name IN (%s) ORDER BY name FOR UPDATE", "?");
            for (int n = 0; n < slots; n++) ps.setString(n + 1, chunk.get(Math.min(n, chunk.size() - 1)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), new long[]{rs.getBoolean(3) ? DELETED : rs.getLong(2), rs.getLong(4), rs.getLong(5)});
            }
        }
        return out;
    }

    /** The seq as of which the sender's access was checked; a message not checked so passes every deletion but a current one. */
    private static long seatOf(Pending p) {
        return p.seat() < 0 ? Long.MAX_VALUE : p.seat();
    }

    /** Locks the room row for this transaction and returns its last seq, creating the room if needed. */
    private long lockRoom(String room) throws SQLException {
        for (int attempt = 0; attempt < 2; attempt++) {
            lockRoom.setString(1, room);
            try (ResultSet rs = lockRoom.executeQuery()) {
                if (rs.next()) return rs.getLong(1);
            }
            insertRoom.setString(1, room);
            insertRoom.setLong(2, System.currentTimeMillis());
            insertRoom.executeUpdate();
        }
        throw new SQLException("room " + room + " could not be created");
    }

    /**
     * Messages already stored under the batch's (sender, clientId) keys for this room. The lookup is a
     * row-value IN on all three columns of the (room, sender, client_id) unique index, so each key is
     * an index probe; {@code room = ? AND client_id IN (...)} used only the room prefix and scanned all
     * of the room's messages, which made appends slow down as rooms grew.
     *
     * <p>A row below the room's history start ({@code firstSeq}) is no earlier copy: it is what a
     * deletion of the room left for its purge (under way, or never done when the node crashed after
     * the deletion), or what the retention sweep has yet to delete. Its history is gone, so a send to
     * the room made again under the name, with a clientId its sender had used in the room deleted, is
     * a new message: such a row is deleted here, under the room's lock, with its reactions, where it
     * was taken for the first copy (answered with a seq below the history's start, and not stored).
     */
    private Map<String, Message> existing(String room, List<Pending> batch, List<Integer> indexes, long firstSeq) throws SQLException {
        Map<String, Message> found = new HashMap<>();
        List<Long> gone = new ArrayList<>();
        for (int from = 0; from < indexes.size(); from += IN_LIST_CHUNK) {
            List<Integer> chunk = indexes.subList(from, Math.min(indexes.size(), from + IN_LIST_CHUNK));
            int slots = lookupSlots(chunk.size());
            PreparedStatement ps = shaped(existing, slots, "SELECT " + READ_COLUMNS + " FROM messages WHERE (room, sender, client_id) IN (%s)", "(?, ?, ?)");
            int k = 1;
            for (int n = 0; n < slots; n++) {
                Pending p = batch.get(chunk.get(Math.min(n, chunk.size() - 1)));
                ps.setString(k++, room);
                ps.setString(k++, p.sender());
                ps.setString(k++, p.clientId());
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Message m = SqlDialect.read(rs);
                    if (m.seq() < firstSeq) gone.add(m.seq());
                    else found.put(m.from() + '\u0000' + m.clientId(), m);
                }
            }
        }
        for (long seq : gone) {
            for (String table : RetentionStore.TABLES_BY_SEQ) {
                try (PreparedStatement ps = connection.prepareStatement("DELETE FROM " + table + " WHERE room = ? AND seq = ?")) {
                    ps.setString(1, room);
                    ps.setLong(2, seq);
                    ps.executeUpdate();
                }
            }
        }
        return found;
    }

    /**
     * The batch without the replies to no message of their room (a seq it never had, or a room event,
     * or history its deletion took), which fail with {@link MissingTargetException}: a message once
     * stored stays (as a tombstone if deleted), so no lock is needed to know. Most batches hold no
     * reply and are returned as they are, without a query.
     */
    List<Pending> withoutBadReplies(List<Pending> batch) throws SQLException {
        List<Pending> out = null;
        for (int i = 0; i < batch.size(); i++) {
            Pending p = batch.get(i);
            if (p.replyTo() > 0 && !isMessage(p.room(), p.replyTo())) {
                if (out == null) out = new ArrayList<>(batch.subList(0, i));
                p.result().completeExceptionally(new MissingTargetException("no message " + p.replyTo() + " in " + p.room() + " to reply to"));
            } else if (out != null) {
                out.add(p);
            }
        }
        return out == null ? batch : out;
    }

    private boolean isMessage(String room, long seq) throws SQLException {
        if (replyTarget == null) {
            replyTarget = connection.prepareStatement("SELECT kind FROM messages WHERE room = ? AND seq = ?" + MessageReads.SINCE_DELETION);
        }
        replyTarget.setString(1, room);
        replyTarget.setLong(2, seq);
        replyTarget.setString(3, room);
        try (ResultSet rs = replyTarget.executeQuery()) {
            return rs.next() && rs.getString(1) == null;
        }
    }

    /** The power of two at or above {@code keys}: a handful of statement shapes instead of 128. */
    static int lookupSlots(int keys) {
        return 1 << (32 - Integer.numberOfLeadingZeros(keys - 1));
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
