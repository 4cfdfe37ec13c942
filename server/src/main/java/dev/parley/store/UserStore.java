package dev.parley.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;
import java.util.function.UnaryOperator;

import static java.util.Objects.requireNonNull;

/** Accounts. Blocking JDBC: call it off the event loop. Usernames are unique regardless of case. */
public final class UserStore {
    private final Database db;

    public UserStore(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /**
     * An account; a deleted one keeps its row (its name stays taken) but no password.
     *
     * @param sessionEpoch counts the password changes: a token carries the one it was issued under
     * @param issuer       the identity provider whose user this is (no password), or null for an account registered here
     */
    public record User(String username, String passwordHash, boolean disabled, boolean deleted, long sessionEpoch, String issuer) {
        public User(String username, String passwordHash, boolean disabled, boolean deleted, long sessionEpoch) {
            this(username, passwordHash, disabled, deleted, sessionEpoch, null);
        }

        /** An account one may log in to with a password: registered here, and not deleted. */
        public boolean hasPassword() {
            return issuer == null && !deleted;
        }
    }

    /**
     * @param key the name's look-alike key ({@code chat.Names.key}): unique, like the name in any case
     * @return false if the name (in any case) is taken
     * @throws LookAlikeException if another name with the same key is taken
     */
    public boolean create(String username, String key, String passwordHash) {
        try (Connection c = db.connection()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO users (username, username_lower, username_skeleton, password_hash, created_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, username);
                ps.setString(2, username.toLowerCase(Locale.ROOT));
                ps.setString(3, requireNonNull(key, "key"));
                ps.setString(4, passwordHash);
                ps.setLong(5, System.currentTimeMillis());
                ps.executeUpdate();
            } catch (SQLException e) {
                if (!isUniqueViolation(e)) throw e;
                if (first(c, "SELECT username FROM users WHERE username_lower = ?", username.toLowerCase(Locale.ROOT)) != null) return false;
                throw new LookAlikeException("username", username, first(c, "SELECT username FROM users WHERE username_skeleton = ?", key));
            }
            db.persist(c);
            return true;
        } catch (SQLException e) {
            throw new StoreException("could not create user", e);
        }
    }

    /**
     * Reserves the name for the identity provider's user of that name: an account without a password,
     * owned by {@code issuer}.
     *
     * @return false if the name (in any case) is taken, by whatever account
     */
    public boolean createExternal(String username, String issuer) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO users (username, username_lower, password_hash, created_at, issuer) VALUES (?, ?, '', ?, ?)")) {
            ps.setString(1, username);
            ps.setString(2, username.toLowerCase(Locale.ROOT));
            ps.setLong(3, System.currentTimeMillis());
            ps.setString(4, issuer);
            ps.executeUpdate();
            db.persist(c);
            return true;
        } catch (SQLException e) {
            if (isUniqueViolation(e)) return false;
            throw new StoreException("could not create user", e);
        }
    }

    /**
     * Gives the accounts made before look-alike keys were kept (V6__name_skeletons.sql) their key, in
     * pages of 500, each page in one transaction. Of two such names that look alike only the first by
     * name keeps its key, and the others are logged: both accounts stay as they are, and any new name
     * like them is refused all the same, since it has the key that is kept. Blocking; at start-up.
     *
     * @return how many accounts got their key
     */
    public int fillKeys(UnaryOperator<String> key) {
        return Keys.fill(db, "users", "username_lower", "username", "username_skeleton", "", key);
    }

    /** The first column of the first row {@code sql} reads with {@code value} as its parameter, or null. */
    static String first(Connection c, String sql, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    public Optional<User> find(String username) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT username, password_hash, disabled, deleted, session_epoch, issuer FROM users WHERE username_lower = ?")) {
            ps.setString(1, username.toLowerCase(Locale.ROOT));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new User(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4), rs.getLong(5), rs.getString(6)))
                        : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StoreException("could not read user", e);
        }
    }

    /**
     * Stores a new password hash and, in the same transaction, the revocation of the user's other
     * sessions: a password changed with sessions left open would not lock out whoever knew the old one.
     *
     * @return the revocation's id, or empty if there is no such account (or it was deleted)
     */
    public Optional<RevocationStore.Revocation> setPassword(String username, String passwordHash, RevocationStore.Revocation r) {
        return changeAndRevoke("UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1 WHERE username_lower = ? AND NOT deleted AND issuer IS NULL",
                ps -> ps.setString(1, passwordHash), username, r, true);
    }

    /** Disables or enables the account, and stores the revocation that tells every node (see {@link RevocationStore}). */
    public Optional<Long> setDisabled(String username, boolean disabled, RevocationStore.Revocation r) {
        return changeAndRevoke("UPDATE users SET disabled = ? WHERE username_lower = ? AND NOT deleted",
                ps -> ps.setBoolean(1, disabled), username, r, false).map(RevocationStore.Revocation::id);
    }

    /**
     * Deletes the account: its row stays, marked deleted and without a password, so that its name
     * stays taken and its messages keep their sender; its sessions are revoked in the same transaction.
     */
    public Optional<Long> delete(String username, RevocationStore.Revocation r) {
        return changeAndRevoke("UPDATE users SET deleted = ?, password_hash = '' WHERE username_lower = ? AND NOT deleted",
                ps -> ps.setBoolean(1, true), username, r, false).map(RevocationStore.Revocation::id);
    }

    /** The accounts that are disabled or deleted, lowercase: a node starts with these refused. */
    public java.util.Set<String> refused() {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT username_lower FROM users WHERE disabled OR deleted");
             ResultSet rs = ps.executeQuery()) {
            java.util.Set<String> out = new java.util.HashSet<>();
            while (rs.next()) out.add(rs.getString(1));
            return out;
        } catch (SQLException e) {
            throw new StoreException("could not read disabled accounts", e);
        }
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    /**
     * Runs the update (its first parameter bound by {@code first}, its second the username) and stores
     * the revocation, in one transaction. With {@code newEpoch} the revocation refuses the sessions
     * epochs below the one the update made.
     *
     * @return the revocation as stored (with its id and epoch), or empty if there is no such account
     */
    private Optional<RevocationStore.Revocation> changeAndRevoke(String sql, Binder first, String username, RevocationStore.Revocation r,
                                                                 boolean newEpoch) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            long id;
            try {
                RevocationStore.inIdOrder(c); // before the account's row lock: every such transaction takes them in this order
                int changed;
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    first.bind(ps);
                    ps.setString(2, username.toLowerCase(Locale.ROOT));
                    changed = ps.executeUpdate();
                }
                if (changed != 1) {
                    c.rollback();
                    return Optional.empty();
                }
                if (newEpoch) {
                    try (PreparedStatement ps = c.prepareStatement("SELECT session_epoch FROM users WHERE username_lower = ?")) {
                        ps.setString(1, username.toLowerCase(Locale.ROOT));
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            r = r.withEpoch(rs.getLong(1));
                        }
                    }
                }
                id = RevocationStore.insert(c, r);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            db.persist(c);
            return Optional.of(r.withId(id));
        } catch (SQLException e) {
            throw new StoreException("could not change user", e);
        }
    }

    static boolean isUniqueViolation(SQLException e) {
        // 23505 in PostgreSQL and H2 alike.
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && "23505".equals(s.getSQLState())) return true;
        }
        return false;
    }
}
