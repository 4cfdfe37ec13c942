package dev.parley.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * Revoked sessions (V2__accounts.sql), the source of truth every node catches up from: a row is
 * never changed, only added and, once it has stopped mattering, purged. Blocking JDBC: call it off
 * the event loop.
 */
public final class RevocationStore {
    private final Database db;

    public RevocationStore(Database db) {
        this.db = requireNonNull(db, "db");
    }

    /** What a row says; see the migration for the kinds. Usernames are lowercase. */
    public record Revocation(long id, String kind, String username, String tokenId, String keepTokenId, long cutoff, long expiresAt,
                             long epoch) {
        public Revocation {
            requireNonNull(kind, "kind");
            username = username.toLowerCase(Locale.ROOT);
        }

        /** A revocation of no session epoch (every kind but a password change's). */
        public Revocation(long id, String kind, String username, String tokenId, String keepTokenId, long cutoff, long expiresAt) {
            this(id, kind, username, tokenId, keepTokenId, cutoff, expiresAt, 0);
        }

        /** The same, with the id the store gave it. */
        public Revocation withId(long newId) {
            return new Revocation(newId, kind, username, tokenId, keepTokenId, cutoff, expiresAt, epoch);
        }

        /** The same, refusing the tokens of sessions epochs below {@code newEpoch}. */
        public Revocation withEpoch(long newEpoch) {
            return new Revocation(id, kind, username, tokenId, keepTokenId, cutoff, expiresAt, newEpoch);
        }
    }

    /** Stores it on its own and returns its id. */
    public long add(Revocation r) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            long id;
            try {
                id = insert(c, r);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            db.persist(c);
            return id;
        } catch (SQLException e) {
            throw new StoreException("could not store a revocation", e);
        }
    }

    /** Any number: the key of the advisory lock that makes revocations commit in the order of their ids. */
    private static final long ID_ORDER_LOCK = 0x70617273_6c657931L;

    /**
     * Makes the caller's transaction the only one storing a revocation until it ends. Nodes read
     * revocations by increasing id; PostgreSQL hands ids out when a row is inserted, not when it
     * commits, so without this a row could commit after one with a higher id that another node had
     * already read past, and that node would never read it. (H2 is a single node, which applies
     * what it stores at once.) Call it in a transaction, before anything that locks an account's row.
     */
    static void inIdOrder(Connection c) throws SQLException {
        if (c.getAutoCommit() || !"PostgreSQL".equals(c.getMetaData().getDatabaseProductName())) return;
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            ps.setLong(1, ID_ORDER_LOCK);
            ps.executeQuery().close();
        }
    }

    /** In the caller's transaction (UserStore changes an account and revokes in one). */
    static long insert(Connection c, Revocation r) throws SQLException {
        inIdOrder(c);
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO revocations (kind, username, token_id, keep_token_id, cutoff, expires_at, epoch) VALUES (?, ?, ?, ?, ?, ?, ?)",
                Statement.RETURN_GENERATED_KEYS)) {
            ps.setString(1, r.kind());
            ps.setString(2, r.username());
            ps.setString(3, r.tokenId());
            ps.setString(4, r.keepTokenId());
            ps.setLong(5, r.cutoff());
            ps.setLong(6, r.expiresAt());
            ps.setLong(7, r.epoch());
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                if (!keys.next()) throw new SQLException("no id generated for a revocation");
                return keys.getLong(1); // the id: the first column, whether the driver returns it alone (H2) or every column (PostgreSQL)
            }
        }
    }

    /** The rows after {@code afterId}, in id order, at most {@code limit}. */
    public List<Revocation> after(long afterId, int limit) {
        return query("SELECT id, kind, username, token_id, keep_token_id, cutoff, expires_at, epoch FROM revocations WHERE id > ? ORDER BY id LIMIT "
                + limit, afterId);
    }

    /** The rows that still matter at {@code nowMillis}: what a starting node loads. */
    public List<Revocation> unexpired(long nowMillis) {
        return query("SELECT id, kind, username, token_id, keep_token_id, cutoff, expires_at, epoch FROM revocations WHERE expires_at > ? ORDER BY id",
                nowMillis);
    }

    /** The highest id so far, 0 for none: a starting node reads on from there. */
    public long lastId() {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM revocations");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new StoreException("could not read revocations", e);
        }
    }

    /** Deletes rows that expired before {@code beforeMillis}; any node may, any number of times. */
    public int purge(long beforeMillis) {
        try (Connection c = db.connection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM revocations WHERE expires_at < ?")) {
            ps.setLong(1, beforeMillis);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("could not purge revocations", e);
        }
    }

    private List<Revocation> query(String sql, long param) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                List<Revocation> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Revocation(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            rs.getLong(6), rs.getLong(7), rs.getLong(8)));
                }
                return out;
            }
        } catch (SQLException e) {
            throw new StoreException("could not read revocations", e);
        }
    }
}
