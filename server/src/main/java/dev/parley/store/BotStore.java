package dev.parley.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Bot accounts and their API keys (V11__bots.sql). A key is kept as the SHA-256 of the key alone, so
 * looking a key up is looking its hash up. Blocking JDBC: call it off the event loop.
 */
public final class BotStore {
    private final Database db;

    public BotStore(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /** A bot account. */
    public record Bot(String name, long createdAt, boolean disabled) {}

    /**
     * An API key as stored: never the key itself. {@code bot} is the account's name as it spells it
     * (api_keys.bot holds it in lower case).
     *
     * @param rooms   the rooms it may act in, or null for every room
     * @param actions comma-separated: post, read, manage
     */
    public record Key(String id, String bot, String prefix, List<String> rooms, String actions, long createdAt, Long lastUsedAt,
                      Long revokedAt) {}

    /**
     * Makes the bot account and its first key in one transaction.
     *
     * @param nameKey the name's look-alike key ({@code chat.Names.key})
     * @return false if the name (in any case) is taken
     * @throws LookAlikeException if another name with the same look-alike key is taken
     */
    public boolean create(String name, String nameKey, Key first, String keyHash) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO users (username, username_lower, username_skeleton, password_hash, "
                    + "created_at, issuer, bot) VALUES (?, ?, ?, '', ?, 'parley:bot', TRUE)")) {
                ps.setString(1, name);
                ps.setString(2, name.toLowerCase(Locale.ROOT));
                ps.setString(3, requireNonNull(nameKey, "nameKey"));
                ps.setLong(4, first.createdAt());
                ps.executeUpdate();
                insertKey(c, first, keyHash);
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                if (!UserStore.isUniqueViolation(e)) throw e;
                if (UserStore.first(c, "SELECT username FROM users WHERE username_lower = ?", name.toLowerCase(Locale.ROOT)) != null) return false;
                throw new LookAlikeException("username", name, UserStore.first(c, "SELECT username FROM users WHERE username_skeleton = ?", nameKey));
            }
            db.persist(c);
            return true;
        } catch (SQLException e) {
            throw new StoreException("could not create bot", e);
        }
    }

    /** The bots, by name. */
    public List<Bot> bots() {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT username, created_at, disabled FROM users WHERE bot AND NOT deleted ORDER BY username_lower")) {
            List<Bot> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Bot(rs.getString(1), rs.getLong(2), rs.getBoolean(3)));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not list bots", e);
        }
    }

    /** The bot of that name (any case), or empty if there is none or that account is no bot. */
    public Optional<Bot> bot(String name) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT username, created_at, disabled FROM users WHERE username_lower = ? AND bot AND NOT deleted")) {
            ps.setString(1, name.toLowerCase(Locale.ROOT));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Bot(rs.getString(1), rs.getLong(2), rs.getBoolean(3))) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StoreException("could not read bot", e);
        }
    }

    /** Adds a key to an existing bot. */
    public void addKey(Key key, String keyHash) {
        try (Connection c = db.connection()) {
            insertKey(c, key, keyHash);
            db.persist(c);
        } catch (SQLException e) {
            throw new StoreException("could not add key", e);
        }
    }

    /**
     * Revokes the key (if it is the bot's and not revoked yet) and, in the same transaction, stores
     * {@code revocation} (which tells every node); with {@code replacement}, adds that key too: a rotation.
     *
     * @return the revocation's id, or empty if the bot has no such working key (nothing is done)
     */
    public Optional<Long> revoke(String bot, String keyId, long at, RevocationStore.Revocation revocation, Key replacement, String replacementHash) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                int n;
                try (PreparedStatement ps = c.prepareStatement("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND bot = ? AND revoked_at IS NULL")) {
                    ps.setLong(1, at);
                    ps.setString(2, keyId);
                    ps.setString(3, bot.toLowerCase(Locale.ROOT));
                    n = ps.executeUpdate();
                }
                if (n == 0) {
                    c.rollback();
                    return Optional.empty();
                }
                if (replacement != null) insertKey(c, replacement, replacementHash);
                long id = RevocationStore.insert(c, revocation);
                c.commit();
                db.persist(c);
                return Optional.of(id);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("could not revoke key", e);
        }
    }

    /** The bot's working keys, oldest first. */
    public List<Key> keys(String bot) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT " + KEY_COLUMNS + " FROM api_keys k JOIN users u ON u.username_lower = k.bot WHERE k.bot = ? AND k.revoked_at IS NULL ORDER BY k.created_at, k.id")) {
            ps.setString(1, bot.toLowerCase(Locale.ROOT));
            List<Key> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(key(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not list keys", e);
        }
    }

    /** The key with that hash, revoked or not, or empty. */
    public Optional<Key> byHash(String keyHash) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT " + KEY_COLUMNS + " FROM api_keys k JOIN users u ON u.username_lower = k.bot WHERE k.key_hash = ?")) {
            ps.setString(1, keyHash);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(key(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StoreException("could not read key", e);
        }
    }

    /** Notes when the key was last used (callers do it at most once a minute per key). */
    public void used(String keyId, long at) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("UPDATE api_keys SET last_used_at = ? WHERE id = ?")) {
            ps.setLong(1, at);
            ps.setString(2, keyId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("could not note a key's use", e);
        }
    }

    /** The key's columns, with the bot's name as the account spells it (api_keys.bot is lowercase). */
    private static final String KEY_COLUMNS = "k.id, u.username, k.prefix, k.rooms, k.actions, k.created_at, k.last_used_at, k.revoked_at";

    private static Key key(ResultSet rs) throws SQLException {
        String rooms = rs.getString(4);
        long lastUsed = rs.getLong(7);
        Long last = rs.wasNull() ? null : lastUsed;
        long revokedAt = rs.getLong(8);
        Long revoked = rs.wasNull() ? null : revokedAt;
        return new Key(rs.getString(1), rs.getString(2), rs.getString(3), rooms == null ? null : List.of(rooms.split("\n")),
                rs.getString(5), rs.getLong(6), last, revoked);
    }

    private static void insertKey(Connection c, Key k, String keyHash) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO api_keys (id, bot, key_hash, prefix, rooms, actions, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, k.id());
            ps.setString(2, k.bot().toLowerCase(Locale.ROOT));
            ps.setString(3, keyHash);
            ps.setString(4, k.prefix());
            ps.setString(5, k.rooms() == null ? null : String.join("\n", k.rooms()));
            ps.setString(6, k.actions());
            ps.setLong(7, k.createdAt());
            ps.executeUpdate();
        }
    }
}
