package dev.parley.store;

import dev.parley.event.Ids;
import dev.parley.event.Message;
import dev.parley.event.RoomChange;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import static java.util.Objects.requireNonNull;

/**
 * Rooms as people run them: kinds, members with roles, bans, and the changes of these, each stored
 * with its room event in the room's timeline. Blocking JDBC: call it off the event loop.
 *
 * <p>A change ({@link #change}) is one transaction that locks the room's row, as an append does,
 * reads what the change is decided on, lets the caller decide (who may do what is not the store's
 * business), writes the rows and the events with the room's next seqs, and commits. So a change is
 * ordered with the room's messages, is durable before it is answered, and two changes of one room
 * never decide on the same old state. Its events are not the group commit's: the caller hands
 * them to the delivery, which orders them with the messages by seq.
 *
 * <p>Users are keyed by their name in lower case (usernames are unique in any letter case) and
 * shown as written.
 *
 * <p>Over 400 lines: every change of a room is decided and written under the room row's lock in one
 * transaction here (members, bans, kinds, deletion and its purge, and their events), and splitting
 * the writes from the reads they lock would spread one transaction over files. The listing is the
 * part that could leave first.
 */
public final class RoomStore {
    public static final String PUBLIC = "public", PRIVATE = "private", DIRECT = "direct";

    private static final String ROOM_COLUMNS = "name, kind, topic, last_seq, members, direct_users";
    /** Read by name, after whatever else a statement selects: where the history starts, and the room's retention. */
    private static final String ROOM_HISTORY = "first_seq, retention_days, retention_messages";

    private final Database db;

    public RoomStore(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /**
     * A room that exists (not deleted). {@code directUsers}: a direct room's two users, space-separated,
     * else null. {@code firstSeq}: where its history starts (seqs below are gone: a deletion, or
     * retention); {@code retentionDays}, {@code retentionMessages}: its own retention, null for the
     * server's.
     */
    public record Room(String name, String kind, String topic, long lastSeq, int members, String directUsers,
                       long firstSeq, Integer retentionDays, Long retentionMessages) {
        /** The seq of the oldest message or event the room may still hold: 1 unless its history was cut. */
        public long historyStart() {
            return Math.max(1, firstSeq);
        }
    }

    public record Member(String user, String role, Long mutedUntil) {}

    /** @param until epoch millis, or null for a ban until lifted */
    public record Ban(String user, String by, String reason, Long until, long at) {}

    /**
     * What a user is to a room, read in one statement with the room's last seq, so that events after
     * it are the ones the reader has not taken into account.
     *
     * @param room   null if there is no such room (or it was deleted)
     * @param member null if the user has no role in it
     * @param ban    null if the user is not banned (an expired ban is none)
     */
    public record Access(Room room, Member member, Ban ban) {}

    /** A listed room and the caller's role in it (null if none). */
    public record Listed(Room room, String role) {}

    /** What a change is decided on, read under the room's lock. {@code room} is null if there is none; {@code owner}, if it has none. */
    public record State(Room room, Member actor, Member target, Ban targetBan, Member owner, long now) {}

    /** One thing a change writes, in the order given. */
    public sealed interface Write {
        record PutMember(String user, String role, Long mutedUntil) implements Write {}

        record DeleteMember(String user) implements Write {}

        record PutBan(String user, String by, String reason, Long until) implements Write {}

        record DeleteBan(String user) implements Write {}

        /**
         * Makes the room, or makes a deleted one again under its name (its seqs go on).
         *
         * @param key the name's look-alike key, which no two rooms share; null for a direct room, whose
         *            name the server makes: a {@link LookAlikeException} if a room with the key exists
         */
        record CreateRoom(String kind, String topic, String directUsers, String key) implements Write {
            /** A room without a look-alike key: a direct room. */
            public CreateRoom(String kind, String topic, String directUsers) {
                this(kind, topic, directUsers, null);
            }
        }

        /**
         * Deletes the room: its members and bans, and its history but the events written before this
         * in the same change (the deletion's event, which is never deleted: a node behind, or a join
         * under way, learns from it that the room is gone). See {@link #purge}.
         */
        record DeleteRoom() implements Write {}

        /** Sets the room's own retention; a null is the server's default (RetentionStore). */
        record SetRetention(Integer days, Long messages) implements Write {}

        /**
         * Deletes the room's webhooks that {@code user} registered (WebhookStore): the caller decided
         * they may no longer manage them. In the change's transaction, so that nothing of the room
         * from the change on is delivered to them.
         */
        record DeleteWebhooksBy(String user) implements Write {}

        /** A room event, stored with the room's next seq; {@code from} is who made the change. */
        record Event(String from, String text, RoomChange change) implements Write {}
    }

    /** What a decision wrote (nothing: a change that changes nothing) and what it answers. */
    public record Plan<T>(List<Write> writes, T answer) {}

    /** The answer of a change and its events, committed, in seq order. */
    public record Changed<T>(T answer, List<Message> events) {}

    static String key(String user) {
        return user.toLowerCase(Locale.ROOT);
    }

    /**
     * A room made again under a deleted room's name is another room, which nobody has read: the
     * deletion took its markers, and this takes those a read raised while the deletion committed
     * (the writer raises a marker after its read checked the room), which would count the new room's
     * messages as unread for a user who never joined it.
     */
    private static void clearMarkers(Connection c, String room) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM read_markers WHERE room = ?")) {
            ps.setString(1, room);
            ps.executeUpdate();
        }
    }

    // --- reads ---

    /** The user's access to the room. Blocking. */
    public Access access(String room, String user) {
        try (Connection c = db.connection()) {
            return access(c, room, user, System.currentTimeMillis());
        } catch (SQLException e) {
            throw new StoreException("could not read room", e);
        }
    }

    /**
     * The user's access to the room, making it a public room first if there is none (a join of a
     * new name, as before rooms had kinds). Blocking.
     *
     * @param newRoomKey called only when the room is to be made: checks the name (it may throw to
     *                   refuse it) and returns its look-alike key, which no two rooms share
     * @throws LookAlikeException if a room with a name that looks the same exists
     */
    public Access accessOrCreate(String room, String user, Function<String, String> newRoomKey) {
        try (Connection c = db.connection()) {
            long now = System.currentTimeMillis();
            Access a = access(c, room, user, now);
            if (a.room() != null) return a;
            String key = requireNonNull(newRoomKey.apply(room), "key");
            try {
                // A deleted room made again goes on from its deletion's event, which stays in its history.
                try (PreparedStatement undelete = c.prepareStatement(
                        "UPDATE rooms SET deleted = FALSE, kind = 'public', topic = NULL, direct_users = NULL, members = 0, skeleton = ?,"
                                + " retention_days = NULL, retention_messages = NULL WHERE name = ? AND deleted")) {
                    undelete.setString(1, key);
                    undelete.setString(2, room);
                    if (undelete.executeUpdate() > 0) clearMarkers(c, room);
                }
                // DO NOTHING also when a look-alike has the key: then there is still no room, below.
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO rooms (name, last_seq, created_at, skeleton) VALUES (?, 0, ?, ?) ON CONFLICT DO NOTHING")) {
                    ps.setString(1, room);
                    ps.setLong(2, now);
                    ps.setString(3, key);
                    ps.executeUpdate();
                }
            } catch (SQLException e) {
                if (!UserStore.isUniqueViolation(e)) throw e;
            }
            a = access(c, room, user, now);
            if (a.room() == null) throw new LookAlikeException("room", room, null); // not named: it may be a private room
            db.persist(c);
            return a;
        } catch (SQLException e) {
            throw new StoreException("could not create room", e);
        }
    }

    /**
     * Gives the rooms made before look-alike keys were kept their key (as {@link UserStore#fillKeys}
     * does for accounts), and any a store path made without one. Direct rooms have none: their names
     * are made by the server, not chosen. Blocking; at start-up.
     */
    public int fillKeys(UnaryOperator<String> key) {
        return Keys.fill(db, "rooms", "name", "name", "skeleton", "AND kind <> 'direct'", key);
    }

    private static Access access(Connection c, String room, String user, long now) throws SQLException {
        String k = key(user);
        try (PreparedStatement ps = c.prepareStatement("SELECT r.name, r.kind, r.topic, r.last_seq, r.members, r.direct_users, r.deleted,"
                + " m.username, m.role, m.muted_until, b.username, b.banned_by, b.reason, b.banned_until, b.banned_at,"
                + " r.first_seq, r.retention_days, r.retention_messages"
                + " FROM rooms r LEFT JOIN room_members m ON m.room = r.name AND m.user_key = ?"
                + " LEFT JOIN room_bans b ON b.room = r.name AND b.user_key = ? WHERE r.name = ?")) {
            ps.setString(1, k);
            ps.setString(2, k);
            ps.setString(3, room);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getBoolean(7)) return new Access(null, null, null);
                Room r = room(rs);
                Member m = rs.getString(8) == null ? null : new Member(rs.getString(8), rs.getString(9), nullableLong(rs, 10));
                Ban b = rs.getString(11) == null ? null : new Ban(rs.getString(11), rs.getString(12), rs.getString(13), nullableLong(rs, 14), rs.getLong(15));
                if (b != null && b.until() != null && b.until() <= now) b = null;
                return new Access(r, m, b);
            }
        }
    }

    /**
     * One page of the rooms {@code user} may see, by name after {@code cursor}: the public rooms and
     * those they are a member of. Two keyset reads on indexes (public rooms by kind and name, the
     * user's memberships by user and room), put together and ordered by the database in one
     * statement: the order of names is the database's collation, which the cursor's {@code >}
     * follows too (Java's order of strings is not PostgreSQL's in most locales, and a merge in Java
     * skipped or repeated rooms at page ends). A public room the user is a member of comes from
     * both reads, next to itself: the member's row wins.
     *
     * @param prefix only names starting with it, or null
     * @param kind   only rooms of this kind, or null
     * @return up to {@code limit + 1} rooms: one more than asked says another page follows
     */
    public List<Listed> list(String user, String cursor, int limit, String prefix, String kind) {
        String after = cursor == null ? "" : cursor;
        String like = prefix == null ? null : prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%";
        String byPrefix = like != null ? " AND %1$s >= ? AND %1$s LIKE ? ESCAPE '!'" : "";
        boolean publicRooms = kind == null || kind.equals(PUBLIC);
        String mine = "SELECT r.name, r.kind, r.topic, r.last_seq, r.members, r.direct_users, m.role, r.first_seq, r.retention_days, r.retention_messages"
                + " FROM room_members m JOIN rooms r ON r.name = m.room WHERE m.user_key = ? AND m.room > ? AND NOT r.deleted"
                + byPrefix.formatted("m.room") + (kind != null ? " AND r.kind = ?" : "") + " ORDER BY m.room LIMIT ?";
        String open = "SELECT " + ROOM_COLUMNS + ", CAST(NULL AS VARCHAR(16)) AS role, " + ROOM_HISTORY + " FROM rooms WHERE kind = 'public' AND NOT deleted AND name > ?"
                + byPrefix.formatted("name") + " ORDER BY name LIMIT ?";
        String sql = publicRooms
                ? "SELECT * FROM ((" + open + ") UNION ALL (" + mine + ")) t ORDER BY name, role LIMIT ?"
                : mine;
        List<Listed> out = new ArrayList<>(limit + 1);
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            if (publicRooms) {
                ps.setString(i++, after);
                if (like != null) {
                    ps.setString(i++, prefix);
                    ps.setString(i++, like);
                }
                ps.setInt(i++, limit + 1);
            }
            ps.setString(i++, key(user));
            ps.setString(i++, after);
            if (like != null) {
                ps.setString(i++, prefix);
                ps.setString(i++, like);
            }
            if (kind != null) ps.setString(i++, kind);
            ps.setInt(i++, limit + 1);
            if (publicRooms) ps.setInt(i, 2 * (limit + 1));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next() && out.size() <= limit) {
                    Listed l = new Listed(room(rs), rs.getString(7));
                    Listed previous = out.isEmpty() ? null : out.get(out.size() - 1);
                    if (previous != null && previous.room().name().equals(l.room().name())) {
                        if (l.role() != null) out.set(out.size() - 1, l);
                    } else {
                        out.add(l);
                    }
                }
            }
        } catch (SQLException e) {
            throw new StoreException("could not list rooms", e);
        }
        return out;
    }

    /** Up to {@code limit + 1} members of the room by username after {@code cursor} (lower case). Blocking. */
    public List<Member> members(String room, String cursor, int limit) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT username, role, muted_until FROM room_members WHERE room = ? AND user_key > ? ORDER BY user_key LIMIT ?")) {
            ps.setString(1, room);
            ps.setString(2, cursor == null ? "" : key(cursor));
            ps.setInt(3, limit + 1);
            List<Member> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Member(rs.getString(1), rs.getString(2), nullableLong(rs, 3)));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not read members", e);
        }
    }

    /** The room's bans in force, by username: up to {@code limit + 1} after {@code cursor} (a username, or null for the first). Blocking. */
    public List<Ban> bans(String room, String cursor, int limit) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT username, banned_by, reason, banned_until, banned_at FROM room_bans WHERE room = ?"
                     + " AND (banned_until IS NULL OR banned_until > ?) AND user_key > ? ORDER BY user_key LIMIT ?")) {
            ps.setString(1, room);
            ps.setLong(2, System.currentTimeMillis());
            ps.setString(3, cursor == null ? "" : key(cursor));
            ps.setInt(4, limit + 1);
            List<Ban> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Ban(rs.getString(1), rs.getString(2), rs.getString(3), nullableLong(rs, 4), rs.getLong(5)));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not read bans", e);
        }
    }

    // --- changes ---

    /**
     * Decides and makes one change of a room, in one transaction under the room's lock (see the
     * class comment). {@code decide} sees the room (null if there is none: it may make it) with
     * {@code actor}'s and {@code target}'s membership and {@code target}'s ban; an exception it
     * throws is passed on and nothing is written. Blocking.
     *
     * @param target the user the change is about, or null
     */
    public <T> Changed<T> change(String room, String actor, String target, Function<State, Plan<T>> decide) {
        requireNonNull(decide, "decide");
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                Changed<T> changed = change(c, room, actor, target, decide);
                if (changed.events().isEmpty()) c.commit();
                else db.commitDurably(c); // seen by no one before it is on the disk
                return changed;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("could not change room " + room, e);
        }
    }

    private <T> Changed<T> change(Connection c, String room, String actor, String target, Function<State, Plan<T>> decide) throws SQLException {
        long now = System.currentTimeMillis();
        Room r = null;
        boolean exists = false;
        long last = 0;
        for (int attempt = 0; attempt < 2 && !exists; attempt++) {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + ROOM_COLUMNS + ", deleted, " + ROOM_HISTORY + " FROM rooms WHERE name = ? FOR UPDATE")) {
                ps.setString(1, room);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        exists = true;
                        last = rs.getLong(4);
                        if (!rs.getBoolean(7)) r = room(rs);
                    }
                }
            }
            if (!exists && attempt == 0) {
                // No row to lock: a row of a deleted room (no room to anyone) is put there to lock,
                // and goes again with a refusal's rollback. Two changes making the same name at once
                // then take turns (the second waits on the first's row, and finds the room made)
                // instead of one failing on the key.
                update(c, "INSERT INTO rooms (name, last_seq, created_at, deleted) VALUES (?, 0, ?, TRUE) ON CONFLICT DO NOTHING", room, now);
            }
        }
        if (!exists) throw new SQLException("room " + room + " could not be locked");
        Member actorMember = r == null || actor == null ? null : member(c, room, actor);
        Member targetMember = r == null || target == null ? null : member(c, room, target);
        Ban ban = null;
        if (r != null && target != null) {
            try (PreparedStatement ps = c.prepareStatement("SELECT username, banned_by, reason, banned_until, banned_at FROM room_bans WHERE room = ? AND user_key = ?")) {
                ps.setString(1, room);
                ps.setString(2, key(target));
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) ban = new Ban(rs.getString(1), rs.getString(2), rs.getString(3), nullableLong(rs, 4), rs.getLong(5));
                }
            }
            if (ban != null && ban.until() != null && ban.until() <= now) ban = null;
        }
        Member owner = null;
        if (r != null) {
            try (PreparedStatement ps = c.prepareStatement("SELECT username, role, muted_until FROM room_members WHERE room = ? AND role = 'owner'")) {
                ps.setString(1, room);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) owner = new Member(rs.getString(1), rs.getString(2), nullableLong(rs, 3));
                }
            }
        }
        Plan<T> plan = decide.apply(new State(r, actorMember, targetMember, ban, owner, now));
        List<Message> events = new ArrayList<>();
        long seq = last;
        long firstEvent = -1;
        List<String> arrived = new ArrayList<>(2); // new members, by key: their read marker starts at the change
        for (Write w : plan.writes()) {
            switch (w) {
                case Write.CreateRoom cr -> {
                    try {
                        if (exists) {
                            // A deleted room made again goes on from its deletion's event, which stays in its history.
                            update(c, "UPDATE rooms SET deleted = FALSE, kind = ?, topic = ?, direct_users = ?, members = 0, skeleton = ?,"
                                    + " retention_days = NULL, retention_messages = NULL WHERE name = ?",
                                    cr.kind(), cr.topic(), cr.directUsers(), cr.key(), room);
                            clearMarkers(c, room);
                        } else {
                            try (PreparedStatement ps = c.prepareStatement(
                                    "INSERT INTO rooms (name, last_seq, created_at, kind, topic, direct_users, skeleton) VALUES (?, 0, ?, ?, ?, ?, ?)")) {
                                ps.setString(1, room);
                                ps.setLong(2, now);
                                ps.setString(3, cr.kind());
                                ps.setString(4, cr.topic());
                                ps.setString(5, cr.directUsers());
                                ps.setString(6, cr.key());
                                ps.executeUpdate();
                            }
                            exists = true;
                        }
                    } catch (SQLException e) {
                        // Another room with the key: the transaction is given up (and rolled back by the caller).
                        if (cr.key() != null && UserStore.isUniqueViolation(e)) throw new LookAlikeException("room", room, null);
                        throw e;
                    }
                }
                case Write.PutMember pm -> {
                    int n = update(c, "UPDATE room_members SET role = ?, muted_until = ?, username = ? WHERE room = ? AND user_key = ?",
                            pm.role(), pm.mutedUntil(), pm.user(), room, key(pm.user()));
                    if (n == 0) {
                        update(c, "INSERT INTO room_members (room, user_key, username, role, muted_until, added_at) VALUES (?, ?, ?, ?, ?, ?)",
                                room, key(pm.user()), pm.user(), pm.role(), pm.mutedUntil(), now);
                        arrived.add(key(pm.user()));
                    }
                }
                case Write.DeleteMember dm -> update(c, "DELETE FROM room_members WHERE room = ? AND user_key = ?", room, key(dm.user()));
                case Write.PutBan pb -> {
                    update(c, "DELETE FROM room_bans WHERE room = ? AND user_key = ?", room, key(pb.user()));
                    update(c, "INSERT INTO room_bans (room, user_key, username, banned_by, reason, banned_until, banned_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            room, key(pb.user()), pb.user(), pb.by(), pb.reason(), pb.until(), now);
                }
                case Write.DeleteBan db -> update(c, "DELETE FROM room_bans WHERE room = ? AND user_key = ?", room, key(db.user()));
                case Write.SetRetention sr -> update(c, "UPDATE rooms SET retention_days = ?, retention_messages = ? WHERE name = ?", sr.days(), sr.messages(), room);
                case Write.DeleteWebhooksBy dw -> deleteWebhooksBy(c, room, dw.user());
                case Write.DeleteRoom d -> {
                    // Reads start at the deletion's event from now on; the messages below it are purged
                    // after the commit (purge), not here, where the room's row is locked: a room's
                    // history can be large, and its members' sends would wait for it.
                    update(c, "DELETE FROM room_members WHERE room = ?", room);
                    update(c, "DELETE FROM room_bans WHERE room = ?", room);
                    // A room made again under the name is another room: nobody has read any of it.
                    update(c, "DELETE FROM read_markers WHERE room = ?", room);
                    // deleted_seq stays when the name is taken again: a send checked against a seat
                    // below it was meant for this room, and is refused (WriterSession.appendAll).
                    // (Its room_deleted event is the change's first; without one, the last seq.)
                    update(c, "UPDATE rooms SET deleted = TRUE, kind = 'public', topic = NULL, direct_users = NULL, first_seq = ?,"
                            // its own settings go with it (a room made again under the name starts without)
                            + " retention_days = NULL, retention_messages = NULL, deleted_seq = ? WHERE name = ?",
                            firstEvent < 0 ? seq + 1 : firstEvent, firstEvent < 0 ? seq : firstEvent, room);
                }
                case Write.Event e -> {
                    Message m = event(room, ++seq, now, e);
                    if (firstEvent < 0) firstEvent = seq;
                    insertEvent(c, m);
                    events.add(m);
                }
            }
        }
        if (!plan.writes().isEmpty()) {
            update(c, "UPDATE rooms SET last_seq = ?, members = (SELECT COUNT(*) FROM room_members WHERE room = ?) WHERE name = ?", seq, room, room);
        }
        // A new member has read what the room held when they came: what follows is unread to them.
        for (String k : arrived) ReadMarkers.raise(c, k, room, seq);
        return new Changed<>(plan.answer(), List.copyOf(events));
    }

    /**
     * The rooms deleted at some time whose messages from before their deletion are still stored: the
     * purge that follows a deletion ({@link #purge}) did not run or finish, because the node stopped
     * or crashed first. Reads skip them, but their text must not stay on disk for good. One index
     * probe per room ever deleted. Blocking.
     */
    public List<String> unpurged() {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT name FROM rooms r WHERE deleted_seq > 0"
                     + " AND EXISTS (SELECT 1 FROM messages m WHERE m.room = r.name AND m.seq < r.first_seq) ORDER BY name");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.add(rs.getString(1));
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not read the rooms left to purge", e);
        }
    }

    /**
     * Deletes a deleted room's messages below its deletion's event, a thousand at a time, each in
     * its own statement outside any lock: reads skip them already ({@code first_seq}). Blocking.
     *
     * @return how many were deleted
     */
    public long purge(String room) {
        long deleted = 0;
        try (Connection c = db.connection()) {
            long first;
            try (PreparedStatement ps = c.prepareStatement("SELECT first_seq FROM rooms WHERE name = ?")) {
                ps.setString(1, room);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) return 0;
                    first = rs.getLong(1);
                }
            }
            long oldest;
            try (PreparedStatement ps = c.prepareStatement("SELECT MIN(seq) FROM messages WHERE room = ?")) {
                ps.setString(1, room);
                try (ResultSet rs = ps.executeQuery()) {
                    oldest = rs.next() ? rs.getLong(1) : first;
                }
            }
            // Every table keyed by seq, as retention's sweep deletes (RetentionStore.TABLES_BY_SEQ).
            for (long from = oldest; from < first; from += 1000) {
                deleted += RetentionStore.deleteRange(c, room, from, Math.min(first, from + 1000));
            }
            db.persist(c);
            return deleted;
        } catch (SQLException e) {
            throw new StoreException("could not purge room " + room, e);
        }
    }

    /** Inserts a room event: a row of messages with its kind and fields. */
    static void insertEvent(Connection c, Message m) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO messages (" + SqlDialect.COLUMNS + ", kind, event_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            SqlDialect.bind(ps, m);
            ps.setString(9, m.event().type());
            ps.setString(10, m.event().json());
            ps.executeUpdate();
        }
    }

    private static Message event(String room, long seq, long now, Write.Event e) {
        String id = Ids.next(now);
        return new Message(room, seq, id, e.from(), e.text(), now, "event-" + id, e.change());
    }

    /**
     * Compared by {@link #key} in Java, as users are everywhere here: SQL's LOWER is not Java's in every
     * script. A room has a handful of webhooks (at most 10, and those of a deletion not yet delivered).
     */
    private static void deleteWebhooksBy(Connection c, String room, String user) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, created_by FROM webhooks WHERE room = ?")) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (key(rs.getString(2)).equals(key(user))) ids.add(rs.getString(1));
                }
            }
        }
        for (String id : ids) update(c, "DELETE FROM webhooks WHERE id = ?", id);
    }

    private static Member member(Connection c, String room, String user) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT username, role, muted_until FROM room_members WHERE room = ? AND user_key = ?")) {
            ps.setString(1, room);
            ps.setString(2, key(user));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Member(rs.getString(1), rs.getString(2), nullableLong(rs, 3)) : null;
            }
        }
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                ps.setObject(i + 1, a);
            }
            return ps.executeUpdate();
        }
    }

    /** A row selected as {@link #ROOM_COLUMNS} first and {@link #ROOM_HISTORY} anywhere after. */
    private static Room room(ResultSet rs) throws SQLException {
        int days = rs.getInt("retention_days");
        Integer retentionDays = rs.wasNull() ? null : days;
        long messages = rs.getLong("retention_messages");
        Long retentionMessages = rs.wasNull() ? null : messages;
        return new Room(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getInt(5), rs.getString(6),
                rs.getLong("first_seq"), retentionDays, retentionMessages);
    }

    private static Long nullableLong(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }
}
