package dev.parley.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Fills the look-alike keys of the names taken before the keys were kept (V6__name_skeletons.sql):
 * the key is computed in Java (ICU), which a migration of SQL cannot do. Every node does it at
 * start-up; nodes starting together fill the same values, each row once ({@code WHERE key IS NULL}).
 */
final class Keys {
    private static final Logger log = LoggerFactory.getLogger(Keys.class);
    private static final int PAGE = 500;

    private Keys() {}

    private record Row(String id, String name, String key) {}

    /**
     * @param id    the table's key column (the rows are paged by it)
     * @param where more conditions, starting with AND, or empty
     * @return how many rows got their key
     */
    static int fill(Database db, String table, String id, String name, String keyColumn, String where, UnaryOperator<String> key) {
        int filled = 0;
        String after = "";
        String select = "SELECT " + id + ", " + name + " FROM " + table + " WHERE " + keyColumn + " IS NULL " + where
                + " AND " + id + " > ? ORDER BY " + id + " LIMIT " + PAGE;
        String update = "UPDATE " + table + " SET " + keyColumn + " = ? WHERE " + id + " = ? AND " + keyColumn + " IS NULL";
        try (Connection c = db.connection()) {
            while (true) {
                List<Row> page = new ArrayList<>(PAGE);
                try (PreparedStatement ps = c.prepareStatement(select)) {
                    ps.setString(1, after);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) page.add(new Row(rs.getString(1), rs.getString(2), key.apply(rs.getString(2))));
                    }
                }
                if (page.isEmpty()) break;
                after = page.get(page.size() - 1).id();
                filled += page(c, table, name, keyColumn, update, page);
            }
            if (filled > 0) db.persist(c);
        } catch (SQLException e) {
            throw new StoreException("could not fill the look-alike keys of " + table, e);
        }
        if (filled > 0) log.info("{}: look-alike keys filled for {} names taken before they were kept", table, filled);
        return filled;
    }

    /** The page in one transaction; if a key is taken (two old names that look alike), row by row. */
    private static int page(Connection c, String table, String name, String keyColumn, String update, List<Row> page) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(update)) {
            int n = 0;
            for (Row r : page) {
                ps.setString(1, r.key());
                ps.setString(2, r.id());
                n += ps.executeUpdate();
            }
            c.commit();
            return n;
        } catch (SQLException e) {
            c.rollback();
        } finally {
            c.setAutoCommit(true);
        }
        int n = 0;
        for (Row r : page) {
            try (PreparedStatement ps = c.prepareStatement(update)) {
                ps.setString(1, r.key());
                ps.setString(2, r.id());
                n += ps.executeUpdate();
            } catch (SQLException e) {
                String other = UserStore.first(c, "SELECT " + name + " FROM " + table + " WHERE " + keyColumn + " = ?", r.key());
                log.warn("{}: {} looks like {}, which was taken before look-alike names were refused; both stay, and new names like them are refused",
                        table, r.name(), other == null ? "another name (" + e.getMessage() + ")" : other);
            }
        }
        return n;
    }
}
