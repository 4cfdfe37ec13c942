package dev.parley.testing;

import dev.parley.config.Setting;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Several real nodes in this JVM on one Redis and one PostgreSQL database, for a test class:
 * {@code @RegisterExtension static Cluster cluster = Cluster.of(3);}. Nodes are named n1, n2, ...
 * Logs of every node are printed only when a test fails. {@link #ownPostgres()} gives the cluster a
 * PostgreSQL server of its own, for tests that stop it.
 */
public final class Cluster implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, TestWatcher {
    private final int size;
    private final Map<Setting, String> settings = new EnumMap<>(Setting.class);
    private final List<ParleyServer> nodes = new ArrayList<>();
    private boolean ownPostgres;
    private Redis redis;
    private Postgres postgres;
    private String databaseUrl;
    private int logMark;

    private Cluster(int size) {
        this.size = size;
        // Soaks send faster than a person would; the rate limit has its own tests.
        settings.put(Setting.RATE_LIMIT, "10000");
        settings.put(Setting.RATE_BURST, "10000");
        settings.put(Setting.MAX_IN_FLIGHT, "100000");
        settings.put(Setting.ROOMS_PER_HOUR, "0"); // and make rooms by the dozen as one user; the quota has its own tests
        settings.put(Setting.API_RATE, "0");
    }

    public static Cluster of(int size) {
        return new Cluster(size);
    }

    /** A setting of every node. */
    public Cluster with(Setting setting, String value) {
        settings.put(setting, value);
        return this;
    }

    public Cluster ownPostgres() {
        ownPostgres = true;
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        redis = Redis.startNew();
        postgres = ownPostgres ? Postgres.startNew() : Postgres.shared();
        databaseUrl = postgres.newDatabase();
        for (int i = 1; i <= size; i++) {
            ParleyServer node = ParleyServer.create()
                    .with(Setting.REDIS_URL, redis.url())
                    .with(Setting.DATABASE_URL, databaseUrl)
                    .with(Setting.DATABASE_USER, "postgres")
                    .with(Setting.DATABASE_PASSWORD, "postgres")
                    .with(Setting.NODE_ID, "n" + i);
            settings.forEach(node::with);
            node.beforeAll(context);
            nodes.add(node);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            for (ParleyServer n : nodes) n.stop();
        } finally {
            redis.stop();
            if (ownPostgres) postgres.destroy();
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        logMark = CapturedLogs.mark();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        System.out.println("----- cluster log of failed test " + context.getDisplayName() + " -----");
        CapturedLogs.since(logMark).forEach(System.out::print);
        System.out.println("----- end of cluster log -----");
    }

    /** Node {@code i}, counting from 1. */
    public ParleyServer node(int i) {
        return nodes.get(i - 1);
    }

    public List<ParleyServer> nodes() {
        return List.copyOf(nodes);
    }

    public Redis redis() {
        return redis;
    }

    public Postgres postgres() {
        return postgres;
    }

    public String databaseUrl() {
        return databaseUrl;
    }

    /** How many nodes Redis has subscribed to the room's channel. */
    public long subscribers(String room) {
        try (RedisClient client = RedisClient.create(redis.url()); StatefulRedisConnection<String, String> c = client.connect()) {
            String channel = "parley:room:" + room;
            return c.sync().pubsubNumsub(channel).getOrDefault(channel, 0L);
        }
    }
}
