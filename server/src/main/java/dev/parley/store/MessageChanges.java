package dev.parley.store;

import dev.parley.event.Ids;
import dev.parley.event.Message;
import dev.parley.event.RoomChange;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The changes of a message: edit, delete, react (PROTOCOL.md, changes of a message). Each is one
 * transaction, as a room change is ({@link RoomStore#change}): lock the room's row (so the change is
 * ordered with the room's messages and two changes of one message never decide on the same old
 * state), read the message, let the caller decide ({@code check} throws to refuse, and nothing is
 * written), write the change's event with the room's next seq and the message's new state on its own
 * row, commit. A change that changes nothing (a reaction already given, an edit to the same text, a
 * deletion of a deleted message) writes nothing and returns null. The caller hands the event to the
 * delivery. Blocking JDBC: call it off the event loop.
 */
public final class MessageChanges {
    private final Database db;

    public MessageChanges(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /**
     * What a change is decided on, read under the room's lock.
     *
     * @param roomKind  public, private or direct
     * @param actorRole the actor's role in the room, or null (read for a deletion only)
     * @param emojis    for a reaction given: the different emoji the message would have with it
     */
    public record Target(String sender, boolean deleted, String roomKind, String actorRole, int emojis) {}

    /**
     * Sets the message's text to {@code text}.
     *
     * @return the {@code edited} event, or null if the text was that already
     * @throws MissingTargetException if the room has no such message
     */
    public Message edit(String room, long seq, String user, String text, Consumer<Target> check) {
        return change(room, (c, r) -> {
            Row m = message(c, r, seq);
            check.accept(new Target(m.sender, m.deleted, r.kind, null, 0));
            if (m.deleted || m.text.equals(text)) return null;
            Message event = event(room, r.lastSeq + 1, user, user + " edited message " + seq + ": " + text, RoomChange.edited(seq, text));
            RoomStore.insertEvent(c, event);
            forgetEditText(c, room, seq, m);
            // Whom it mentions is its text's (event.Mentions): the edit's, for the unread counts.
            update(c, "UPDATE messages SET text = ?, mentions = ?, edited_at = ?, edit_seq = ?, last_change = ? WHERE room = ? AND seq = ?",
                    text, SqlDialect.mentionsColumn(dev.parley.event.Mentions.of(text)), event.tsMillis(), event.seq(), event.seq(), room, seq);
            return event;
        });
    }

    /**
     * Deletes the message: its row stays with its seq and sender, its text (and its last edit's) is
     * emptied, its reactions are gone.
     *
     * @return the {@code deleted} event, or null if it was deleted already
     */
    public Message delete(String room, long seq, String user, Consumer<Target> check) {
        return change(room, (c, r) -> {
            Row m = message(c, r, seq);
            check.accept(new Target(m.sender, m.deleted, r.kind, role(c, room, user), 0));
            if (m.deleted) return null;
            Message event = event(room, r.lastSeq + 1, user, user + " deleted message " + seq, RoomChange.deleted(seq, user));
            RoomStore.insertEvent(c, event);
            forgetEditText(c, room, seq, m);
            update(c, "UPDATE messages SET text = '', mentions = NULL, deleted = TRUE, edited_at = NULL, edit_seq = NULL, last_change = ? WHERE room = ? AND seq = ?",
                    event.seq(), room, seq);
            update(c, "DELETE FROM message_reactions WHERE room = ? AND seq = ?", room, seq);
            return event;
        });
    }

    /**
     * Gives ({@code on}) or takes back the user's reaction {@code emoji} to the message.
     *
     * @return the {@code reaction} event, or null if the user's reaction was so already
     */
    public Message react(String room, long seq, String user, String emoji, boolean on, Consumer<Target> check) {
        return change(room, (c, r) -> {
            Row m = message(c, r, seq);
            String key = RoomStore.key(user);
            boolean given = exists(c, "SELECT 1 FROM message_reactions WHERE room = ? AND seq = ? AND emoji = ? AND user_key = ?", room, seq, emoji, key);
            int emojis = 0;
            if (on && !given) {
                emojis = count(c, "SELECT COUNT(DISTINCT emoji) FROM message_reactions WHERE room = ? AND seq = ?", room, seq)
                        + (exists(c, "SELECT 1 FROM message_reactions WHERE room = ? AND seq = ? AND emoji = ?", room, seq, emoji) ? 0 : 1);
            }
            check.accept(new Target(m.sender, m.deleted, r.kind, null, emojis));
            if (m.deleted || given == on) return null;
            String text = on ? user + " reacted " + emoji + " to message " + seq : user + " took back " + emoji + " from message " + seq;
            Message event = event(room, r.lastSeq + 1, user, text, RoomChange.reaction(seq, emoji, on, user));
            RoomStore.insertEvent(c, event);
            if (on) {
                update(c, "INSERT INTO message_reactions (room, seq, emoji, user_key, username, reacted_at, reacted_seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        room, seq, emoji, key, user, event.tsMillis(), event.seq());
            } else {
                update(c, "DELETE FROM message_reactions WHERE room = ? AND seq = ? AND emoji = ? AND user_key = ?", room, seq, emoji, key);
            }
            update(c, "UPDATE messages SET last_change = ? WHERE room = ? AND seq = ?", event.seq(), room, seq);
            return event;
        });
    }

    // --- the transaction ---

    private interface Work {
        /** @return the change's event, with the room's next seq, or null if nothing changed */
        Message apply(Connection c, LockedRoom room) throws SQLException;
    }

    private record LockedRoom(String name, long lastSeq, long firstSeq, String kind) {}

    private record Row(String sender, String text, boolean deleted, long editSeq) {}

    private Message change(String room, Work work) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                LockedRoom r = lock(c, room);
                Message event = work.apply(c, r);
                if (event == null) {
                    c.rollback();
                    return null;
                }
                update(c, "UPDATE rooms SET last_seq = ? WHERE name = ?", event.seq(), room);
                db.commitDurably(c); // seen by no one before it is on the disk
                return event;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("could not change a message of " + room, e);
        }
    }

    private static LockedRoom lock(Connection c, String room) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT last_seq, first_seq, kind, deleted FROM rooms WHERE name = ? FOR UPDATE")) {
            ps.setString(1, room);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getBoolean(4)) throw new MissingTargetException("no room " + room);
                return new LockedRoom(room, rs.getLong(1), rs.getLong(2), rs.getString(3));
            }
        }
    }

    /** The message {@code seq} of the room: not a room event, nor history a deletion of the room took. */
    private static Row message(Connection c, LockedRoom r, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT sender, text, deleted, edit_seq, kind FROM messages WHERE room = ? AND seq = ?")) {
            ps.setString(1, r.name());
            ps.setLong(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(5) != null || seq < r.firstSeq) throw new MissingTargetException("no message " + seq + " in " + r.name());
                return new Row(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getLong(4));
            }
        }
    }

    /**
     * Takes the text out of the message's last edit event, which held it: the next edit's event holds
     * the text now, or after a deletion nothing does.
     */
    private static void forgetEditText(Connection c, String room, long seq, Row m) throws SQLException {
        if (m.editSeq == 0) return;
        // The event was the sender's (only the sender edits): it goes on saying what it was, without the words.
        update(c, "UPDATE messages SET text = ?, event_data = ? WHERE room = ? AND seq = ? AND kind = ?",
                m.sender + " edited message " + seq, RoomChange.edited(seq, null).json(), room, m.editSeq, RoomChange.EDITED);
    }

    private static Message event(String room, long seq, String from, String text, RoomChange change) {
        long now = System.currentTimeMillis();
        String id = Ids.next(now);
        return new Message(room, seq, id, from, text, now, "event-" + id, change);
    }

    private static String role(Connection c, String room, String user) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT role FROM room_members WHERE room = ? AND user_key = ?")) {
            ps.setString(1, room);
            ps.setString(2, RoomStore.key(user));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static boolean exists(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = bound(c, sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    private static int count(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = bound(c, sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = bound(c, sql, args)) {
            return ps.executeUpdate();
        }
    }

    private static PreparedStatement bound(Connection c, String sql, Object... args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
        return ps;
    }
}
