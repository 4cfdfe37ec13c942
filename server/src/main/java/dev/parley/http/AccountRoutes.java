package dev.parley.http;

import dev.parley.auth.TokenService;
import dev.parley.chat.Accounts;
import dev.parley.chat.ChatException;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import static java.util.Objects.requireNonNull;

/**
 * The account routes of PROTOCOL.md 3.2 that need a token: logout, password, account deletion, and
 * the admins' disabling of accounts. Mounted after the token check; the body limit (16 KiB) and the
 * method check of {@link ApiRoutes} apply to them as to every route.
 */
final class AccountRoutes {
    private final Accounts accounts;
    private final SessionRoutes sessions;
    private final ChatMetrics metrics;

    AccountRoutes(Accounts accounts, SessionRoutes sessions, ChatMetrics metrics) {
        this.accounts = requireNonNull(accounts, "accounts");
        this.sessions = requireNonNull(sessions, "sessions");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void mount(Router router) {
        router.post("/api/auth/logout").handler(this::logout);
        router.post("/api/auth/password").handler(this::password);
        router.delete("/api/auth/account").handler(this::deleteAccount);
        router.put("/api/admin/users/:user/disabled").handler(ctx -> disabled(ctx, true));
        router.delete("/api/admin/users/:user/disabled").handler(ctx -> disabled(ctx, false));
    }

    private void logout(RoutingContext ctx) {
        // An empty body is a logout of this token; {"all":true} of every token of the user.
        JsonObject body = ctx.body().length() <= 0 ? new JsonObject() : object(ctx);
        if (body == null) return;
        Object all = body.containsKey("all") ? body.getValue("all") : Boolean.FALSE;
        if (!(all instanceof Boolean everywhere)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("all must be true or false"));
            return;
        }
        SessionRoutes.clearCookie(ctx); // a browser's session ends with its token's (Accounts.logout)
        ApiRoutes.reply(ctx, metrics, 204, accounts.logout(identity(ctx), everywhere));
    }

    private void password(RoutingContext ctx) {
        JsonObject body = object(ctx);
        if (body == null) return;
        if (!(body.getValue("current") instanceof String current) || !(body.getValue("new") instanceof String next)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("current and new must be strings"));
            return;
        }
        boolean cookie;
        try {
            cookie = SessionRoutes.wantsCookie(body);
        } catch (ChatException e) {
            HttpErrors.send(ctx, metrics, e);
            return;
        }
        // A browser's session was of the old password: with "session":"cookie" it gets a new one.
        sessions.signedIn(ctx, 200, accounts.changePassword(identity(ctx), current, next), cookie);
    }

    private void deleteAccount(RoutingContext ctx) {
        JsonObject body = object(ctx);
        if (body == null) return;
        if (!(body.getValue("password") instanceof String password)) {
            HttpErrors.send(ctx, metrics, ChatException.badRequest("password must be a string"));
            return;
        }
        ApiRoutes.reply(ctx, metrics, 204, accounts.delete(identity(ctx), password));
    }

    private void disabled(RoutingContext ctx, boolean disabled) {
        ApiRoutes.reply(ctx, metrics, 204, accounts.setDisabled(identity(ctx), ctx.pathParam("user"), disabled));
    }

    private static TokenService.Identity identity(RoutingContext ctx) {
        return ctx.get(ApiRoutes.IDENTITY);
    }

    /** The body as a JSON object, or null once a 400 has been sent. */
    private JsonObject object(RoutingContext ctx) {
        return HttpErrors.jsonBody(ctx, metrics);
    }
}
