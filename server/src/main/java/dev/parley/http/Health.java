package dev.parley.http;

import dev.parley.broker.Broker;
import dev.parley.presence.Presence;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * {@code /health/live} (the process answers) and {@code /health/ready} (it should get traffic): ready
 * is 503 while the database, the broker or presence is down, or while the node drains. The public port
 * answers with the status alone, which is all a load balancer reads; the admin listener adds the node,
 * whether it drains, and each check, which tell a stranger what the node runs on and when it is weak.
 */
public final class Health {
    private final Supplier<Future<Boolean>> database;
    private final Broker broker;
    private final Presence presence;
    private final String nodeId;
    private volatile boolean draining;

    /**
     * @param database asks whether the database answers; it is handed in (the composition root runs it
     *                 off the event loop) so that HTTP knows nothing of storage
     */
    public Health(Supplier<Future<Boolean>> database, Broker broker, Presence presence, String nodeId) {
        this.database = requireNonNull(database, "database");
        this.broker = requireNonNull(broker, "broker");
        this.presence = requireNonNull(presence, "presence");
        this.nodeId = requireNonNull(nodeId, "nodeId");
    }

    public void draining() {
        draining = true;
    }

    /** What readiness found: each check, and whether the node drains. */
    public record Status(boolean database, boolean broker, boolean presence, boolean draining) {
        public boolean ready() {
            return database && broker && presence && !draining;
        }
    }

    /** Runs the checks of {@code /health/ready} (and of the metrics' {@code parley_ready}); never fails: a failed check is down. */
    public Future<Status> check() {
        return database.get().transform(ar -> Future.succeededFuture(
                new Status(ar.succeeded() && Boolean.TRUE.equals(ar.result()), broker.healthy(), presence.healthy(), draining)));
    }

    /** @param detailed whether the answers name the node and each check (the admin listener) or carry the status alone */
    void mount(Router router, boolean detailed) {
        HttpRoutes.getOrHead(router, "/health/live").handler(ctx -> {
            JsonObject body = new JsonObject().put("status", "UP");
            if (detailed) body.put("node", nodeId);
            ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
        });
        HttpRoutes.getOrHead(router, "/health/ready").handler(ctx -> check().onSuccess(s -> {
            JsonObject body = new JsonObject().put("status", s.ready() ? "UP" : "DOWN");
            if (detailed) body
                    .put("node", nodeId)
                    .put("draining", s.draining())
                    .put("checks", new JsonObject()
                            .put("database", s.database() ? "UP" : "DOWN")
                            .put("broker", s.broker() ? "UP" : "DOWN")
                            .put("presence", s.presence() ? "UP" : "DOWN"));
            ctx.response().setStatusCode(s.ready() ? 200 : 503).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
        }));
    }
}
