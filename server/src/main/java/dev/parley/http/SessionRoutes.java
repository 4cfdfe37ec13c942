package dev.parley.http;

import dev.parley.auth.TokenService;
import dev.parley.chat.BrowserSessions;
import dev.parley.chat.Accounts;
import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;
import dev.parley.event.Message;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.Future;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.time.Instant;

import static java.util.Objects.requireNonNull;

/**
 * The browser's side of signing in (PROTOCOL.md 3.2): the refresh cookie that register, login and a
 * password change set when asked for {@code "session": "cookie"}, {@code POST /api/auth/refresh}
 * that renews the access token with it, a logout by the cookie alone, and {@code POST
 * /api/auth/ticket} that hands out WebSocket tickets (to any client with a bearer token).
 *
 * <p>The cookie is {@code HttpOnly} (no script reads it), {@code SameSite=Strict} (no other site's
 * page sends it), on {@code Path=/api/auth} (no other route sees it), and {@code Secure} when the
 * browser reached us over https: TLS on this socket, or a proxy in front that says so with
 * {@code X-Forwarded-Proto} or {@code Forwarded} (deploy/nginx.conf does). Plain http (a laptop, a LAN)
 * gets a cookie without {@code Secure}, which browsers would otherwise refuse to keep.
 *
 * <p>The routes that act on the cookie alone (refresh, logout) take only a JSON content type, which
 * a page of another site cannot send without a CORS preflight that this server never grants, so
 * that even a browser that sends the cookie cross-site gives nothing away.
 */
final class SessionRoutes {
    static final String COOKIE = "parley_refresh";
    static final String COOKIE_PATH = "/api/auth";

    private final BrowserSessions browser;
    private final Accounts accounts;
    private final ChatMetrics metrics;
    private final RequestPace pace;

    SessionRoutes(BrowserSessions browser, Accounts accounts, ChatMetrics metrics, RequestPace pace) {
        this.browser = requireNonNull(browser, "browser");
        this.accounts = requireNonNull(accounts, "accounts");
        this.metrics = requireNonNull(metrics, "metrics");
        this.pace = requireNonNull(pace, "pace");
    }

    /** The routes that take no bearer token: mounted before the token check. */
    void mountBeforeToken(Router router) {
        router.post("/api/auth/refresh").handler(this::refresh);
        // A logout with no Authorization header is judged by the cookie; with one, by the token (AccountRoutes).
        router.post("/api/auth/logout").handler(ctx -> {
            if (ctx.request().getHeader(HttpHeaders.AUTHORIZATION) == null && ctx.request().getCookie(COOKIE) != null) logout(ctx);
            else ctx.next();
        });
    }

    /** The routes that take a bearer token: mounted after the token check. */
    void mountAfterToken(Router router) {
        router.post("/api/auth/ticket").handler(this::ticket);
    }

    /**
     * Whether a sign-in's body asks for a browser session ({@code "session": "cookie"}) rather than a
     * bearer token (no {@code session}, or {@code "bearer"}).
     *
     * @throws ChatException bad_request for any other value
     */
    static boolean wantsCookie(JsonObject body) {
        Object s = body.getValue("session");
        if (s == null || "bearer".equals(s)) return false;
        if ("cookie".equals(s)) return true;
        throw ChatException.badRequest("session must be \"cookie\" or \"bearer\"");
    }

    /**
     * Answers a sign-in: with {@code cookie}, the token it issued is exchanged for a browser session,
     * whose refresh token goes into the cookie and whose access token into the body; else the token
     * itself, as every client has always been answered.
     */
    void signedIn(RoutingContext ctx, int status, Future<TokenService.Issued> issued, boolean cookie) {
        ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store"); // a token: no cache may keep it
        if (!cookie) {
            ApiRoutes.reply(ctx, metrics, status, issued.map(ApiRoutes::tokenJson));
            return;
        }
        ApiRoutes.reply(ctx, metrics, status, issued.map(t -> session(ctx, browser.start(t))));
    }

    private void refresh(RoutingContext ctx) {
        ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        if (!jsonRequest(ctx)) return;
        Cookie c = ctx.request().getCookie(COOKIE);
        TokenService.Session s;
        try {
            TokenService.Identity id = browser.session(c == null ? null : c.getValue()).orElseThrow(BrowserSessions::unauthorized);
            // Before the token check, so the API rate is applied here, by the cookie's user: each
            // refresh signs two tokens on the event loop.
            if (!pace.admitted(ctx, id.username())) return;
            s = browser.renew(id);
        } catch (ChatException e) {
            if (c != null) clearCookie(ctx); // spent: the browser need not send it again
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        ApiRoutes.reply(ctx, metrics, 200, Future.succeededFuture(session(ctx, s)));
    }

    /** A logout by the cookie (PROTOCOL.md 3.2): revokes its session, or with {@code all} every session of its user. */
    private void logout(RoutingContext ctx) {
        if (!jsonRequest(ctx)) return;
        JsonObject body;
        try {
            body = ctx.body().length() <= 0 ? new JsonObject() : ctx.body().asJsonObject();
        } catch (RuntimeException e) {
            body = null;
        }
        Object everywhere = body == null || !body.containsKey("all") ? Boolean.FALSE : body.getValue("all");
        if (body == null || !(everywhere instanceof Boolean all)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("the body must be empty or a JSON object with a boolean all"));
            return;
        }
        var session = browser.session(ctx.request().getCookie(COOKIE).getValue());
        if (session.isPresent() && !pace.admitted(ctx, session.get().username())) return; // the session stays
        clearCookie(ctx); // after reading it: Vert.x keeps the request's cookies and the answer's in one jar
        if (session.isEmpty()) {
            HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.UNAUTHORIZED, "no valid session"));
            return;
        }
        ApiRoutes.reply(ctx, metrics, 204, accounts.logout(session.get(), all));
    }

    private void ticket(RoutingContext ctx) {
        TokenService.Issued t = browser.ticket(ctx.get(ApiRoutes.IDENTITY));
        ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        ApiRoutes.reply(ctx, metrics, 200, Future.succeededFuture(new JsonObject()
                .put("ticket", t.token()).put("expiresAt", Message.formatTs(t.expiresAt().toEpochMilli()))));
    }

    /** Sets the session's refresh cookie and answers its access token, as a token answer with the session's end. */
    private static JsonObject session(RoutingContext ctx, TokenService.Session s) {
        long maxAge = Math.max(0, Duration.between(Instant.now(), s.refresh().expiresAt()).toSeconds());
        ctx.response().addCookie(cookie(ctx.request(), s.refresh().token(), maxAge));
        return ApiRoutes.tokenJson(s.access()).put("sessionExpiresAt", Message.formatTs(s.refresh().expiresAt().toEpochMilli()));
    }

    /** Tells the browser to forget the cookie: every logout's answer does. */
    static void clearCookie(RoutingContext ctx) {
        ctx.response().addCookie(cookie(ctx.request(), "", 0));
    }

    private static Cookie cookie(HttpServerRequest req, String value, long maxAgeSeconds) {
        return Cookie.cookie(COOKIE, value)
                .setPath(COOKIE_PATH)
                .setMaxAge(maxAgeSeconds)
                .setHttpOnly(true)
                .setSameSite(CookieSameSite.STRICT)
                .setSecure(https(req));
    }

    /** Whether the browser reached us over https: on this socket, or as the proxy in front says (the first hop's word). */
    static boolean https(HttpServerRequest req) {
        if (req.isSSL()) return true;
        String proto = req.getHeader("X-Forwarded-Proto");
        if (proto != null) return first(proto).equalsIgnoreCase("https");
        String forwarded = req.getHeader("Forwarded");
        if (forwarded == null) return false;
        for (String pair : first(forwarded).split(";")) {
            String[] kv = pair.trim().split("=", 2);
            if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("proto")) return kv[1].trim().replace("\"", "").equalsIgnoreCase("https");
        }
        return false;
    }

    private static String first(String header) {
        int comma = header.indexOf(',');
        return (comma < 0 ? header : header.substring(0, comma)).trim();
    }

    /** Whether the request's body is declared JSON (ApiRoutes.json); a 415 has been sent if not. */
    private boolean jsonRequest(RoutingContext ctx) {
        if (ApiRoutes.json(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE))) return true;
        HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                ctx.request().path() + " takes Content-Type: application/json only"));
        return false;
    }
}
