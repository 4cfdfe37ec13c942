package dev.parley.store;

import dev.parley.event.Message;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import static dev.parley.store.SqlDialect.READ_COLUMNS;
import static java.util.Objects.requireNonNull;

/**
 * Full-text search over the messages a user may read (PROTOCOL.md 3.7): the public rooms and the
 * rooms they are a member of, or one of them; messages only (no room events), since a room's
 * deletion only, newest first (by {@code ts}, then room and seq, all descending: a room's messages of one millisecond keep their order), from a {@link MessageStore.SearchAfter}.
 * Reads the current row, so an edited message is found by its new text and a deleted one (its text
 * emptied) not at all.
 *
 * <p>The two databases find the messages differently. PostgreSQL asks its GIN index of the words of
 * each message ({@link SearchQuery#TSVECTOR}, kept by PostgreSQL on every INSERT and UPDATE). The
 * embedded H2 has no such index and keeps none: it reads the messages of the rooms searched, newest
 * or not, and decides in Java ({@link SearchQuery#matches}). A word index kept in H2 by the group
 * commit cost about seven times an append's own work when it was tried (150 to 220 µs a message
 * against 20, eight words a message); reading costs the search instead, about a second per million
 * messages on the test machine, which the route's rate and its cap on searches at once bound. A
 * store that large should be on PostgreSQL anyway (README, Database).
 */
final class MessageSearch {
    /** A search's statement is cancelled past this, and the search fails as the store failing would. */
    private static final int TIMEOUT_SECONDS = 10;
    /** Newest first: by ts, then room (by its UTF-16 code units, as PostgreSQL's "C" collation orders ASCII), then seq. */
    static final Comparator<Message> NEWEST_FIRST =
            Comparator.comparingLong(Message::tsMillis).thenComparing(Message::room).thenComparingLong(Message::seq).reversed();

    private final Database db;

    MessageSearch(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /**
     * Up to {@code limit + 1} messages matching the query, newest first, after {@code after} (or from
     * the newest); one more than asked says another page follows.
     *
     * @param room one room to search, which the caller has checked the user may read, or null for
     *             every room the user may read
     */
    List<Message> search(String user, SearchQuery query, String room, MessageStore.SearchAfter after, int limit) {
        try (Connection c = db.connection()) {
            return SqlDialect.of(c) == SqlDialect.POSTGRESQL
                    ? indexed(c, RoomStore.key(user), query, room, after, limit + 1)
                    : scanned(c, RoomStore.key(user), query, room, after, limit + 1);
        } catch (SQLException e) {
            throw new StoreException("could not search", e);
        }
    }

    private static List<Message> indexed(Connection c, String userKey, SearchQuery query, String room, MessageStore.SearchAfter after, int n) throws SQLException {
        // "kind IS NULL" as in the partial index's WHERE, for the planner to take it.
        String sql = "SELECT " + columns("m.") + " FROM messages m JOIN rooms r ON r.name = m.room"
                + " WHERE m.kind IS NULL AND " + SearchQuery.TSVECTOR.replace("(text,", "(m.text,") + " @@ to_tsquery('simple', ?)"
                + " AND NOT r.deleted AND m.seq >= r.first_seq"
                + " AND (r.kind = 'public' OR EXISTS (SELECT 1 FROM room_members rm WHERE rm.room = m.room AND rm.user_key = ?))"
                + (room != null ? " AND m.room = ?" : "")
                + (after != null ? " AND (m.ts, m.room COLLATE \"C\", m.seq) < (?, ?, ?)" : "")
                + " ORDER BY m.ts DESC, m.room COLLATE \"C\" DESC, m.seq DESC LIMIT ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setQueryTimeout(TIMEOUT_SECONDS);
            int i = 1;
            ps.setString(i++, query.tsquery());
            ps.setString(i++, userKey);
            if (room != null) ps.setString(i++, room);
            if (after != null) {
                ps.setLong(i++, after.ts());
                ps.setString(i++, after.room());
                ps.setLong(i++, after.seq());
            }
            ps.setInt(i, n);
            List<Message> out = new ArrayList<>(n);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(SqlDialect.read(rs));
            }
            return out;
        }
    }

    private static List<Message> scanned(Connection c, String userKey, SearchQuery query, String room, MessageStore.SearchAfter after, int n) throws SQLException {
        Map<String, Long> readable = readable(c, userKey, room);
        if (readable.isEmpty()) return List.of();
        List<String> likes = query.likePatterns();
        String sql = "SELECT " + READ_COLUMNS + " FROM messages WHERE kind IS NULL"
                + " AND LOWER(text) LIKE ?".repeat(likes.size())
                + (room != null ? " AND room = ?" : "")
                + (after != null ? " AND ts <= ?" : "");
        // The kept are the n newest matches; the head is the oldest of them, the next to go.
        PriorityQueue<Message> kept = new PriorityQueue<>(n + 1, NEWEST_FIRST.reversed());
        try (Statement lazy = c.createStatement()) {
            // Rows one at a time as they are read, not all of them gathered first.
            lazy.execute("SET LAZY_QUERY_EXECUTION TRUE");
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setQueryTimeout(TIMEOUT_SECONDS);
                int i = 1;
                for (String like : likes) ps.setString(i++, like);
                if (room != null) ps.setString(i++, room);
                if (after != null) ps.setLong(i, after.ts());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Long firstSeq = readable.get(rs.getString(1));
                        if (firstSeq == null || rs.getLong(2) < firstSeq) continue;
                        if (!query.matches(rs.getString(5))) continue;
                        Message m = SqlDialect.read(rs);
                        if (after != null && NEWEST_FIRST.compare(m, after.asMessage()) <= 0) continue;
                        kept.add(m);
                        if (kept.size() > n) kept.poll();
                    }
                }
            } finally {
                lazy.execute("SET LAZY_QUERY_EXECUTION FALSE");
            }
        }
        List<Message> out = new ArrayList<>(kept);
        out.sort(NEWEST_FIRST);
        return out;
    }

    /** The rooms the user may read (or the one named, if they may), each with where its history starts. */
    private static Map<String, Long> readable(Connection c, String userKey, String room) throws SQLException {
        String sql = "SELECT name, first_seq FROM rooms WHERE NOT deleted"
                + " AND (kind = 'public' OR name IN (SELECT room FROM room_members WHERE user_key = ?))"
                + (room != null ? " AND name = ?" : "");
        Map<String, Long> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, userKey);
            if (room != null) ps.setString(2, room);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    private static String columns(String prefix) {
        return prefix + READ_COLUMNS.replace(", ", ", " + prefix);
    }
}
