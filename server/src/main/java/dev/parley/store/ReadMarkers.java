package dev.parley.store;

import dev.parley.event.ReadState;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;

import static java.util.Objects.requireNonNull;

/**
 * Read markers and the counts after them (PROTOCOL.md, read state). A marker is a row per user and
 * room, only ever raised. The counts are read, never kept: others' messages after the marker are
 * counted with one range read of the room's primary key, over at most its newest
 * {@value #COUNT_WINDOW} seqs, so a count costs at most that many index rows, and nothing when the
 * user is caught up (no statement at all). Nothing is written per message or per recipient: a
 * message's mentions are a column of its own row (written by the group commit), and a marker is
 * written only when a user marks a room read. Blocking JDBC: call it off the event loop.
 *
 * <p>A marker raised by a {@code read} frame is written by the group commit's writer ({@code
 * raiser}), in a transaction shared with the other markers of the moment and made durable by the
 * messages' journal sync: as its own transaction with an H2 checkpoint, 100 reads a second cost
 * about a sixth more CPU at 100,000 deliveries a second (BENCHMARKS.md entries 42 and 44).
 */
final class ReadMarkers {
    /** The most seqs back from the newest a count looks at: a user further behind sees the count of these. */
    static final int COUNT_WINDOW = 1000;

    /**
     * Per sender, since the user's own messages do not count: compared in Java, with the user key's
     * own lower case ({@link RoomStore#key}). SQL's LOWER follows the JVM's locale on H2 (in Turkish,
     * "Ivan" lowered is not "ivan", and a user's own messages were counted as unread) and the
     * database's on PostgreSQL (ASCII only under the C locale).
     */
    private static final String COUNT = "SELECT sender, COUNT(*), COALESCE(SUM(CASE WHEN POSITION(? IN mentions) > 0 THEN 1 ELSE 0 END), 0)"
            + " FROM messages WHERE room = ?" + MessageReads.SINCE_DELETION + " AND seq > ? AND seq <= ? AND kind IS NULL AND NOT deleted GROUP BY sender";

    /** Raises a marker (room, user key, seq) durably; completes when it is. */
    interface Raiser {
        CompletableFuture<Void> raise(String room, String userKey, long seq);
    }

    /** The most counts {@link #counts} keeps; past it they start again (bounded memory, at worst a count more each). */
    static final int COUNTS_KEPT = 20_000;

    private final Database db;
    private final Raiser raiser;
    /**
     * The last count of each user and room, by user key and room: good while the marker and the
     * room's last seq are those it was made for (an edit, a deletion or a new message is an event
     * with a new seq; retention cutting the history leaves it as it was until the next). A client lists its rooms often, and each count reads up to {@link #COUNT_WINDOW}
     * rows: a user behind in 100 rooms cost the node 35 ms a listing, 20 listings a second.
     */
    private final ConcurrentHashMap<String, ReadState> counts = new ConcurrentHashMap<>();

    ReadMarkers(Database db, Raiser raiser) {
        this.db = requireNonNull(db, "db");
        this.raiser = requireNonNull(raiser, "raiser");
    }

    /**
     * Raises the user's marker in the room to {@code seq} (at most the room's last seq; a lower one
     * than stored changes nothing), commits, and returns the state it leaves. Null if there is no
     * such room (it was deleted meanwhile).
     */
    ReadState mark(String room, String user, long seq) {
        String key = RoomStore.key(user);
        long last;
        long now;
        try (Connection c = db.connection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT last_seq FROM rooms WHERE name = ? AND NOT deleted")) {
                ps.setString(1, room);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) return null;
                    last = rs.getLong(1);
                }
            }
            long want = Math.min(seq, last);
            Long stored = marker(c, key, room);
            now = stored == null ? want : Math.max(stored, want);
            if (stored != null && stored >= want) return count(c, room, user, now, last);
        } catch (SQLException e) {
            throw new StoreException("could not mark room " + room + " read", e);
        }
        // Durable before it is answered, as a room change is. The connection is handed back while the
        // writer works: this worker waits, the pool's connections do not.
        try {
            raiser.raise(room, key, now).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
        if (now >= last) return ReadState.caughtUp(room, now, last);
        try (Connection c = db.connection()) {
            return count(c, room, user, now, last);
        } catch (SQLException e) {
            throw new StoreException("could not count the unread of room " + room, e);
        }
    }

    /**
     * The user's state in the room as of {@code upTo} (the room's last seq as the caller read it).
     * A user without a marker there gets one at {@code upTo} first: joining a room for the first
     * time is arriving in it.
     */
    ReadState stateOnJoin(String room, String user, long upTo) {
        String key = RoomStore.key(user);
        try (Connection c = db.connection()) {
            Long stored = marker(c, key, room);
            if (stored == null) {
                raise(c, key, room, upTo);
                db.persist(c);
                return ReadState.caughtUp(room, upTo, upTo);
            }
            return count(c, room, user, stored, upTo);
        } catch (SQLException e) {
            throw new StoreException("could not read the read state of room " + room, e);
        }
    }

    /**
     * The user's states in the rooms given with their last seqs, for those the user has a marker in
     * (the others are missing from the answer). One look-up of the markers per 100 rooms, then one
     * bounded count per room the user is behind in.
     */
    Map<String, ReadState> states(String user, Map<String, Long> lastSeqs) {
        Map<String, ReadState> out = new HashMap<>();
        if (lastSeqs.isEmpty()) return out;
        String key = RoomStore.key(user);
        List<String> rooms = List.copyOf(lastSeqs.keySet());
        try (Connection c = db.connection()) {
            Map<String, Long> markers = new HashMap<>();
            for (int from = 0; from < rooms.size(); from += 100) {
                List<String> chunk = rooms.subList(from, Math.min(rooms.size(), from + 100));
                String marks = String.join(",", Collections.nCopies(chunk.size(), "?"));
                try (PreparedStatement ps = c.prepareStatement("SELECT room, seq FROM read_markers WHERE user_key = ? AND room IN (" + marks + ")")) {
                    ps.setString(1, key);
                    for (int k = 0; k < chunk.size(); k++) ps.setString(k + 2, chunk.get(k));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) markers.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
            for (Map.Entry<String, Long> m : markers.entrySet()) out.put(m.getKey(), count(c, m.getKey(), user, m.getValue(), lastSeqs.get(m.getKey())));
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not read read states", e);
        }
    }

    private static Long marker(Connection c, String key, String room) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT seq FROM read_markers WHERE user_key = ? AND room = ?")) {
            ps.setString(1, key);
            ps.setString(2, room);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    /**
     * Raises the marker of user {@code key} (lower case) in the room to at least {@code seq}, making it
     * if there is none; in the caller's transaction, if it has one. Also used by a room change that
     * adds a member (RoomStore).
     */
    static void raise(Connection c, String key, String room, long seq) throws SQLException {
        if (update(c, key, room, seq) > 0) return;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO read_markers (user_key, room, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            ps.setString(1, key);
            ps.setString(2, room);
            ps.setLong(3, seq);
            if (ps.executeUpdate() > 0) return;
        }
        update(c, key, room, seq); // another transaction made it meanwhile
    }

    /**
     * As {@link #raise}, but only for a marker of the room as it is now: nothing for a room that does
     * not exist or is deleted (its deletion took its markers), nor for a {@code seq} below the room's
     * last deletion ({@code rooms.deleted_seq}), which was read in the room deleted then: a room made
     * again under its name is another room, which nobody has read (PROTOCOL.md, read state). The
     * writer's raise and the journal's replay of one come here: a replay after a crash puts back
     * every marker since the journal was last emptied, those of a room deleted and made again since
     * included, which gave a user who never joined the new room the old room's marker, and the new
     * room's messages as unread.
     *
     * @return whether the marker was raised (or was so already)
     */
    static boolean raiseIfCurrent(Connection c, String key, String room, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT deleted_seq FROM rooms WHERE name = ? AND NOT deleted")) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || seq < rs.getLong(1)) return false;
            }
        }
        raise(c, key, room, seq);
        return true;
    }

    private static int update(Connection c, String key, String room, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE read_markers SET seq = GREATEST(seq, ?) WHERE user_key = ? AND room = ?")) {
            ps.setLong(1, seq);
            ps.setString(2, key);
            ps.setString(3, room);
            return ps.executeUpdate();
        }
    }

    /** The counts after {@code marker} up to {@code upTo}: none (and no statement) for a user caught up. */
    private ReadState count(Connection c, String room, String user, long marker, long upTo) throws SQLException {
        if (marker >= upTo) return ReadState.caughtUp(room, marker, upTo);
        String key = RoomStore.key(user);
        String cached = key + '\u0000' + room;
        ReadState known = counts.get(cached);
        if (known != null && known.seq() == marker && known.lastSeq() == upTo) return known;
        ReadState state = countNow(c, room, key, marker, upTo);
        if (counts.size() >= COUNTS_KEPT) counts.clear();
        counts.put(cached, state);
        return state;
    }

    private static ReadState countNow(Connection c, String room, String key, long marker, long upTo) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(COUNT)) {
            ps.setString(1, " " + key + " ");
            ps.setString(2, room);
            ps.setString(3, room);
            ps.setLong(4, Math.max(marker, upTo - COUNT_WINDOW));
            ps.setLong(5, upTo);
            int unread = 0, mentions = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (RoomStore.key(rs.getString(1)).equals(key)) continue;
                    unread += rs.getInt(2);
                    mentions += rs.getInt(3);
                }
            }
            return new ReadState(room, marker, upTo, unread, mentions);
        }
    }
}
