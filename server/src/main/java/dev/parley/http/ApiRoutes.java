package dev.parley.http;

import dev.parley.auth.TokenService;
import dev.parley.chat.Admin;
import dev.parley.chat.Bots;
import dev.parley.chat.ChatException;
import dev.parley.chat.ChatService;
import dev.parley.chat.Webhooks;
import dev.parley.chat.ErrorCode;
import dev.parley.chat.HistoryPage;
import dev.parley.chat.Limits;
import dev.parley.chat.Search;
import dev.parley.event.Message;
import dev.parley.event.MessageJson;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The {@code /api} routes of PROTOCOL.md section 3. Every route but register, login, limits and
 * refresh needs a bearer token (logout takes the browser's refresh cookie instead of one).
 */
final class ApiRoutes {
    static final String USER = "parley.user";
    /** The verified token of the request: account routes revoke it or keep it. */
    static final String IDENTITY = "parley.identity";

    /**
     * Every API path, with the methods it takes. The router finds a 405 by itself only where no route
     * took the request: under {@code /api/} the token check and the 404 for unknown paths take every method.
     */
    private static final List<Map.Entry<Pattern, List<String>>> PATHS = List.of(
            Map.entry(Pattern.compile("/api/auth/(register|login)"), List.of("POST")),
            Map.entry(Pattern.compile("/api/limits"), List.of("GET", "HEAD")),
            Map.entry(Pattern.compile("/api/auth/(logout|password|refresh|ticket)"), List.of("POST")),
            Map.entry(Pattern.compile("/api/auth/account"), List.of("DELETE")),
            Map.entry(Pattern.compile("/api/admin/users/[^/]+/disabled"), List.of("PUT", "DELETE")),
            Map.entry(Pattern.compile("/api/admin/(nodes|rooms|users|webhooks)"), List.of("GET", "HEAD")),
            Map.entry(Pattern.compile("/api/admin/users/[^/]+/sessions/revoke"), List.of("POST")),
            Map.entry(Pattern.compile("/api/admin/bots"), List.of("GET", "HEAD", "POST")),
            Map.entry(Pattern.compile("/api/admin/bots/[^/]+/keys"), List.of("GET", "HEAD", "POST")),
            Map.entry(Pattern.compile("/api/admin/bots/[^/]+/keys/[^/]+"), List.of("DELETE")),
            Map.entry(Pattern.compile("/api/admin/bots/[^/]+/keys/[^/]+/rotate"), List.of("POST")),
            Map.entry(Pattern.compile("/api/rooms"), List.of("GET", "HEAD", "POST")),
            Map.entry(Pattern.compile("/api/dms"), List.of("POST")),
            Map.entry(Pattern.compile("/api/search"), List.of("GET", "HEAD")),
            Map.entry(Pattern.compile("/api/rooms/[^/]+"), List.of("GET", "HEAD", "DELETE")),
            Map.entry(Pattern.compile("/api/rooms/[^/]+/messages"), List.of("GET", "HEAD", "POST")),
            Map.entry(Pattern.compile("/api/rooms/[^/]+/(presence|members|bans)"), List.of("GET", "HEAD")),
            Map.entry(Pattern.compile("/api/rooms/[^/]+/retention"), List.of("PUT")),
            Map.entry(Pattern.compile("/api/rooms/[^/]+/webhooks"), List.of("GET", "HEAD", "POST")),
            Map.entry(Pattern.compile("/api/rooms/[^/]+/webhooks/[^/]+"), List.of("DELETE")),
            Map.entry(Pattern.compile("/api/rooms/[^/]+/webhooks/[^/]+/enabled"), List.of("PUT")),
            Map.entry(Pattern.compile("/api/rooms/[^/]+/(members|bans)/[^/]+"), List.of("PUT", "DELETE")));

    private final ChatService chat;
    private final TokenService tokens;
    private final ChatMetrics metrics;
    private final ClientAddress clients;
    private final SessionRoutes sessionRoutes;
    private final RequestPace pace;
    private final BotRoutes botRoutes;
    private final Webhooks webhooks;
    private final Admin admin;

    ApiRoutes(ChatService chat, Webhooks webhooks, Admin admin, TokenService tokens, ChatMetrics metrics, ClientAddress clients) {
        this.chat = requireNonNull(chat, "chat");
        this.webhooks = requireNonNull(webhooks, "webhooks");
        this.admin = requireNonNull(admin, "admin");
        this.tokens = requireNonNull(tokens, "tokens");
        this.metrics = requireNonNull(metrics, "metrics");
        this.clients = requireNonNull(clients, "clients");
        this.pace = new RequestPace(chat.limits().apiRate(), metrics);
        this.sessionRoutes = new SessionRoutes(chat.browserSessions(), chat.accounts(), metrics, pace);
        this.botRoutes = new BotRoutes(chat.bots(), chat.posts(), metrics);
    }

    /**
     * Refuses a path with a {@code .} or {@code ..} segment, percent-encoded or not: the router
     * resolves them, while the API key's scope and the method check read the path as it was sent,
     * so a key scoped to room ops reached room lobby (and its posts, and search) through
     * {@code /api/rooms/ops/../lobby/messages}. No client of the API needs such a path.
     */
    private void plainPath(RoutingContext ctx) {
        for (String segment : ctx.request().path().split("/", -1)) {
            String s = segment.replace("%2e", ".").replace("%2E", ".");
            if (s.equals(".") || s.equals("..")) {
                HttpErrors.send(ctx, metrics, ChatException.badRequest("a path may not hold . or .. segments"));
                return;
            }
        }
        ctx.next();
    }

    void mount(Router router) {
        router.route("/api/*").handler(this::plainPath);
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(16 * 1024));
        router.post("/api/auth/register").handler(ctx -> credentials(ctx, true));
        router.post("/api/auth/login").handler(ctx -> credentials(ctx, false));
        // Open to all: a client needs the rules before it signs in, and they are in every refusal anyway.
        HttpRoutes.getOrHead(router, "/api/limits").handler(this::limits);
        // Before the token check: a method a path does not take is wrong whoever asks.
        router.route("/api/*").handler(this::methodAllowed);
        sessionRoutes.mountBeforeToken(router); // the browser's cookie stands in for a token there
        router.route("/api/*").handler(this::authenticate);
        router.route("/api/*").handler(botRoutes::inScope); // a bot's key: its rooms and actions only
        router.route("/api/*").handler(pace::admit);
        sessionRoutes.mountAfterToken(router);
        new AccountRoutes(chat.accounts(), sessionRoutes, metrics).mount(router);
        HttpRoutes.getOrHead(router, "/api/rooms/:room/messages").handler(this::messages);
        new RoomRoutes(chat.rooms(), chat::presence, metrics).mount(router);
        new SearchRoutes(chat.search(), metrics).mount(router);
        botRoutes.mount(router);
        new WebhookRoutes(webhooks, metrics).mount(router);
        new AdminApiRoutes(admin, metrics).mount(router);
        router.route("/api/*").handler(ctx -> HttpErrors.refuse(ctx.response(), metrics, ErrorCode.NOT_FOUND,
                "no such API route: " + ctx.request().method() + " " + ctx.request().path()));
    }

    private void methodAllowed(RoutingContext ctx) {
        String path = ctx.request().path();
        for (var p : PATHS) {
            if (!p.getKey().matcher(path).matches()) continue;
            if (p.getValue().contains(ctx.request().method().name())) {
                ctx.next();
            } else {
                String allow = String.join(", ", p.getValue());
                ctx.response().putHeader(HttpHeaders.ALLOW, allow);
                HttpErrors.refuse(ctx.response(), metrics, ErrorCode.METHOD_NOT_ALLOWED, path + " takes " + allow + " only");
            }
            return;
        }
        ctx.next();
    }

    private void credentials(RoutingContext ctx, boolean register) {
        // JSON only: a browser sends a form (or text/plain) from any site without asking, but JSON
        // only after a CORS preflight, which this server never grants; so another site's page
        // cannot make its visitors' browsers register accounts or guess passwords here.
        if (!json(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE))) {
            HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "the body must be JSON, sent with Content-Type: application/json"));
            return;
        }
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
        boolean cookie;
        try {
            cookie = SessionRoutes.wantsCookie(body);
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        String address = clients.of(ctx.request());
        Future<TokenService.Issued> issued = register
                ? chat.accounts().register(username, password, address)
                : chat.accounts().login(username, password, address);
        sessionRoutes.signedIn(ctx, register ? 201 : 200, issued, cookie);
    }

    /** Whether a Content-Type header names JSON: {@code application/json}, in any case, with parameters or not. */
    static boolean json(String contentType) {
        if (contentType == null) return false;
        int semicolon = contentType.indexOf(';');
        String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
        return type.equalsIgnoreCase("application/json");
    }

    /** PROTOCOL.md 3.5: the limits this server keeps, as configured, for clients to keep to instead of copies. */
    private void limits(RoutingContext ctx) {
        Limits l = chat.limits();
        JsonObject body = new JsonObject()
                .put("sendRate", number(l.sendRate()))
                .put("sendBurst", l.sendBurst())
                .put("typingRate", Limits.TYPING_PER_SECOND)
                .put("joinRate", number(l.join().rate()))
                .put("joinBurst", l.join().burst())
                .put("historyRate", number(l.history().rate()))
                .put("historyBurst", l.history().burst())
                .put("pingRate", number(Limits.PING.rate()))
                .put("pingBurst", Limits.PING.burst())
                .put("changeRate", number(Limits.CHANGE.rate()))
                .put("changeBurst", Limits.CHANGE.burst())
                .put("maxReactionsPerMessage", Limits.MAX_EMOJI_PER_MESSAGE)
                .put("refreshRate", number(Limits.REFRESH.rate()))
                .put("refreshBurst", Limits.REFRESH.burst())
                .put("readRate", number(Limits.READ.rate()))
                .put("readBurst", Limits.READ.burst())
                .put("maxInFlight", l.maxInFlight())
                .put("maxRoomsPerConnection", l.maxRoomsPerConnection())
                .put("maxRoomsPerUser", l.maxRoomsPerUser())
                .put("roomsPerHour", l.roomsPerHour())
                .put("apiRate", l.apiRate())
                .put("maxFrameBytes", l.maxFrameBytes())
                .put("maxTextLength", l.maxTextLength())
                .put("clientIdMaxLength", Limits.CLIENT_ID_MAX)
                .put("roomPattern", l.roomPattern())
                .put("roomNameMaxLength", l.roomNameMaxLength())
                .put("usernamePattern", l.usernamePattern())
                .put("passwordMinLength", l.passwordMin())
                .put("passwordMaxLength", l.passwordMax())
                .put("historyLimitDefault", Limits.HISTORY_DEFAULT)
                .put("historyLimitMax", Limits.HISTORY_MAX)
                .put("replayLimit", l.replayLimit())
                .put("searchRate", number(Search.RATE.rate()))
                .put("searchBurst", Search.RATE.burst())
                .put("searchQueryMaxLength", Search.QUERY_MAX)
                .put("searchWordsMax", Search.WORDS_MAX)
                .put("retentionDays", l.retentionDays())
                .put("retentionMessages", l.retentionMessages());
        // Settings change only with a restart, but then at once: a cache must ask again.
        ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
    }

    /** A whole number as one (20, not 20.0), for clients that print it. */
    private static Number number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? (Number) (long) d : (Number) d;
    }

    private void authenticate(RoutingContext ctx) {
        String auth = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        String token = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : null;
        if (Bots.isKey(token)) { // a bot's API key, never shown to TokenService
            chat.bots().authenticate(token).onComplete(ar -> {
                if (ar.failed()) {
                    HttpErrors.send(ctx, metrics, ar.cause());
                } else if (ar.result().isEmpty()) {
                    HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.UNAUTHORIZED, "the API key is unknown or revoked"));
                } else {
                    Bots.BotKey key = ar.result().get();
                    ctx.put(USER, key.bot());
                    ctx.put(IDENTITY, key.identity());
                    ctx.put(BotRoutes.KEY, key);
                    ctx.next();
                }
            });
            return;
        }
        chat.authenticate(token).onComplete(ar -> {
            if (ar.failed() || ar.result().isEmpty()) {
                HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.UNAUTHORIZED, "a valid bearer token is required"));
            } else {
                ctx.put(USER, ar.result().get().username());
                ctx.put(IDENTITY, ar.result().get());
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
            limit = l == null ? null : Math.clamp(l, Integer.MIN_VALUE, Integer.MAX_VALUE); // a cast could wrap into range
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        reply(ctx, 200, chat.history(ctx.get(USER), room, before, after, limit).map(page -> pageJson(room, page)));
    }

    static JsonObject pageJson(String room, HistoryPage page) {
        JsonArray messages = new JsonArray();
        for (Message m : page.messages()) messages.add(messageJson(m));
        return new JsonObject().put("room", room).put("messages", messages).put("hasMore", page.hasMore()).put("historyStart", page.historyStart());
    }

    /** A message object (PROTOCOL.md 2), as HTTP pages carry it: history and search results alike. */
    static JsonObject messageJson(Message m) {
        return MessageJson.of(m);
    }

    /** A query parameter that must be an integer when present; ChatService.history checks its range. */
    private static Long number(RoutingContext ctx, String name) {
        String raw = ctx.request().getParam(name);
        if (raw == null) return null;
        try {
            return Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw ChatException.badRequest(name + " must be an integer");
        }
    }

    static void reply(RoutingContext ctx, ChatMetrics metrics, int status, Future<?> result) {
        result.onComplete(ar -> {
            if (ar.failed()) {
                HttpErrors.send(ctx, metrics, ar.cause());
            } else if (!ctx.response().ended()) {
                Object body = ar.result();
                if (body == null) {
                    ctx.response().setStatusCode(status).end();
                    return;
                }
                String json = body instanceof JsonObject o ? o.encode() : ((JsonArray) body).encode();
                ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(json);
            }
        });
    }

    /** A token answer, as register and login give it. */
    static JsonObject tokenJson(TokenService.Issued t) {
        return new JsonObject().put("token", t.token()).put("username", t.username()).put("expiresAt", Message.formatTs(t.expiresAt().toEpochMilli()));
    }

    /** The verified identity of the request: a user's token, or a bot's key. */
    static TokenService.Identity identity(RoutingContext ctx) {
        return ctx.get(IDENTITY);
    }

    private void reply(RoutingContext ctx, int status, Future<?> result) {
        reply(ctx, metrics, status, result);
    }
}
