package dev.parley.http;

import dev.parley.auth.TokenService;
import dev.parley.chat.ChatService;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;

/** Builds the router: every route of PROTOCOL.md section 1 but {@code /ws} (see ChatServer), the web client and the API docs. */
public final class HttpRoutes {
    private static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/" + swaggerVersion();
    private static final String CSP_APP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
            + "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
    // Swagger UI styles itself inline, and the docs page starts it with an inline script.
    private static final String CSP_DOCS = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            + "script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'";

    private HttpRoutes() {}

    /** @param trustedProxies reverse proxies whose X-Forwarded-For names the client (CHAT_TRUSTED_PROXIES) */
    public static Router create(Vertx vertx, ChatService chat, TokenService tokens, ChatMetrics metrics, Health health,
                                java.util.List<dev.parley.config.AddressRange> trustedProxies) {
        Router router = Router.router(vertx);
        router.route().handler(ctx -> {
            var h = ctx.response().headers();
            h.set("X-Content-Type-Options", "nosniff");
            h.set("Referrer-Policy", "no-referrer");
            h.set("Content-Security-Policy", ctx.request().path().startsWith("/docs") ? CSP_DOCS : CSP_APP);
            ctx.next();
        });
        new ApiRoutes(chat, tokens, metrics, new ClientAddress(trustedProxies)).mount(router);
        health.mount(router);
        getOrHead(router, "/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(metrics.scrape()));
        getOrHead(router, "/openapi.yaml").handler(JarFiles.single(vertx, "/openapi.yaml", "openapi.yaml"));
        getOrHead(router, "/docs").handler(ctx -> {
            // vertx-web matches "/docs/" on this route too: redirecting that would loop forever.
            if (ctx.request().path().endsWith("/")) ctx.next();
            else ctx.redirect("/docs/");
        });
        getOrHead(router, "/docs/assets/*").handler(new JarFiles(vertx, "/docs/assets/", SWAGGER_UI, null));
        getOrHead(router, "/docs/*").handler(new JarFiles(vertx, "/docs/", "docs", "index.html"));
        getOrHead(router, "/*").handler(new JarFiles(vertx, "/", "web", "index.html"));
        HttpErrors.routerRefusals(router, metrics);
        return router;
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
