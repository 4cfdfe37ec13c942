package dev.parley.store;

import dev.parley.event.Message;
import dev.parley.event.RoomChange;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.List;

/**
 * Where the message store's SQL differs between H2 and PostgreSQL, and the row shape its classes
 * share. The schema is one (H2 runs in its PostgreSQL mode), so most statements are the same on
 * both, {@code ON CONFLICT DO NOTHING} and {@code GREATEST} included: what differs is how a
 * statement reads back what an {@code UPDATE} wrote, the single-statement append (worth it only
 * where a statement is a round trip), and a planner setting. The connection says which database
 * it is on. (Whether the database must be told to write its pages is {@link Database#persist}'s:
 * that depends on H2 running from a file, not on the dialect.)
 */
enum SqlDialect {
    H2 {
        @Override
        String reserveSeqs() {
            // H2 has no UPDATE ... RETURNING; it reads what an UPDATE wrote through FINAL TABLE.
            return "SELECT last_seq FROM FINAL TABLE (UPDATE rooms SET last_seq = last_seq + ? WHERE name = ? AND NOT deleted AND deleted_seq <= ?)";
        }

        @Override
        String appendOne() {
            // None: H2 has no UPDATE ... RETURNING to take the seq with, and the embedded H2's
            // statements are no round trips to save.
            return null;
        }

        @Override
        void configure(Connection c) {}
    },
    POSTGRESQL {
        @Override
        String reserveSeqs() {
            return "UPDATE rooms SET last_seq = last_seq + ? WHERE name = ? AND NOT deleted AND deleted_seq <= ? RETURNING last_seq";
        }

        @Override
        String appendOne() {
            return "WITH r AS (UPDATE rooms SET last_seq = last_seq + 1 WHERE name = ? AND NOT deleted AND deleted_seq <= ? RETURNING last_seq) "
                    + "INSERT INTO messages (" + COLUMNS + ", mentions, bot) SELECT ?, last_seq, ?, ?, ?, ?, ?, ?, ?, ? FROM r RETURNING seq";
        }

        @Override
        void configure(Connection c) throws SQLException {
            // Until autovacuum first analyzes a new messages table, PostgreSQL guesses it is
            // tiny and answers the retry lookup with a scan of the whole table, on every
            // commit: appends slowed as the table grew, and two nodes sharing one core fell
            // behind within seconds. Every statement of this session has an index to use.
            try (Statement st = c.createStatement()) {
                st.execute("SET enable_seqscan = off");
            }
        }
    };

    /** The columns of a message, in the order {@link #bind} and {@link #read} use. */
    static final String COLUMNS = "room, seq, id, sender, text, ts, client_id, reply_to";
    /**
     * What reads select: the columns of a message, then those of a room event (null for a message),
     * then its current state (edited, deleted, the seq of its last change).
     */
    static final String READ_COLUMNS = COLUMNS + ", kind, event_data, edited_at, deleted, last_change, bot";
    /** A message someone sent, with whom it mentions: {@link #bindMessage}. */
    static final String INSERT_MESSAGE = "INSERT INTO messages (" + COLUMNS + ", mentions, bot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    static final String INSERT_ROOM = "INSERT INTO rooms (name, last_seq, created_at) VALUES (?, 0, ?) ON CONFLICT DO NOTHING";

    /** The dialect of the database {@code c} is connected to: PostgreSQL, or else the embedded H2. */
    static SqlDialect of(Connection c) throws SQLException {
        return "PostgreSQL".equals(c.getMetaData().getDatabaseProductName()) ? POSTGRESQL : H2;
    }

    /** Adds its first parameter to the last seq of the room named by its second and returns the new one. */
    abstract String reserveSeqs();

    /**
     * Takes a room's next seq and inserts one message with it, in one statement; parameters: the room,
     * then the message's columns but its seq, then its mentions. Null where the dialect has no such statement.
     */
    abstract String appendOne();

    /** Sets up the writer's connection, once per connection. */
    abstract void configure(Connection c) throws SQLException;

    static void bind(PreparedStatement ps, Message m) throws SQLException {
        ps.setString(1, m.room());
        ps.setLong(2, m.seq());
        ps.setString(3, m.id());
        ps.setString(4, m.from());
        ps.setString(5, m.text());
        ps.setLong(6, m.tsMillis());
        ps.setString(7, m.clientId());
        if (m.replyTo() > 0) ps.setLong(8, m.replyTo());
        else ps.setNull(8, Types.BIGINT);
    }

    /** The parameters of {@link #INSERT_MESSAGE}: {@link #bind}, then the mentions and whether a bot sent it. */
    static void bindMessage(PreparedStatement ps, Message m) throws SQLException {
        bind(ps, m);
        ps.setString(9, mentionsColumn(m.mentions()));
        ps.setBoolean(10, m.bot());
    }

    /**
     * The {@code mentions} column of a message that mentions {@code names} (event.Mentions): the names in
     * lower case, each between spaces, so that whether a user is mentioned is
     * {@code POSITION(' user ' IN mentions) > 0}; null for none. (An edit of a text writes it anew.)
     */
    static String mentionsColumn(java.util.List<String> names) {
        if (names.isEmpty()) return null;
        StringBuilder b = new StringBuilder(names.size() * 10 + 1).append(' ');
        for (String n : names) b.append(n.toLowerCase(java.util.Locale.ROOT)).append(' ');
        return b.toString();
    }

    /** A row selected as {@link #READ_COLUMNS}, without its reactions (MessageReads adds them). */
    static Message read(ResultSet rs) throws SQLException {
        String kind = rs.getString(9);
        RoomChange event = kind == null ? null : RoomChange.parse(kind, rs.getString(10));
        long editedAt = rs.getLong(11); // 0 for null, as each of these
        boolean deleted = rs.getBoolean(12);
        long lastChange = rs.getLong(13);
        Message.State state = editedAt == 0 && !deleted && lastChange == 0 ? null : new Message.State(editedAt, deleted, List.of(), lastChange);
        return new Message(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getLong(6), rs.getString(7), event,
                rs.getLong(8), state, rs.getBoolean(14));
    }
}
