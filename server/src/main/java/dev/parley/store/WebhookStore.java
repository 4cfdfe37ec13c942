package dev.parley.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

import static java.util.Objects.requireNonNull;

/**
 * Outgoing webhooks of rooms (V12__webhooks.sql): what each is, how far it got in its room's
 * sequence, how its deliveries fare, and which node delivers for it (its lease). Blocking JDBC:
 * call it off the event loop.
 *
 * <p>Every write of a delivery's outcome is conditional on the lease ({@code lease_node = ?}): a
 * node that lost its lease (it paused past {@code lease_until}, another node took over) changes
 * nothing, and learns so from the count of rows it changed.
 */
public final class WebhookStore {
    public static final String ACTIVE = "active", FAILING = "failing", DISABLED = "disabled";

    private static final String COLUMNS = "w.id, w.room, w.url, w.events, w.secret, w.created_by, w.created_at, w.last_seq, w.status,"
            + " w.failures, w.last_error, w.last_attempt_at, w.last_delivered_at, w.next_attempt_at";
    /** A webhook whose room was deleted after what it delivered belongs to a room that is gone (its room_deleted event is kept). */
    private static final String ROOM_GONE = "EXISTS (SELECT 1 FROM messages m WHERE m.room = w.room AND m.kind = 'room_deleted' AND m.seq > w.last_seq)";

    private final Database db;

    public WebhookStore(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /**
     * A webhook as stored.
     *
     * @param events         the kinds of event it takes, comma-separated
     * @param lastSeq        every event of the room at or below it is delivered (or not of its kinds)
     * @param lastAttemptAt  epoch millis, or null
     * @param nextAttemptAt  epoch millis of the next try while failing; 0 when not waiting
     */
    public record Webhook(String id, String room, String url, String events, String secret, String createdBy, long createdAt, long lastSeq,
                         String status, int failures, String lastError, Long lastAttemptAt, Long lastDeliveredAt, long nextAttemptAt) {}

    /** Why a webhook could not be added. */
    public enum Refusal { NO_ROOM, TOO_MANY }

    /** What {@link #add} did: the webhook, or why not (the other is null). */
    public record Added(Webhook webhook, Refusal refusal) {}

    /**
     * Adds a webhook that starts after the room's last seq now, unless the room has {@code max}
     * already. The room's row is locked meanwhile, so two requests at once cannot both be the last
     * one allowed, and the start is exactly where the room stood.
     *
     * @param allowed given the room's kind and {@code by}'s role in it (null: no member), read under
     *                that lock; throws to refuse, and nothing is added. A room change (RoomStore)
     *                holds the same lock, so one that takes {@code by}'s right away, and ends their
     *                webhooks, is either seen here or comes after the webhook and ends it too.
     */
    public Added add(String id, String room, String url, String events, String secret, String by, long now, int max,
                     BiConsumer<String, String> allowed) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                long last;
                String kind;
                try (PreparedStatement ps = c.prepareStatement("SELECT last_seq, kind FROM rooms WHERE name = ? AND deleted = FALSE FOR UPDATE")) {
                    ps.setString(1, room);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            c.rollback();
                            return new Added(null, Refusal.NO_ROOM);
                        }
                        last = rs.getLong(1);
                        kind = rs.getString(2);
                    }
                }
                String role = null;
                try (PreparedStatement ps = c.prepareStatement("SELECT role FROM room_members WHERE room = ? AND user_key = ?")) {
                    ps.setString(1, room);
                    ps.setString(2, RoomStore.key(by));
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) role = rs.getString(1);
                    }
                }
                allowed.accept(kind, role);
                if (count(c, room) >= max) {
                    c.rollback();
                    return new Added(null, Refusal.TOO_MANY);
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO webhooks (id, room, url, events, secret, created_by, created_at, last_seq, status)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    ps.setString(1, id);
                    ps.setString(2, room);
                    ps.setString(3, url);
                    ps.setString(4, events);
                    ps.setString(5, secret);
                    ps.setString(6, by);
                    ps.setLong(7, now);
                    ps.setLong(8, last);
                    ps.setString(9, ACTIVE);
                    ps.executeUpdate();
                }
                c.commit();
                db.persist(c);
                return new Added(new Webhook(id, room, url, events, secret, by, now, last, ACTIVE, 0, null, null, null, 0), null);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("could not add a webhook to " + room, e);
        }
    }

    /** How many webhooks the room has (none of a room deleted since). {@link #add} counts again under the room's lock. */
    public int count(String room) {
        try (Connection c = db.connection()) {
            return count(c, room);
        } catch (SQLException e) {
            throw new StoreException("could not read webhooks", e);
        }
    }

    private static int count(Connection c, String room) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM webhooks w WHERE w.room = ? AND NOT " + ROOM_GONE)) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** The room's webhooks, oldest first; none of a room deleted since (a room made again under its name starts with none). */
    public List<Webhook> list(String room) {
        return query("SELECT " + COLUMNS + " FROM webhooks w WHERE w.room = ? AND NOT " + ROOM_GONE + " ORDER BY w.created_at, w.id", room);
    }

    /**
     * Up to {@code limit + 1} webhooks of every room, by id after {@code cursor} (ids grow with time:
     * oldest first), for the administrators; with {@code troubled}, only those failing or disabled.
     * None of a room deleted since.
     */
    public List<Webhook> page(String cursor, int limit, boolean troubled) {
        return query("SELECT " + COLUMNS + " FROM webhooks w WHERE w.id > ?" + (troubled ? " AND w.status <> '" + ACTIVE + "'" : "")
                + " AND NOT " + ROOM_GONE + " ORDER BY w.id LIMIT " + (limit + 1), cursor == null ? "" : cursor);
    }

    public Optional<Webhook> find(String room, String id) {
        return query("SELECT " + COLUMNS + " FROM webhooks w WHERE w.room = ? AND w.id = ? AND NOT " + ROOM_GONE, room, id).stream().findFirst();
    }

    /** @return whether there was such a webhook */
    public boolean delete(String room, String id) {
        return update("DELETE FROM webhooks WHERE room = ? AND id = ?", room, id) > 0;
    }

    /** Takes a disabled or failing webhook up again at once, from where it stopped. @return whether there was such a webhook */
    public boolean enable(String room, String id) {
        return update("UPDATE webhooks SET status = ?, failures = 0, next_attempt_at = 0 WHERE room = ? AND id = ?", ACTIVE, room, id) > 0;
    }

    // --- the dispatcher's ---

    /**
     * Takes the lease of every webhook that is not disabled and whose lease is free or expired, and
     * renews this node's leases that end before {@code renewBefore}, until {@code until}. A row whose
     * lease is this node's for a while yet is not written.
     */
    public void claim(String node, long now, long until, long renewBefore) {
        update("UPDATE webhooks SET lease_node = ?, lease_until = ? WHERE status <> ?"
                + " AND (lease_node IS NULL OR lease_until < ? OR lease_node = ? AND lease_until < ?)", node, until, DISABLED, now, node, renewBefore);
    }

    /** Removes the disabled webhooks of rooms deleted since: nothing will take them up again. */
    public void sweep() {
        update("DELETE FROM webhooks w WHERE status = ? AND " + ROOM_GONE, DISABLED);
    }

    /** Gives this node's leases up (it stops): another node takes them at its next claim. */
    public void release(String node) {
        update("UPDATE webhooks SET lease_node = NULL, lease_until = 0 WHERE lease_node = ?", node);
    }

    /**
     * The webhooks this node holds the lease of that have something to deliver now: their room went
     * on past them, and they are not waiting for a retry.
     */
    public List<Webhook> due(String node, long now) {
        return query("SELECT " + COLUMNS + " FROM webhooks w JOIN rooms r ON r.name = w.room"
                + " WHERE w.lease_node = ? AND w.lease_until > ? AND w.status <> ? AND w.next_attempt_at <= ? AND r.last_seq > w.last_seq", node, now, DISABLED, now);
    }

    /** A webhook by id, as this node delivers for it; empty if gone, disabled or no longer leased here. */
    public Optional<Webhook> leased(String node, String id, long now) {
        return query("SELECT " + COLUMNS + " FROM webhooks w WHERE w.id = ? AND w.lease_node = ? AND w.lease_until > ? AND w.status <> ?", id, node, now, DISABLED)
                .stream().findFirst();
    }

    /**
     * Everything up to {@code seq} is delivered (or skipped); a delivery at {@code deliveredAt}
     * (null: only skipped) ends a failure streak. @return false if the lease is no longer this node's
     */
    public boolean advanced(String node, String id, long seq, Long deliveredAt) {
        if (deliveredAt == null) {
            return update("UPDATE webhooks SET last_seq = ? WHERE id = ? AND lease_node = ? AND last_seq < ?", seq, id, node, seq) > 0;
        }
        return update("UPDATE webhooks SET last_seq = ?, last_attempt_at = ?, last_delivered_at = ?, failures = 0, status = ?, next_attempt_at = 0"
                + " WHERE id = ? AND lease_node = ?", seq, deliveredAt, deliveredAt, ACTIVE, id, node) > 0;
    }

    /**
     * A delivery failed: the streak is {@code failures} long; the next try is at {@code nextAttemptAt},
     * or none ({@code disabled}). @return false if the lease is no longer this node's
     */
    public boolean failed(String node, String id, int failures, String error, long at, long nextAttemptAt, boolean disabled) {
        String e = error.length() > 500 ? error.substring(0, 500) : error;
        return update("UPDATE webhooks SET failures = ?, last_error = ?, last_attempt_at = ?, next_attempt_at = ?, status = ? WHERE id = ? AND lease_node = ?",
                failures, e, at, nextAttemptAt, disabled ? DISABLED : FAILING, id, node) > 0;
    }

    /** Removes a webhook whose room was deleted once it delivered the deletion. */
    public void ended(String node, String id) {
        update("DELETE FROM webhooks WHERE id = ? AND lease_node = ?", id, node);
    }

    // --- JDBC ---

    private List<Webhook> query(String sql, Object... args) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            List<Webhook> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Webhook(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                            rs.getLong(7), rs.getLong(8), rs.getString(9), rs.getInt(10), rs.getString(11), nullableLong(rs, 12),
                            nullableLong(rs, 13), rs.getLong(14)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not read webhooks", e);
        }
    }

    private int update(String sql, Object... args) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("could not write webhooks", e);
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) ps.setNull(i + 1, Types.BIGINT);
            else if (a instanceof Long l) ps.setLong(i + 1, l);
            else if (a instanceof Integer n) ps.setInt(i + 1, n);
            else if (a instanceof Boolean b) ps.setBoolean(i + 1, b);
            else ps.setString(i + 1, (String) a);
        }
    }

    private static Long nullableLong(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }
}
