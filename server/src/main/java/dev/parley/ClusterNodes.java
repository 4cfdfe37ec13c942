package dev.parley;

import dev.parley.chat.Admin;
import dev.parley.http.Health;
import dev.parley.metrics.ChatMetrics;
import dev.parley.presence.NodeDirectory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The cluster's nodes for the administrators (GET /api/admin/nodes): this node's own health and
 * connections, checked as it is asked, and every other node's as it last reported them through the
 * {@link NodeDirectory} (each node reports every {@link #REPORT_EVERY_MILLIS}; a report lives three
 * times that, so a node that died drops out within about 15 s). Here, in the composition root,
 * because it puts together health (http), the meters and the directory (presence).
 */
final class ClusterNodes {
    private static final Logger log = LoggerFactory.getLogger(ClusterNodes.class);
    static final long REPORT_EVERY_MILLIS = 5_000;
    static final long REPORT_LIVES_MILLIS = 3 * REPORT_EVERY_MILLIS;

    private final Vertx vertx;
    private final NodeDirectory directory;
    private final Health health;
    private final ChatMetrics metrics;
    private final String nodeId;
    private final long startedAt = System.currentTimeMillis();
    private long timer = -1;
    private volatile boolean failing;

    ClusterNodes(Vertx vertx, NodeDirectory directory, Health health, ChatMetrics metrics, String nodeId) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.directory = requireNonNull(directory, "directory");
        this.health = requireNonNull(health, "health");
        this.metrics = requireNonNull(metrics, "metrics");
        this.nodeId = requireNonNull(nodeId, "nodeId");
    }

    void start() {
        if (!directory.shared()) return; // a single node: its own health is checked when it is asked
        report();
        timer = vertx.setPeriodic(REPORT_EVERY_MILLIS, id -> report());
    }

    /** Stops reporting and takes this node out of the directory (blocking, up to a second). */
    void close() {
        if (timer >= 0) vertx.cancelTimer(timer);
        directory.close();
    }

    private void report() {
        self().onSuccess(n -> directory.report(json(n).encode(), n.reportedAt() + REPORT_LIVES_MILLIS).whenComplete((x, err) -> {
            if (err != null && !failing) log.warn("cannot report this node to the cluster's list of nodes: {}", err.toString());
            failing = err != null;
        }));
    }

    /** This node first, then the others by id; only this node while the directory cannot be read. */
    Future<List<Admin.Node>> list() {
        return self().compose(me -> Future.fromCompletionStage(directory.others(System.currentTimeMillis()), vertx.getOrCreateContext())
                .map(others -> {
                    List<Admin.Node> out = new ArrayList<>(others.size() + 1);
                    out.add(me);
                    for (NodeDirectory.Entry e : others) {
                        Admin.Node n = parse(e.node(), e.state());
                        if (n != null) out.add(n);
                    }
                    return out;
                }).otherwise(err -> List.of(me)));
    }

    private Future<Admin.Node> self() {
        return health.check().map(s -> new Admin.Node(nodeId, true, s.ready(), s.draining(), s.database(), s.broker(), s.presence(),
                metrics.openConnections(), startedAt, System.currentTimeMillis()));
    }

    static JsonObject json(Admin.Node n) {
        return new JsonObject().put("ready", n.ready()).put("draining", n.draining()).put("database", n.database()).put("broker", n.broker())
                .put("presence", n.presence()).put("connections", n.connections()).put("startedAt", n.startedAt()).put("reportedAt", n.reportedAt());
    }

    /** Another node's report; null if it cannot be read (a newer version's, say). */
    static Admin.Node parse(String id, String state) {
        try {
            JsonObject o = new JsonObject(state);
            return new Admin.Node(id, false, o.getBoolean("ready", false), o.getBoolean("draining", false), o.getBoolean("database", false),
                    o.getBoolean("broker", false), o.getBoolean("presence", false), o.getInteger("connections", 0), o.getLong("startedAt", 0L),
                    o.getLong("reportedAt", 0L));
        } catch (RuntimeException e) {
            return null;
        }
    }
}
