package dev.parley.http;

import dev.parley.chat.Admin;
import dev.parley.chat.ChatException;
import dev.parley.event.Message;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * The server administrators' overview (PROTOCOL.md 3.9), behind the web client's admin page: the
 * cluster's nodes, every room, every account, every webhook, and revoking an account's sessions.
 * Mounted after the token check and the request pace, like every API route; {@link Admin} refuses
 * anyone not in {@code CHAT_ADMINS} with {@code forbidden}, and a bot's key never gets this far
 * ({@code BotRoutes.inScope}). (Not {@link AdminRoutes}: that is the router of the admin listener.)
 */
final class AdminApiRoutes {
    private final Admin admin;
    private final ChatMetrics metrics;

    AdminApiRoutes(Admin admin, ChatMetrics metrics) {
        this.admin = requireNonNull(admin, "admin");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void mount(Router router) {
        HttpRoutes.getOrHead(router, "/api/admin/nodes").handler(ctx -> ApiRoutes.reply(ctx, metrics, 200, admin.nodes(user(ctx)).map(list -> {
            JsonArray out = new JsonArray();
            for (Admin.Node n : list) out.add(nodeJson(n));
            return new JsonObject().put("nodes", out);
        })));
        HttpRoutes.getOrHead(router, "/api/admin/rooms").handler(ctx -> page(ctx, "rooms", "/api/admin/rooms?",
                limit -> admin.rooms(user(ctx), cursor(ctx), limit), AdminApiRoutes::roomJson));
        HttpRoutes.getOrHead(router, "/api/admin/users").handler(ctx -> {
            String prefix = ctx.request().getParam("prefix");
            page(ctx, "users", "/api/admin/users?" + (prefix == null ? "" : "prefix=" + encode(prefix) + "&"),
                    limit -> admin.users(user(ctx), prefix, cursor(ctx), limit), AdminApiRoutes::userJson);
        });
        HttpRoutes.getOrHead(router, "/api/admin/webhooks").handler(ctx -> {
            String status = ctx.request().getParam("status");
            if (status != null && !status.equals("failing")) {
                HttpErrors.send(ctx, metrics, ChatException.badRequest("status must be failing (the failing and disabled webhooks), or absent for all"));
                return;
            }
            page(ctx, "webhooks", "/api/admin/webhooks?" + (status == null ? "" : "status=failing&"),
                    limit -> admin.webhooks(user(ctx), status != null, cursor(ctx), limit), WebhookRoutes::json);
        });
        router.post("/api/admin/users/:user/sessions/revoke").handler(ctx ->
                ApiRoutes.reply(ctx, metrics, 204, admin.revokeSessions(user(ctx), ctx.pathParam("user"))));
    }

    /** Answers {@code {"<field>": [...], "next": cursor}} with a {@code Link} to the next page when there is one. */
    private <T> void page(RoutingContext ctx, String field, String self, Function<Integer, Future<Admin.Page<T>>> read, Function<T, JsonObject> json) {
        Integer limit;
        try {
            limit = limit(ctx.request().getParam("limit"));
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        ApiRoutes.reply(ctx, metrics, 200, read.apply(limit).map(p -> {
            if (p.next() != null) {
                String next = self + (limit == null ? "" : "limit=" + limit + "&") + "cursor=" + encode(p.next());
                ctx.response().putHeader("Link", "<" + next + ">; rel=\"next\"");
            }
            JsonArray items = new JsonArray();
            for (T item : p.items()) items.add(json.apply(item));
            return new JsonObject().put(field, items).put("next", p.next());
        }));
    }

    private static JsonObject nodeJson(Admin.Node n) {
        return new JsonObject().put("id", n.id()).put("self", n.self()).put("status", n.ready() ? "UP" : "DOWN").put("draining", n.draining())
                .put("checks", new JsonObject().put("database", up(n.database())).put("broker", up(n.broker())).put("presence", up(n.presence())))
                .put("connections", n.connections()).put("startedAt", Message.formatTs(n.startedAt()))
                .put("reportedAt", Message.formatTs(n.reportedAt()));
    }

    private static JsonObject roomJson(Admin.Room r) {
        return new JsonObject().put("name", r.name()).put("kind", r.kind()).put("members", r.members()).put("online", r.online())
                .put("lastSeq", r.lastSeq()).put("historyStart", Math.max(1, r.firstSeq())).put("createdAt", Message.formatTs(r.createdAt()))
                .put("lastActivityAt", r.lastActivityAt() == null ? null : Message.formatTs(r.lastActivityAt()));
    }

    private static JsonObject userJson(Admin.User u) {
        return new JsonObject().put("username", u.username()).put("disabled", u.disabled()).put("bot", u.bot()).put("admin", u.admin())
                .put("external", u.external()).put("createdAt", Message.formatTs(u.createdAt()));
    }

    private static String up(boolean up) {
        return up ? "UP" : "DOWN";
    }

    private static Integer limit(String raw) {
        if (raw == null) return null;
        try {
            return (int) Math.clamp(Long.parseLong(raw.trim()), Integer.MIN_VALUE, Integer.MAX_VALUE); // Admin checks the range
        } catch (NumberFormatException e) {
            throw ChatException.badRequest("limit must be an integer");
        }
    }

    private static String cursor(RoutingContext ctx) {
        return ctx.request().getParam("cursor");
    }

    private static String user(RoutingContext ctx) {
        return ctx.get(ApiRoutes.USER);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
