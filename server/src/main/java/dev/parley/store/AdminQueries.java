package dev.parley.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * The server administrators' reads across every room and account (the admin page, PROTOCOL.md 3.9):
 * keyset pages on primary or unique keys ({@code rooms.name}, {@code users.username_lower}), so a
 * page costs the same whatever the number of rooms or accounts. Blocking JDBC: call it off the event loop.
 */
public final class AdminQueries {
    private final Database db;

    public AdminQueries(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /**
     * A room as the admin page lists it.
     *
     * @param members        its stored members (owners, moderators, members)
     * @param lastSeq        the seq of its latest message or event: how much it has carried
     * @param lastActivityAt epoch millis of that message or event, or null for a room without one
     */
    public record RoomRow(String name, String kind, int members, long lastSeq, long firstSeq, long createdAt, Long lastActivityAt) {}

    /** An account as the admin page lists it. {@code external}: an identity provider's user (no password here). */
    public record UserRow(String username, boolean disabled, boolean bot, boolean external, long createdAt) {}

    /**
     * Up to {@code limit + 1} rooms not deleted, by name after {@code cursor} (one more than asked says
     * another page follows). The latest activity is the time of the room's last seq, read on the
     * messages' primary key (a room whose last event was purged by retention has none).
     */
    public List<RoomRow> rooms(String cursor, int limit) {
        String sql = "SELECT r.name, r.kind, r.members, r.last_seq, r.first_seq, r.created_at,"
                + " (SELECT m.ts FROM messages m WHERE m.room = r.name AND m.seq = r.last_seq) AS last_ts"
                + " FROM rooms r WHERE NOT r.deleted AND r.name > ? ORDER BY r.name LIMIT ?";
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, cursor == null ? "" : cursor);
            ps.setInt(2, limit + 1);
            List<RoomRow> out = new ArrayList<>(limit + 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long ts = rs.getLong(7);
                    Long last = rs.wasNull() ? null : ts;
                    out.add(new RoomRow(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getLong(4), rs.getLong(5), rs.getLong(6), last));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not list rooms for the administrators", e);
        }
    }

    /**
     * Up to {@code limit + 1} accounts not deleted, by lowercase name after {@code cursor} (lowercase
     * too), only those whose name starts with {@code prefix} (any case) if it is not null.
     */
    public List<UserRow> users(String prefix, String cursor, int limit) {
        String p = prefix == null ? null : prefix.toLowerCase(Locale.ROOT);
        String like = p == null ? null : p.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%";
        String sql = "SELECT username, disabled, bot, issuer IS NOT NULL, created_at FROM users WHERE NOT deleted AND username_lower > ?"
                + (like == null ? "" : " AND username_lower >= ? AND username_lower LIKE ? ESCAPE '!'")
                + " ORDER BY username_lower LIMIT ?";
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, cursor == null ? "" : cursor.toLowerCase(Locale.ROOT));
            if (like != null) {
                ps.setString(i++, p);
                ps.setString(i++, like);
            }
            ps.setInt(i, limit + 1);
            List<UserRow> out = new ArrayList<>(limit + 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new UserRow(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4), rs.getLong(5)));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not list accounts for the administrators", e);
        }
    }
}
