package dev.parley.http;

import dev.parley.chat.ChatException;
import dev.parley.chat.Rooms;
import dev.parley.event.Message;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

import static java.util.Objects.requireNonNull;

/** The room routes of PROTOCOL.md 3.3 but a room's messages and presence: rooms, direct rooms, members and bans. */
final class RoomRoutes {
    private final Rooms rooms;
    private final PageRead<String> presence;
    private final ChatMetrics metrics;

    /** @param presence who is online in a room, a page of it (ChatService: presence is not the store's) */
    RoomRoutes(Rooms rooms, PageRead<String> presence, ChatMetrics metrics) {
        this.rooms = requireNonNull(rooms, "rooms");
        this.presence = requireNonNull(presence, "presence");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void mount(Router router) {
        HttpRoutes.getOrHead(router, "/api/rooms").handler(this::list);
        router.post("/api/rooms").handler(this::create);
        router.post("/api/dms").handler(this::direct);
        HttpRoutes.getOrHead(router, "/api/rooms/:room").handler(ctx -> reply(ctx, 200, rooms.get(user(ctx), ctx.pathParam("room")).map(RoomRoutes::roomJson)));
        router.delete("/api/rooms/:room").handler(ctx -> reply(ctx, 204, rooms.delete(user(ctx), ctx.pathParam("room"))));
        HttpRoutes.getOrHead(router, "/api/rooms/:room/presence").handler(ctx -> roomPage(ctx, "users", presence, name -> name));
        HttpRoutes.getOrHead(router, "/api/rooms/:room/members").handler(this::members);
        router.put("/api/rooms/:room/members/:user").handler(this::putMember);
        router.delete("/api/rooms/:room/members/:user").handler(ctx ->
                reply(ctx, 204, rooms.removeMember(user(ctx), ctx.pathParam("room"), ctx.pathParam("user"))));
        HttpRoutes.getOrHead(router, "/api/rooms/:room/bans").handler(this::bans);
        router.put("/api/rooms/:room/retention").handler(this::retention);
        router.put("/api/rooms/:room/bans/:user").handler(this::ban);
        router.delete("/api/rooms/:room/bans/:user").handler(ctx ->
                reply(ctx, 204, rooms.unban(user(ctx), ctx.pathParam("room"), ctx.pathParam("user"))));
    }

    private void list(RoutingContext ctx) {
        Integer limit;
        try {
            limit = integer(ctx, "limit");
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        String prefix = ctx.request().getParam("prefix"), kind = ctx.request().getParam("kind");
        Future<JsonArray> page = rooms.list(user(ctx), ctx.request().getParam("cursor"), limit, prefix, kind).map(p -> {
            if (p.next() != null) {
                // The next page: this request's filters, after the last room of this one.
                StringBuilder next = new StringBuilder("/api/rooms?limit=").append(limit == null ? p.items().size() : limit)
                        .append("&cursor=").append(encode(p.next()));
                if (prefix != null) next.append("&prefix=").append(encode(prefix));
                if (kind != null) next.append("&kind=").append(encode(kind));
                ctx.response().putHeader("Link", "<" + next + ">; rel=\"next\"");
            }
            JsonArray out = new JsonArray();
            for (Rooms.RoomView r : p.items()) out.add(roomJson(r));
            return out;
        });
        page.onComplete(ar -> {
            if (ar.failed()) {
                HttpErrors.send(ctx, metrics, ar.cause());
                return;
            }
            // Clients list rooms every few seconds and the list seldom changes: with the ETag of what
            // they have, an unchanged page is a 304 without a body (PROTOCOL.md 3.3).
            String body = ar.result().encode();
            String tag = etag(body + "\n" + ctx.response().headers().get("Link"));
            ctx.response().putHeader(HttpHeaders.ETAG, tag).putHeader(HttpHeaders.CACHE_CONTROL, "private, no-cache");
            if (matches(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH), tag)) {
                ctx.response().setStatusCode(304).end();
            } else {
                ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body);
            }
        });
    }

    /** A strong ETag of the answer: 128 bits of its SHA-256, in base64url. */
    static String etag(String answer) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(answer.getBytes(StandardCharsets.UTF_8));
            return "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(h, 16)) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether an If-None-Match header names the tag (RFC 9110 13.1.2: weak comparison, or {@code *}). */
    static boolean matches(String ifNoneMatch, String tag) {
        if (ifNoneMatch == null) return false;
        for (String t : ifNoneMatch.split(",")) {
            String v = t.strip();
            if (v.startsWith("W/")) v = v.substring(2);
            if (v.equals("*") || v.equals(tag)) return true;
        }
        return false;
    }

    private void create(RoutingContext ctx) {
        JsonObject body = object(ctx);
        if (body == null) return;
        if (!(body.getValue("name") instanceof String name) || !(body.getValue("visibility") instanceof String visibility)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("name and visibility must be strings"));
            return;
        }
        Object topic = body.getValue("topic");
        if (topic != null && !(topic instanceof String)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("topic must be a string"));
            return;
        }
        reply(ctx, 201, rooms.create(user(ctx), name, visibility, (String) topic).map(m -> roomJson(m.value())));
    }

    private void direct(RoutingContext ctx) {
        JsonObject body = object(ctx);
        if (body == null) return;
        if (!(body.getValue("user") instanceof String other)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("user must be a string"));
            return;
        }
        rooms.direct(user(ctx), other).onComplete(ar -> {
            if (ar.failed()) HttpErrors.send(ctx, metrics, ar.cause());
            else reply(ctx, ar.result().made() ? 201 : 200, Future.succeededFuture(roomJson(ar.result().value())));
        });
    }

    private void members(RoutingContext ctx) {
        roomPage(ctx, "members", rooms::members, RoomRoutes::memberJson);
    }

    /** How {@link #roomPage} reads a page: members, bans or presence. */
    interface PageRead<T> {
        Future<Rooms.Page<T>> page(String user, String room, String cursor, Integer limit);
    }

    /** A room's listing paged by username (members, bans, presence): {@code {"room", field: [...], "next"}}. */
    private <T> void roomPage(RoutingContext ctx, String field, PageRead<T> read, java.util.function.Function<T, Object> json) {
        Integer limit;
        try {
            limit = integer(ctx, "limit");
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        String room = ctx.pathParam("room");
        reply(ctx, 200, read.page(user(ctx), room, ctx.request().getParam("cursor"), limit).map(p -> {
            JsonArray items = new JsonArray();
            for (T item : p.items()) items.add(json.apply(item));
            return new JsonObject().put("room", room).put(field, items).put("next", p.next());
        }));
    }

    private void putMember(RoutingContext ctx) {
        JsonObject body = object(ctx);
        if (body == null) return;
        Object role = body.getValue("role");
        Object muted = body.getValue("mutedUntil");
        Long until;
        try {
            if (role != null && !(role instanceof String)) throw ChatException.badRequest("role must be a string");
            if (muted != null && !(muted instanceof String)) throw ChatException.badRequest("mutedUntil must be a timestamp or null");
            until = Rooms.timestamp("mutedUntil", (String) muted);
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        rooms.putMember(user(ctx), ctx.pathParam("room"), ctx.pathParam("user"), (String) role, body.containsKey("mutedUntil"), until).onComplete(ar -> {
            if (ar.failed()) HttpErrors.send(ctx, metrics, ar.cause());
            else reply(ctx, ar.result().made() ? 201 : 200, Future.succeededFuture(memberJson(ar.result().value())));
        });
    }

    private void bans(RoutingContext ctx) {
        roomPage(ctx, "bans", rooms::bans, b -> new JsonObject().put("user", b.user()).put("by", b.by()).put("reason", b.reason())
                .put("until", b.until() == null ? null : Message.formatTs(b.until())).put("at", Message.formatTs(b.at())));
    }

    private void ban(RoutingContext ctx) {
        // An empty body bans until lifted, without a reason.
        JsonObject body = ctx.body().length() <= 0 ? new JsonObject() : object(ctx);
        if (body == null) return;
        Object reason = body.getValue("reason"), until = body.getValue("until");
        Long u;
        try {
            if (reason != null && !(reason instanceof String)) throw ChatException.badRequest("reason must be a string");
            if (until != null && !(until instanceof String)) throw ChatException.badRequest("until must be a timestamp");
            u = Rooms.timestamp("until", (String) until);
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        reply(ctx, 204, rooms.ban(user(ctx), ctx.pathParam("room"), ctx.pathParam("user"), (String) reason, u));
    }

    /**
     * {@code PUT .../retention}: {@code days} and {@code messages}, each a whole number, or null or
     * absent for the server's default (PROTOCOL.md 3.3, retention).
     */
    private void retention(RoutingContext ctx) {
        JsonObject body = object(ctx);
        if (body == null) return;
        Long days, messages;
        try {
            days = wholeNumber(body, "days");
            messages = wholeNumber(body, "messages");
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        reply(ctx, 200, rooms.setRetention(user(ctx), ctx.pathParam("room"), days, messages).map(r ->
                new JsonObject().put("room", r.room()).put("days", r.days()).put("messages", r.messages())));
    }

    /** A field that must be a whole number or null; one past a long is as far out of range as any. */
    private static Long wholeNumber(JsonObject body, String field) {
        Object v = body.getValue(field);
        if (v == null) return null;
        if (v instanceof Integer || v instanceof Long) return ((Number) v).longValue();
        if (v instanceof java.math.BigInteger b) return b.signum() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        throw ChatException.badRequest(field + " must be a whole number, or null for the server's default");
    }

    static JsonObject roomJson(Rooms.RoomView r) {
        JsonObject o = new JsonObject().put("name", r.name()).put("kind", r.kind()).put("topic", r.topic()).put("role", r.role())
                .put("members", r.members());
        if (r.with() != null) o.put("with", r.with());
        o.put("lastSeq", r.lastSeq()).put("online", r.online()).put("historyStart", r.historyStart())
                .put("retention", new JsonObject().put("days", r.retentionDays()).put("messages", r.retentionMessages()));
        // The caller's read state as of lastSeq; a room they never joined has no marker (readSeq null).
        if (r.read() == null) return o.put("readSeq", null).put("unread", 0).put("mentions", 0);
        return o.put("readSeq", r.read().seq()).put("unread", r.read().unread()).put("mentions", r.read().mentions());
    }

    private static JsonObject memberJson(Rooms.MemberView m) {
        return new JsonObject().put("user", m.user()).put("role", m.role())
                .put("mutedUntil", m.mutedUntil() == null ? null : Message.formatTs(m.mutedUntil()));
    }

    private static String user(RoutingContext ctx) {
        return ctx.get(ApiRoutes.USER);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Integer integer(RoutingContext ctx, String name) {
        String raw = ctx.request().getParam(name);
        if (raw == null) return null;
        try {
            long l = Long.parseLong(raw.trim());
            return (int) Math.clamp(l, Integer.MIN_VALUE, Integer.MAX_VALUE);
        } catch (NumberFormatException e) {
            throw ChatException.badRequest(name + " must be an integer");
        }
    }

    /** The body as a JSON object, or null once a 400 has been sent. */
    private JsonObject object(RoutingContext ctx) {
        return HttpErrors.jsonBody(ctx, metrics);
    }

    private void reply(RoutingContext ctx, int status, Future<?> result) {
        ApiRoutes.reply(ctx, metrics, status, result);
    }
}
