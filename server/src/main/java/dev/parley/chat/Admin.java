package dev.parley.chat;

import dev.parley.auth.TokenService;
import dev.parley.presence.Presence;
import dev.parley.store.AdminQueries;
import dev.parley.store.RevocationStore.Revocation;
import dev.parley.store.UserStore;
import dev.parley.store.WebhookStore;
import dev.parley.work.Blocking;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * What the server's administrators ({@code CHAT_ADMINS}) see and do across the whole server, for the
 * web client's admin page (PROTOCOL.md 3.9): the nodes and their health, every room with its size
 * and traffic, every account, every webhook with its failures, and revoking all of an account's
 * sessions. Anyone else is refused with {@code forbidden} before anything is read. Lists come in
 * bounded pages with a cursor ({@link #PAGE_MAX}).
 */
public final class Admin {
    public static final int PAGE_DEFAULT = 50, PAGE_MAX = 100;
    /** A user-name prefix to search by, at most (the longest user name). */
    static final int PREFIX_MAX = 64;

    /**
     * A node as it reports itself.
     *
     * @param self        the node that answers
     * @param connections its WebSocket connections
     * @param reportedAt  epoch millis of the report (now, for {@code self})
     */
    public record Node(String id, boolean self, boolean ready, boolean draining, boolean database, boolean broker, boolean presence,
                       int connections, long startedAt, long reportedAt) {}

    /**
     * A room with how many are in it and how much it carried.
     *
     * @param members        its stored members; {@code online}: users connected to it now, on every node
     * @param lastSeq        the seq of its latest message or event
     * @param lastActivityAt epoch millis of that message or event; null if it has none (or retention removed it)
     */
    public record Room(String name, String kind, int members, int online, long lastSeq, long firstSeq, long createdAt, Long lastActivityAt) {}

    /** An account: {@code admin} if {@code CHAT_ADMINS} names it, {@code external} if an identity provider's user. */
    public record User(String username, boolean disabled, boolean bot, boolean external, boolean admin, long createdAt) {}

    /** One page, and the cursor of the next (null: the last page). */
    public record Page<T>(List<T> items, String next) {}

    private final Vertx vertx;
    private final AdminQueries queries;
    private final UserStore users;
    private final WebhookStore hooks;
    private final Presence presence;
    private final Sessions sessions;
    private final Predicate<String> isAdmin;
    private final Duration tokenTtl;
    private final Supplier<Future<List<Node>>> nodes;

    /** @param nodes lists the cluster's nodes, this one first (the composition root knows their health) */
    public Admin(Vertx vertx, AdminQueries queries, UserStore users, WebhookStore hooks, Presence presence, Sessions sessions,
                 Predicate<String> isAdmin, Duration tokenTtl, Supplier<Future<List<Node>>> nodes) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.queries = requireNonNull(queries, "queries");
        this.users = requireNonNull(users, "users");
        this.hooks = requireNonNull(hooks, "hooks");
        this.presence = requireNonNull(presence, "presence");
        this.sessions = requireNonNull(sessions, "sessions");
        this.isAdmin = requireNonNull(isAdmin, "isAdmin");
        this.tokenTtl = requireNonNull(tokenTtl, "tokenTtl");
        this.nodes = requireNonNull(nodes, "nodes");
    }

    /** Whether the user is one of the server's administrators. No I/O. */
    public boolean isAdmin(String user) {
        return user != null && isAdmin.test(user);
    }

    public Future<List<Node>> nodes(String user) {
        try {
            admin(user);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return nodes.get();
    }

    /** Rooms by name, with their stored members, who is online in each, their last seq and when it was written. */
    public Future<Page<Room>> rooms(String user, String cursor, Integer limit) {
        int n;
        try {
            admin(user);
            n = limit(limit);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> queries.rooms(cursor, n)).compose(rows -> {
            List<AdminQueries.RoomRow> shown = rows.size() > n ? rows.subList(0, n) : rows;
            String next = rows.size() > n ? shown.get(n - 1).name() : null;
            List<String> names = shown.stream().map(AdminQueries.RoomRow::name).toList();
            Future<Map<String, Integer>> online = names.isEmpty() ? Future.succeededFuture(Map.of()) : presence.listedCounts(names);
            return online.map(counts -> {
                List<Room> out = new ArrayList<>(shown.size());
                for (AdminQueries.RoomRow r : shown) {
                    out.add(new Room(r.name(), r.kind(), r.members(), counts.getOrDefault(r.name(), 0), r.lastSeq(), r.firstSeq(), r.createdAt(),
                            r.lastActivityAt()));
                }
                return new Page<>(out, next);
            });
        });
    }

    /** Accounts by name (bots included), those starting with {@code prefix} (any case) if given. */
    public Future<Page<User>> users(String user, String prefix, String cursor, Integer limit) {
        int n;
        try {
            admin(user);
            n = limit(limit);
            if (prefix != null && prefix.length() > PREFIX_MAX) throw ChatException.badRequest("prefix must be at most " + PREFIX_MAX + " characters");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        String p = prefix == null || prefix.isEmpty() ? null : prefix;
        return blocking(() -> {
            List<AdminQueries.UserRow> rows = queries.users(p, cursor, n);
            List<AdminQueries.UserRow> shown = rows.size() > n ? rows.subList(0, n) : rows;
            List<User> out = new ArrayList<>(shown.size());
            for (AdminQueries.UserRow r : shown) out.add(new User(r.username(), r.disabled(), r.bot(), r.external(), isAdmin.test(r.username()), r.createdAt()));
            return new Page<>(out, rows.size() > n ? Sessions.key(shown.get(n - 1).username()) : null);
        });
    }

    /** Every room's webhooks, oldest first, with how their deliveries fare; with {@code troubled}, the failing and disabled only. */
    public Future<Page<Webhooks.View>> webhooks(String user, boolean troubled, String cursor, Integer limit) {
        int n;
        try {
            admin(user);
            n = limit(limit);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            List<WebhookStore.Webhook> rows = hooks.page(cursor, n, troubled);
            List<WebhookStore.Webhook> shown = rows.size() > n ? rows.subList(0, n) : rows;
            List<Webhooks.View> out = new ArrayList<>(shown.size());
            for (WebhookStore.Webhook w : shown) out.add(Webhooks.view(w));
            return new Page<>(out, rows.size() > n ? shown.get(n - 1).id() : null);
        });
    }

    /**
     * Ends every session of the account, as its own "log out everywhere" would: every token and
     * browser session issued until now is refused on every node within a second, and its open
     * connections are closed (4003). The account stays usable: its owner may sign in again.
     */
    public Future<Void> revokeSessions(String user, String username) {
        try {
            admin(user);
            if (username == null || username.isBlank() || username.length() > TokenService.MAX_SUBJECT_LENGTH) {
                throw ChatException.notFound("no account " + username);
            }
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            if (users.find(username).filter(u -> !u.deleted()).isEmpty()) throw ChatException.notFound("no account " + username);
            long now = System.currentTimeMillis();
            sessions.revoke(new Revocation(0, Sessions.SESSIONS, username, null, null, now, now + tokenTtl.toMillis()));
            return null;
        });
    }

    private void admin(String user) {
        if (!isAdmin(user)) throw new ChatException(ErrorCode.FORBIDDEN, "only an administrator of the server may use /api/admin");
    }

    private static int limit(Integer limit) {
        if (limit == null) return PAGE_DEFAULT;
        if (limit < 1 || limit > PAGE_MAX) throw ChatException.badRequest("limit must be 1 to " + PAGE_MAX);
        return limit;
    }

    private <T> Future<T> blocking(Callable<T> work) {
        return Blocking.run(vertx, work).recover(ChatService::translate);
    }
}
