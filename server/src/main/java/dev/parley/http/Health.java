package dev.parley.http;

import dev.parley.broker.Broker;
import dev.parley.presence.Presence;
import dev.parley.store.Database;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import static java.util.Objects.requireNonNull;

/**
 * {@code /health/live} (the process answers) and {@code /health/ready} (it should get traffic): ready
 * is 503 while the database, the broker or presence is down, or while the node drains.
 */
public final class Health {
    private final Vertx vertx;
    private final Database db;
    private final Broker broker;
    private final Presence presence;
    private final String nodeId;
    private volatile boolean draining;

    public Health(Vertx vertx, Database db, Broker broker, Presence presence, String nodeId) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.db = requireNonNull(db, "db");
        this.broker = requireNonNull(broker, "broker");
        this.presence = requireNonNull(presence, "presence");
        this.nodeId = requireNonNull(nodeId, "nodeId");
    }

    public void draining() {
        draining = true;
    }

    void mount(Router router) {
        HttpRoutes.getOrHead(router, "/health/live").handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(new JsonObject().put("status", "UP").put("node", nodeId).encode()));
        HttpRoutes.getOrHead(router, "/health/ready").handler(ctx -> vertx.executeBlocking(db::healthy, false).onComplete(ar -> {
            boolean dbUp = ar.succeeded() && ar.result();
            boolean brokerUp = broker.healthy();
            boolean presenceUp = presence.healthy();
            boolean ready = dbUp && brokerUp && presenceUp && !draining;
            JsonObject body = new JsonObject()
                    .put("status", ready ? "UP" : "DOWN")
                    .put("node", nodeId)
                    .put("draining", draining)
                    .put("checks", new JsonObject()
                            .put("database", dbUp ? "UP" : "DOWN")
                            .put("broker", brokerUp ? "UP" : "DOWN")
                            .put("presence", presenceUp ? "UP" : "DOWN"));
            ctx.response().setStatusCode(ready ? 200 : 503).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
        }));
    }
}
