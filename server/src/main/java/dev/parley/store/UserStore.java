package dev.parley.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** Accounts. Blocking JDBC: call it off the event loop. Usernames are unique regardless of case. */
public final class UserStore {
    private final Database db;

    public UserStore(Database db) {
        this.db = requireNonNull(db, "db");
    }

    public record User(String username, String passwordHash) {}

    /** @return false if the name (in any case) is taken */
    public boolean create(String username, String passwordHash) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO users (username, username_lower, password_hash, created_at) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, username);
            ps.setString(2, username.toLowerCase(Locale.ROOT));
            ps.setString(3, passwordHash);
            ps.setLong(4, System.currentTimeMillis());
            ps.executeUpdate();
            db.persist(c);
            return true;
        } catch (SQLException e) {
            if (isUniqueViolation(e)) return false;
            throw new StoreException("could not create user", e);
        }
    }

    public Optional<User> find(String username) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT username, password_hash FROM users WHERE username_lower = ?")) {
            ps.setString(1, username.toLowerCase(Locale.ROOT));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new User(rs.getString(1), rs.getString(2))) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StoreException("could not read user", e);
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
