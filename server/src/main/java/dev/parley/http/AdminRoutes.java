package dev.parley.http;

import dev.parley.metrics.ChatMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;

/**
 * The router of the admin listener ({@code CHAT_ADMIN_HOST}:{@code CHAT_ADMIN_PORT}): {@code /metrics}
 * for Prometheus and {@code /health/live}, {@code /health/ready} with the node and each check. None of
 * it is on the public port: the meters tell how many people are connected and what fails, the checks
 * when a backend is down. Nothing here takes a token; whoever reaches the address may read it, so the
 * address is loopback by default, and a private network at most.
 */
public final class AdminRoutes {
    private AdminRoutes() {}

    public static Router create(Vertx vertx, ChatMetrics metrics, Health health) {
        Router router = Router.router(vertx);
        router.route().handler(ctx -> {
            ctx.response().headers().set("X-Content-Type-Options", "nosniff").set("Cache-Control", "no-store");
            ctx.next();
        });
        health.mount(router, true);
        // Readiness is checked at each scrape (one database round trip) so that parley_ready and
        // parley_dependency_up say what /health/ready would, for alerts, at no cost between scrapes.
        HttpRoutes.getOrHead(router, "/metrics").handler(ctx -> health.check().onSuccess(s -> {
            metrics.health(s.ready(), s.draining(), s.database(), s.broker(), s.presence());
            ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape());
        }));
        HttpErrors.routerRefusals(router, metrics);
        return router;
    }
}
