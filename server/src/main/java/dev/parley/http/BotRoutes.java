package dev.parley.http;

import dev.parley.chat.Bots;
import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;
import dev.parley.chat.Posts;
import dev.parley.event.Message;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The server API of bots (PROTOCOL.md, "Server API and bots"): the administrators' routes that make
 * bots and manage their keys, {@code POST /api/rooms/{room}/messages} for bots and users alike, and
 * {@link #inScope}, which keeps a request made with an API key to the key's rooms and actions.
 * Mounted after the token check, like every route but sign-in's.
 */
final class BotRoutes {
    /** The API key of the request, if it was made with one (else a user's token). */
    static final String KEY = "parley.key";

    private final Bots bots;
    private final Posts posts;
    private final ChatMetrics metrics;

    BotRoutes(Bots bots, Posts posts, ChatMetrics metrics) {
        this.bots = requireNonNull(bots, "bots");
        this.posts = requireNonNull(posts, "posts");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void mount(Router router) {
        router.post("/api/admin/bots").handler(this::create);
        HttpRoutes.getOrHead(router, "/api/admin/bots").handler(ctx -> reply(ctx, 200, bots.list(ApiRoutes.identity(ctx)).map(list -> {
            JsonArray out = new JsonArray();
            for (Bots.Bot b : list) out.add(botJson(b));
            return new JsonObject().put("bots", out);
        })));
        HttpRoutes.getOrHead(router, "/api/admin/bots/:bot/keys").handler(ctx -> reply(ctx, 200, bots.keys(ApiRoutes.identity(ctx), ctx.pathParam("bot")).map(list -> {
            JsonArray out = new JsonArray();
            for (Bots.KeyInfo k : list) out.add(keyJson(k));
            return new JsonObject().put("bot", ctx.pathParam("bot")).put("keys", out);
        })));
        router.post("/api/admin/bots/:bot/keys").handler(this::addKey);
        router.post("/api/admin/bots/:bot/keys/:key/rotate").handler(ctx -> reply(ctx, 201,
                bots.revoke(ApiRoutes.identity(ctx), ctx.pathParam("bot"), ctx.pathParam("key"), true).map(BotRoutes::newKeyJson)));
        router.delete("/api/admin/bots/:bot/keys/:key").handler(ctx -> reply(ctx, 204,
                bots.revoke(ApiRoutes.identity(ctx), ctx.pathParam("bot"), ctx.pathParam("key"), false).map(x -> null)));
        router.post("/api/rooms/:room/messages").handler(this::post);
    }

    private void create(RoutingContext ctx) {
        JsonObject body = HttpErrors.jsonBody(ctx, metrics);
        if (body == null) return;
        if (!(body.getValue("name") instanceof String name)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("name must be a string"));
            return;
        }
        Bots.Scope scope = scope(ctx, body);
        if (scope == null) return;
        reply(ctx, 201, bots.create(ApiRoutes.identity(ctx), name, scope).map(c -> new JsonObject()
                .put("bot", botJson(c.bot())).put("key", newKeyJson(c.key()))));
    }

    private void addKey(RoutingContext ctx) {
        JsonObject body = ctx.body().length() <= 0 ? new JsonObject() : HttpErrors.jsonBody(ctx, metrics);
        if (body == null) return;
        Bots.Scope scope = scope(ctx, body);
        if (scope == null) return;
        reply(ctx, 201, bots.addKey(ApiRoutes.identity(ctx), ctx.pathParam("bot"), scope).map(BotRoutes::newKeyJson));
    }

    /** {@code rooms}: {@code "*"} (or absent) for every room, or a list of names; {@code actions}: a list (absent: post and read). Null once a 400 is sent. */
    private Bots.Scope scope(RoutingContext ctx, JsonObject body) {
        try {
            Object rooms = body.getValue("rooms"), actions = body.getValue("actions");
            List<String> r = rooms == null || "*".equals(rooms) ? null : strings(rooms, "rooms must be \"*\" or a list of room names");
            List<String> a = actions == null ? null : strings(actions, "actions must be a list of post, read and manage");
            return bots.scope(r, a);
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return null;
        }
    }

    private static List<String> strings(Object value, String refusal) {
        if (!(value instanceof JsonArray array) || array.size() > Bots.MAX_KEY_ROOMS) throw ChatException.badRequest(refusal);
        List<String> out = new ArrayList<>();
        for (Object o : array) {
            if (!(o instanceof String s)) throw ChatException.badRequest(refusal);
            out.add(s);
        }
        return out;
    }

    /** As a WebSocket {@code send}: answered like its {@code ack}, 201 when stored now, 200 for a clientId stored before. */
    private void post(RoutingContext ctx) {
        JsonObject body = HttpErrors.jsonBody(ctx, metrics);
        if (body == null) return;
        if (!(body.getValue("text") instanceof String text) || !(body.getValue("clientId") instanceof String clientId)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("text and clientId must be strings"));
            return;
        }
        String room = ctx.pathParam("room");
        Bots.BotKey key = ctx.get(KEY);
        posts.post(ctx.get(ApiRoutes.USER), key != null, room, clientId, text).onComplete(ar -> {
            if (ar.failed()) {
                HttpErrors.send(ctx, metrics, ar.cause());
            } else if (!ctx.response().ended()) {
                ctx.response().setStatusCode(ar.result().duplicate() ? 200 : 201).putHeader("Content-Type", "application/json")
                        .end(ackJson(ar.result()).encode());
            }
        });
    }

    /** The fields of a WebSocket {@code ack}, as FrameCodec writes them. */
    static JsonObject ackJson(Posts.Posted p) {
        Message m = p.message();
        return new JsonObject().put("type", "ack").put("room", m.room()).put("clientId", m.clientId()).put("seq", m.seq())
                .put("id", m.id()).put("ts", m.ts());
    }

    // --- the scope of an API key ---

    private static final Pattern ROOM_PATH = Pattern.compile("/api/rooms/([^/]+)(/.*)?");

    /**
     * Lets a request made with an API key through only within the key's scope: {@code forbidden}
     * otherwise, before any route runs, whether the room exists or not (so it tells nothing of a
     * room). Within its scope the bot is a user like any: a private room it is no member of is
     * {@code not_found}, a room it does not moderate refuses what only moderators may do.
     */
    void inScope(RoutingContext ctx) {
        Bots.BotKey key = ctx.get(KEY);
        if (key == null) {
            ctx.next();
            return;
        }
        String path = ctx.request().path();
        String method = ctx.request().method().name();
        boolean read = method.equals("GET") || method.equals("HEAD");
        Bots.Action action;
        String room;
        Matcher m = ROOM_PATH.matcher(path);
        if (m.matches()) {
            room = URLDecoder.decode(m.group(1).replace("+", "%2B"), StandardCharsets.UTF_8);
            String rest = m.group(2) == null ? "" : m.group(2);
            if (rest.equals("/webhooks") || rest.startsWith("/webhooks/")) {
                // Not among a key's routes (PROTOCOL.md 3.8): a webhook would send the room's messages
                // wherever the key's holder likes, which a key without read may not see.
                HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.FORBIDDEN, "an API key may not use " + path));
                return;
            }
            if (rest.equals("/messages") && method.equals("POST")) action = Bots.Action.POST;
            else if (read) action = Bots.Action.READ;
            else action = Bots.Action.MANAGE; // DELETE the room, retention, members, bans
        } else if (path.equals("/api/rooms")) {
            action = read ? Bots.Action.READ : Bots.Action.MANAGE;
            room = read ? null : newRoomName(ctx);
        } else if (path.equals("/api/search")) {
            action = Bots.Action.READ;
            room = ctx.request().getParam("room");
        } else {
            // Accounts, sessions, direct messages, administration: a bot's key is for rooms only.
            HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.FORBIDDEN, "an API key may not use " + path));
            return;
        }
        if (key.scope().allows(action, room)) {
            ctx.next();
        } else {
            HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.FORBIDDEN, "this API key may not " + action.wire()
                    + (room == null ? " across rooms" : " in " + room)));
        }
    }

    /** The name a {@code POST /api/rooms} asks for, or null (the route then refuses the body). */
    private static String newRoomName(RoutingContext ctx) {
        try {
            JsonObject body = ctx.body().asJsonObject();
            return body != null && body.getValue("name") instanceof String s ? s : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    // --- JSON ---

    private static JsonObject botJson(Bots.Bot b) {
        return new JsonObject().put("name", b.name()).put("bot", true).put("createdAt", Message.formatTs(b.createdAt())).put("disabled", b.disabled());
    }

    static JsonObject keyJson(Bots.KeyInfo k) {
        JsonObject o = new JsonObject().put("id", k.id()).put("bot", k.bot()).put("prefix", k.prefix())
                .put("rooms", k.scope().rooms() == null ? "*" : new JsonArray(k.scope().rooms()))
                .put("actions", new JsonArray(k.scope().actions().stream().sorted().map(Bots.Action::wire).toList()))
                .put("createdAt", Message.formatTs(k.createdAt()));
        o.put("lastUsedAt", k.lastUsedAt() == null ? null : Message.formatTs(k.lastUsedAt()));
        return o;
    }

    private static JsonObject newKeyJson(Bots.NewKey k) {
        return keyJson(k.info()).put("key", k.key());
    }

    private void reply(RoutingContext ctx, int status, io.vertx.core.Future<?> result) {
        ApiRoutes.reply(ctx, metrics, status, result);
    }
}
