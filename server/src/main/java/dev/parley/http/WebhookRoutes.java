package dev.parley.http;

import dev.parley.chat.ChatException;
import dev.parley.chat.Webhooks;
import dev.parley.event.Message;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/** A room's outgoing webhooks (PROTOCOL.md 3.3, webhooks): register, list, delete, re-enable. */
final class WebhookRoutes {
    private final Webhooks webhooks;
    private final ChatMetrics metrics;

    WebhookRoutes(Webhooks webhooks, ChatMetrics metrics) {
        this.webhooks = requireNonNull(webhooks, "webhooks");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void mount(Router router) {
        router.post("/api/rooms/:room/webhooks").handler(this::create);
        HttpRoutes.getOrHead(router, "/api/rooms/:room/webhooks").handler(ctx -> {
            String room = ctx.pathParam("room");
            ApiRoutes.reply(ctx, metrics, 200, webhooks.list(user(ctx), room).map(list -> {
                JsonArray out = new JsonArray();
                for (Webhooks.View v : list) out.add(json(v));
                return new JsonObject().put("room", room).put("webhooks", out);
            }));
        });
        router.delete("/api/rooms/:room/webhooks/:id").handler(ctx ->
                ApiRoutes.reply(ctx, metrics, 204, webhooks.delete(user(ctx), ctx.pathParam("room"), ctx.pathParam("id"))));
        router.put("/api/rooms/:room/webhooks/:id/enabled").handler(ctx ->
                ApiRoutes.reply(ctx, metrics, 200, webhooks.enable(user(ctx), ctx.pathParam("room"), ctx.pathParam("id")).map(WebhookRoutes::json)));
    }

    /** {@code {"url": "https://...", "events": ["message", ...]}}: {@code events} absent takes every kind. */
    private void create(RoutingContext ctx) {
        JsonObject body = HttpErrors.jsonBody(ctx, metrics);
        if (body == null) return;
        List<String> events = null;
        try {
            if (!(body.getValue("url") instanceof String)) throw ChatException.badRequest("url must be a string");
            Object e = body.getValue("events");
            if (e != null) {
                if (!(e instanceof JsonArray array) || array.size() > 20) throw ChatException.badRequest("events must be an array of kinds of event");
                events = new ArrayList<>();
                for (Object k : array) {
                    if (!(k instanceof String s)) throw ChatException.badRequest("events must be an array of strings");
                    events.add(s);
                }
            }
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        ApiRoutes.reply(ctx, metrics, 201, webhooks.create(user(ctx), ctx.pathParam("room"), body.getString("url"), events)
                .map(c -> json(c.webhook()).put("secret", c.secret())));
    }

    static JsonObject json(Webhooks.View v) {
        return new JsonObject().put("id", v.id()).put("room", v.room()).put("url", v.url()).put("events", new JsonArray(v.events()))
                .put("status", v.status()).put("failures", v.failures()).put("lastError", v.lastError())
                .put("lastAttemptAt", ts(v.lastAttemptAt())).put("lastDeliveredAt", ts(v.lastDeliveredAt())).put("lastDeliveredSeq", v.lastDeliveredSeq())
                .put("nextAttemptAt", ts(v.nextAttemptAt())).put("createdBy", v.createdBy()).put("createdAt", Message.formatTs(v.createdAt()));
    }

    private static String ts(Long millis) {
        return millis == null ? null : Message.formatTs(millis);
    }

    private static String user(RoutingContext ctx) {
        return ctx.get(ApiRoutes.USER);
    }
}
