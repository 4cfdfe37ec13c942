package dev.parley.http;

import dev.parley.auth.TokenService;
import dev.parley.chat.Admin;
import dev.parley.chat.ChatService;
import dev.parley.chat.Webhooks;
import dev.parley.config.ChatConfig;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds the router of the public port: every route of PROTOCOL.md section 1 but {@code /ws} (see
 * ChatServer) and {@code /metrics} (see {@link AdminRoutes}), the web client and the API docs
 * ({@code /openapi.yaml} for HTTP, {@code /asyncapi.yaml} for the WebSocket, {@code /docs}).
 */
public final class HttpRoutes {
    private static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/" + swaggerVersion();
    // The docs page runs no inline script (docs/init.js starts Swagger UI), but Swagger UI styles itself inline.
    private static final String CSP_DOCS = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            + "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private HttpRoutes() {}

    public static Router create(Vertx vertx, ChatConfig config, ChatService chat, Webhooks webhooks, Admin admin, TokenService tokens,
                                ChatMetrics metrics, Health health) {
        Router router = Router.router(vertx);
        String cspApp = appPolicy(config.allowedOrigins());
        router.route().handler(ctx -> {
            var h = ctx.response().headers();
            h.set("X-Content-Type-Options", "nosniff");
            h.set("Referrer-Policy", "no-referrer");
            h.set("Content-Security-Policy", ctx.request().path().startsWith("/docs") ? CSP_DOCS : cspApp);
            ctx.next();
        });
        new ApiRoutes(chat, webhooks, admin, tokens, metrics, new ClientAddress(config.trustedProxies())).mount(router);
        health.mount(router, false);
        getOrHead(router, "/openapi.yaml").handler(JarFiles.single(vertx, "/openapi.yaml", "openapi.yaml"));
        getOrHead(router, "/asyncapi.yaml").handler(JarFiles.single(vertx, "/asyncapi.yaml", "asyncapi.yaml"));
        if (config.apiDocs()) {
            getOrHead(router, "/docs").handler(ctx -> {
                // vertx-web matches "/docs/" on this route too: redirecting that would loop forever.
                if (ctx.request().path().endsWith("/")) ctx.next();
                else ctx.redirect("/docs/");
            });
            // Only the scripts, styles and images our page loads: the webjar's own pages (a stock
            // petstore index, an OAuth redirect page with an inline script) have no use on this origin.
            getOrHead(router, "/docs/assets/*").handler(ctx -> {
                if (ctx.request().path().endsWith(".html")) ctx.fail(404);
                else ctx.next();
            });
            getOrHead(router, "/docs/assets/*").handler(new JarFiles(vertx, "/docs/assets/", SWAGGER_UI, null));
            getOrHead(router, "/docs/*").handler(new JarFiles(vertx, "/docs/", "docs", "index.html"));
        } else {
            router.route("/docs*").handler(ctx -> ctx.fail(404)); // not the web client's index.html either
        }
        getOrHead(router, "/*").handler(new JarFiles(vertx, "/", "web", "index.html"));
        HttpErrors.routerRefusals(router, metrics);
        return router;
    }

    /**
     * The web client's policy: its own files only, no inline script or style, no string taken as
     * markup (Trusted Types), and connections to its
     * own origin ({@code 'self'}, which CSP Level 3 browsers extend to ws: and wss: on the same host)
     * plus the configured {@code CHAT_ALLOWED_ORIGINS}, each also as its WebSocket origin, for a page
     * that talks to nodes of another origin. {@code *} there opens {@code /ws} to pages of any origin; it
     * does not let this page connect anywhere.
     */
    static String appPolicy(List<String> allowedOrigins) {
        List<String> connect = new ArrayList<>(List.of("'self'"));
        for (String origin : allowedOrigins) {
            if (origin.equals("*")) continue;
            String o = origin.toLowerCase(Locale.ROOT);
            connect.add(o);
            if (o.startsWith("https://")) connect.add("wss://" + o.substring(8));
            else if (o.startsWith("http://")) connect.add("ws://" + o.substring(7));
        }
        return "default-src 'self'; connect-src " + String.join(" ", connect.stream().distinct().toList()) + "; img-src 'self' data:; "
                + "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
                // The client builds its DOM from nodes and text only, so no string ever needs to be
                // taken as markup or script: in a browser that knows Trusted Types, a bug that let one
                // through is refused, not run.
                + "require-trusted-types-for 'script'; trusted-types 'none'";
    }

    /** A route for GET and HEAD: probes and link checkers often ask with HEAD, and HTTP says a GET resource answers it too. */
    static Route getOrHead(Router router, String path) {
        return router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD);
    }

    private static String swaggerVersion() {
        // The webjar's version, read from its Maven metadata so a dependency bump needs no code change.
        try (var in = HttpRoutes.class.getResourceAsStream("/META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            if (in != null) {
                var p = new java.util.Properties();
                p.load(in);
                return p.getProperty("version", "5.18.2");
            }
        } catch (java.io.IOException ignored) {
            // fall through to the version the build pins
        }
        return "5.18.2";
    }
}
