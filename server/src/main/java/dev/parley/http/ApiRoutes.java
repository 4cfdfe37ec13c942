package dev.parley.http;

import dev.parley.auth.TokenService;
import dev.parley.chat.ChatException;
import dev.parley.chat.ChatService;
import dev.parley.chat.ErrorCode;
import dev.parley.event.Message;
import dev.parley.metrics.ChatMetrics;
import dev.parley.store.MessageStore;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/** The {@code /api} routes of PROTOCOL.md section 1. Every route but register and login needs a bearer token. */
final class ApiRoutes {
    static final String USER = "parley.user";

    private final ChatService chat;
    private final TokenService tokens;
    private final ChatMetrics metrics;

    ApiRoutes(ChatService chat, TokenService tokens, ChatMetrics metrics) {
        this.chat = requireNonNull(chat, "chat");
        this.tokens = requireNonNull(tokens, "tokens");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void mount(Router router) {
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(16 * 1024));
        router.post("/api/auth/register").handler(ctx -> credentials(ctx, true));
        router.post("/api/auth/login").handler(ctx -> credentials(ctx, false));
        router.route("/api/*").handler(this::authenticate);
        router.get("/api/rooms").handler(ctx -> reply(ctx, 200, chat.rooms().map(rooms -> {
            JsonArray out = new JsonArray();
            for (var r : rooms) out.add(new JsonObject().put("name", r.name()).put("lastSeq", r.lastSeq()).put("online", r.online()));
            return out;
        })));
        router.get("/api/rooms/:room/messages").handler(this::messages);
        router.get("/api/rooms/:room/presence").handler(ctx -> {
            String room = ctx.pathParam("room");
            reply(ctx, 200, chat.presence(room).map(users -> new JsonObject().put("room", room).put("users", new JsonArray(users))));
        });
        router.route("/api/*").handler(ctx -> HttpErrors.write(ctx, 404, "not_found", "no such API route: " + ctx.request().method() + " " + ctx.request().path()));
    }

    private void credentials(RoutingContext ctx, boolean register) {
        JsonObject body;
        try {
            body = ctx.body().asJsonObject();
        } catch (RuntimeException e) {
            body = null;
        }
        if (body == null) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("the body must be a JSON object with username and password"));
            return;
        }
        Object u = body.getValue("username"), p = body.getValue("password");
        if (!(u instanceof String username) || !(p instanceof String password)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("username and password must be strings"));
            return;
        }
        Future<TokenService.Issued> issued = register ? chat.register(username, password) : chat.login(username, password);
        ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store"); // a token: no cache may keep it
        reply(ctx, register ? 201 : 200, issued.map(t -> new JsonObject()
                .put("token", t.token()).put("username", t.username()).put("expiresAt", Message.formatTs(t.expiresAt().toEpochMilli()))));
    }

    private void authenticate(RoutingContext ctx) {
        String auth = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        String token = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : null;
        chat.authenticate(token).onComplete(ar -> {
            if (ar.failed() || ar.result().isEmpty()) {
                HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.UNAUTHORIZED, "a valid bearer token is required"));
            } else {
                ctx.put(USER, ar.result().get().username());
                ctx.next();
            }
        });
    }

    private void messages(RoutingContext ctx) {
        String room = ctx.pathParam("room");
        Long before, after;
        Integer limit;
        try {
            before = number(ctx, "before");
            after = number(ctx, "after");
            Long l = number(ctx, "limit");
            limit = l == null ? null : (int) Math.min(Integer.MAX_VALUE, l);
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        reply(ctx, 200, chat.history(room, before, after, limit).map(page -> pageJson(room, page)));
    }

    static JsonObject pageJson(String room, MessageStore.Page page) {
        JsonArray messages = new JsonArray();
        for (Message m : page.messages()) {
            messages.add(new JsonObject().put("type", "message").put("room", m.room()).put("seq", m.seq()).put("id", m.id())
                    .put("from", m.from()).put("text", m.text()).put("ts", m.ts()).put("clientId", m.clientId()));
        }
        return new JsonObject().put("room", room).put("messages", messages).put("hasMore", page.hasMore());
    }

    /** A query parameter that must be a positive integer when present. */
    private static Long number(RoutingContext ctx, String name) {
        String raw = ctx.request().getParam(name);
        if (raw == null) return null;
        try {
            long v = Long.parseLong(raw.trim());
            if (v < 1) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw ChatException.badRequest(name + " must be a positive integer");
        }
    }

    private void reply(RoutingContext ctx, int status, Future<?> result) {
        result.onComplete(ar -> {
            if (ar.failed()) {
                HttpErrors.send(ctx, metrics, ar.cause());
            } else if (!ctx.response().ended()) {
                Object body = ar.result();
                String json = body instanceof JsonObject o ? o.encode() : ((JsonArray) body).encode();
                ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(json);
            }
        });
    }
}
