package dev.parley.presence;

import dev.parley.broker.RedisClients;
import dev.parley.testing.Redis;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster's list of nodes in a real Redis: each node sees the others' latest reports but not its
 * own, an expired report drops out (and is removed), a node that stops takes itself out, and a
 * single node's directory lists nobody.
 */
class NodeDirectoryTest {
    private static Redis redis;
    private static ClientResources resources;

    @BeforeAll
    static void startRedis() {
        redis = Redis.startNew();
        resources = RedisClients.resources();
    }

    @AfterAll
    static void stopRedis() {
        resources.shutdown();
        redis.stop();
    }

    private static NodeDirectory node(String id) {
        return NodeDirectory.redis(id, RedisClients.connect(resources, redis.url(), "parley-nodes-test", Duration.ofSeconds(1),
                ClientOptions.DisconnectedBehavior.REJECT_COMMANDS, "to list nodes"));
    }

    private static List<NodeDirectory.Entry> others(NodeDirectory d, long now) {
        return d.others(now).toCompletableFuture().join();
    }

    @Test
    void each_node_sees_the_others_latest_reports_not_the_expired_ones_and_a_stopped_node_leaves() {
        NodeDirectory a = node("dir-a"), b = node("dir-b"), c = node("dir-c");
        try {
            a.report("{\"n\":1}", 10_000).toCompletableFuture().join();
            a.report("{\"n\":2}", 20_000).toCompletableFuture().join(); // the latest wins
            b.report("{\"n\":3}", 20_000).toCompletableFuture().join();
            c.report("{\"n\":4}", 5_000).toCompletableFuture().join(); // expired at 10 000

            assertThat(others(a, 10_000)).containsExactly(new NodeDirectory.Entry("dir-b", "{\"n\":3}", 20_000));
            assertThat(others(b, 10_000)).containsExactly(new NodeDirectory.Entry("dir-a", "{\"n\":2}", 20_000));
            assertThat(others(c, 1_000)).extracting(NodeDirectory.Entry::node).containsExactly("dir-a", "dir-b");
            // c's report was removed by the reads at 10 000: it is gone even for a reader whose clock is behind.
            assertThat(others(a, 1_000)).extracting(NodeDirectory.Entry::node).containsExactly("dir-b");

            b.close();
            assertThat(others(a, 10_000)).isEmpty();
        } finally {
            a.close();
            c.close();
        }
    }

    @Test
    void a_single_nodes_directory_lists_nobody() {
        NodeDirectory alone = NodeDirectory.local("alone");
        alone.report("{}", Long.MAX_VALUE).toCompletableFuture().join();
        assertThat(others(alone, 0)).isEmpty();
        alone.close();
    }

    @Test
    void a_report_that_cannot_be_read_is_left_out() {
        assertThat(NodeDirectory.parse("x", "no bar")).isNull();
        assertThat(NodeDirectory.parse("x", "soon|{}")).isNull();
        assertThat(NodeDirectory.parse("x", "12|{\"a\":1}")).isEqualTo(new NodeDirectory.Entry("x", "{\"a\":1}", 12));
    }
}
