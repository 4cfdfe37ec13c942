package dev.parley.store;

import dev.parley.event.Message;
import dev.parley.store.MessageStore.Page;
import dev.parley.store.MessageStore.RoomInfo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static dev.parley.store.SqlDialect.READ_COLUMNS;
import static java.util.Objects.requireNonNull;

/**
 * The store's reads, and {@link #ensureRoom}, its one write outside the group commit: plain blocking
 * JDBC on a pooled connection each, which callers run off the event loop. None of them differs
 * between H2 and PostgreSQL.
 */
final class MessageReads {
    /**
     * What a deleted room had is not read: its rows below its last deletion's event may not have
     * been purged yet (or a crash's journal may have put some back). One look-up by key; a room
     * never deleted has 0 there. Its parameter is the room again.
     */
    static final String SINCE_DELETION = " AND seq >= (SELECT first_seq FROM rooms WHERE name = ?)";

    /** Users named per emoji of a message in a read: enough to say who; the count says how many. */
    static final int USERS_LISTED = 25;

    private final Database db;

    MessageReads(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /** Creates the room if it does not exist; returns its last seq. */
    long ensureRoom(String room) {
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

    private static void insertRoom(Connection c, String room) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SqlDialect.INSERT_ROOM)) {
            ps.setString(1, room);
            ps.setLong(2, System.currentTimeMillis());
            ps.executeUpdate();
        }
    }

    /** The room's last seq, or empty if no one ever joined it. */
    OptionalLong lastSeq(String room) {
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

    /** Every room, by name. */
    List<RoomInfo> rooms() {
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

    /** Where the room's history starts: the seq of the oldest message or event it may hold (1 unless cut), 1 for no room. */
    long historyStart(String room) {
        try (Connection c = db.connection()) {
            return bounds(c, room)[0];
        } catch (SQLException e) {
            throw new StoreException("could not read room", e);
        }
    }

    /**
     * See {@link MessageStore#page}. The start is read first and bounds the page, so that the page
     * never holds a row below the start it gives (one a sweep has not deleted yet); a sweep that
     * moves it meanwhile makes it a moment old, as any read of a room that goes on is.
     *
     * <p>A page backwards (the newest, or before a seq) reads a window of seqs first: H2 cannot walk
     * an index backwards, so {@code ORDER BY seq DESC} over the whole room reads every row of the room
     * and sorts them (EXPLAIN's scanCount is the room's size; the newest page took twice a page near
     * the start at 1,000 messages, BENCHMARKS.md entry 49). A room's seqs are dense, so the newest
     * {@code limit + 1} rows below the upper bound lie within {@link #WINDOW} times that many seqs; the
     * whole range is read only when the window falls short of a page (a {@code before} past the room's
     * last seq, or seqs without a row) and does not already reach the start. PostgreSQL reads
     * backwards either way, and takes the same path.
     */
    Page page(String room, Long before, Long after, int limit) {
        boolean forward = after != null;
        try (Connection c = db.connection()) {
            long[] bounds = bounds(c, room);
            long start = bounds[0];
            List<Message> rows = null;
            if (!forward) {
                long upper = before != null ? before : bounds[1] + 1;
                long lower = upper - WINDOW * (limit + 1L);
                if (lower > start) {
                    rows = select(c, room, lower, upper, null, limit + 1);
                    if (rows.size() <= limit) rows = null; // short: the page may reach below the window
                }
            }
            if (rows == null) rows = select(c, room, start, before, after, limit + 1);
            boolean hasMore = rows.size() > limit;
            if (hasMore) rows.remove(rows.size() - 1);
            if (!forward) Collections.reverse(rows);
            return new Page(withReactions(c, room, rows), hasMore, start);
        } catch (SQLException e) {
            throw new StoreException("could not read history", e);
        }
    }

    /** How many times a page's rows the window of a backwards page spans in seqs (see {@link #page}). */
    static final int WINDOW = 2;

    /** The room's history start and last seq (1 and 0 for no room). */
    private static long[] bounds(Connection c, String room) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT first_seq, last_seq FROM rooms WHERE name = ?")) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new long[]{Math.max(1, rs.getLong(1)), rs.getLong(2)} : new long[]{1, 0};
            }
        }
    }

    /** Up to {@code limit} rows with {@code seq >= from} and below {@code before} or above {@code after}: ascending after a seq, else descending. */
    private static List<Message> select(Connection c, String room, long from, Long before, Long after, int limit) throws SQLException {
        boolean forward = after != null;
        String sql = "SELECT " + READ_COLUMNS + " FROM messages WHERE room = ? AND seq >= ?"
                + (before != null ? " AND seq < ?" : "") + (after != null ? " AND seq > ?" : "")
                + (forward ? " ORDER BY seq ASC" : " ORDER BY seq DESC") + " LIMIT ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, room);
            ps.setLong(i++, from);
            if (before != null) ps.setLong(i++, before);
            if (after != null) ps.setLong(i++, after);
            ps.setInt(i, limit);
            List<Message> rows = new ArrayList<>(limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) rows.add(SqlDialect.read(rs));
            }
            return rows;
        }
    }

    /** Messages with {@code after < seq <= upTo}, ascending. */
    List<Message> range(String room, long after, long upTo) {
        return between(room, after, upTo, "", "could not read messages");
    }

    /**
     * Where a replay of {@code (after, upTo]} must start to hold at most {@code maxBytes}: {@code after}
     * if all of it fits, else the seq below the oldest of the newest messages that fit (at least the
     * newest one). A message weighs {@link #REPLAY_WEIGHT_CHARS} bytes a character of its text (on
     * H2 a UTF-16 unit, of which a character takes at most 3 bytes in UTF-8, a surrogate pair 4 for
     * two; on PostgreSQL a code point, up to 4 bytes: a replay of emoji there may pass the bound by a
     * third, still far inside the outbox) plus
     * {@link #REPLAY_WEIGHT_FIELDS} for its other fields. Reads two small columns of at most the
     * range's rows, so that a replay of big messages is never read whole only to be cut.
     */
    long replayStart(String room, long after, long upTo, long maxBytes) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT seq, LENGTH(text) FROM messages WHERE room = ?" + SINCE_DELETION
                     + " AND seq > ? AND seq <= ? ORDER BY seq DESC")) {
            ps.setString(1, room);
            ps.setString(2, room);
            ps.setLong(3, after);
            ps.setLong(4, upTo);
            long bytes = 0;
            boolean newest = true;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    bytes += weightOf(rs.getLong(2));
                    if (bytes > maxBytes && !newest) return rs.getLong(1);
                    newest = false;
                }
            }
            return after;
        } catch (SQLException e) {
            throw new StoreException("could not read the sizes of messages", e);
        }
    }

    /** A replayed message's weight: per character of its text, and for the rest of its frame (room, id, sender, time, clientId). */
    static final int REPLAY_WEIGHT_CHARS = 3, REPLAY_WEIGHT_FIELDS = 256;
    /**
     * The longest text of a room event (a topic or a reason of 250 characters, with the names and
     * words around it), above the smallest CHAT_MAX_TEXT_LENGTH an operator might set.
     */
    static final int EVENT_TEXT_MAX = 1024;

    /** What {@link #replayStart} counts for a message of {@code chars} characters. */
    static long weightOf(long chars) {
        return REPLAY_WEIGHT_FIELDS + REPLAY_WEIGHT_CHARS * chars;
    }

    /** The room events (not the messages) with {@code after < seq <= upTo}, ascending. */
    List<Message> events(String room, long after, long upTo) {
        return between(room, after, upTo, " AND kind IS NOT NULL", "could not read room events");
    }

    private List<Message> between(String room, long after, long upTo, String filter, String failure) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT " + READ_COLUMNS
                     + " FROM messages WHERE room = ?" + SINCE_DELETION + " AND seq > ? AND seq <= ?" + filter + " ORDER BY seq ASC")) {
            ps.setString(1, room);
            ps.setString(2, room);
            ps.setLong(3, after);
            ps.setLong(4, upTo);
            List<Message> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(SqlDialect.read(rs));
            }
            return withReactions(c, room, out);
        } catch (SQLException e) {
            throw new StoreException(failure, e);
        }
    }

    /**
     * The messages with their reactions: read only for those some change touched (a reaction sets
     * {@code last_change}), so a page of messages nobody reacted to costs no second query. Each
     * emoji lists at most {@link #USERS_LISTED} of its users, the first to react; its count is exact.
     * Emoji and users come in the order of the reactions' events (their seqs), as live clients saw them.
     */
    static List<Message> withReactions(Connection c, String room, List<Message> rows) throws SQLException {
        List<Long> touched = new ArrayList<>();
        for (Message m : rows) if (m.state() != null && !m.state().deleted() && m.event() == null) touched.add(m.seq());
        if (touched.isEmpty()) return rows;
        Map<Long, Map<String, List<String>>> bySeq = new HashMap<>();
        for (int from = 0; from < touched.size(); from += 100) {
            List<Long> chunk = touched.subList(from, Math.min(touched.size(), from + 100));
            String marks = String.join(",", Collections.nCopies(chunk.size(), "?"));
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, emoji, username FROM message_reactions WHERE room = ? AND seq IN (" + marks
                    + ") ORDER BY seq, reacted_seq NULLS FIRST, reacted_at, user_key")) {
                ps.setString(1, room);
                for (int k = 0; k < chunk.size(); k++) ps.setLong(k + 2, chunk.get(k));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        bySeq.computeIfAbsent(rs.getLong(1), s -> new LinkedHashMap<>())
                                .computeIfAbsent(rs.getString(2), e -> new ArrayList<>()).add(rs.getString(3));
                    }
                }
            }
        }
        if (bySeq.isEmpty()) return rows;
        List<Message> out = new ArrayList<>(rows.size());
        for (Message m : rows) {
            Map<String, List<String>> reactions = bySeq.get(m.seq());
            if (reactions == null) {
                out.add(m);
                continue;
            }
            List<Message.Reaction> list = new ArrayList<>(reactions.size());
            reactions.forEach((emoji, users) -> list.add(new Message.Reaction(emoji, users.size(), List.copyOf(users.subList(0, Math.min(USERS_LISTED, users.size()))))));
            Message.State s = m.state();
            out.add(m.withState(new Message.State(s.editedAt(), s.deleted(), list, s.lastChange())));
        }
        return out;
    }

    /** Last seqs of the named rooms that exist. */
    Map<String, Long> lastSeqs(List<String> rooms) {
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
}
