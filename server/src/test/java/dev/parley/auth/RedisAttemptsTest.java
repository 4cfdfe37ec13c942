package dev.parley.auth;

import dev.parley.broker.RedisClients;
import dev.parley.testing.Redis;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.resource.ClientResources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The attempts counted in Redis (attempt.lua): the rules of LocalAttempts, shared by every node, so
 * that two nodes allow no more guesses than one; and counted by the node alone while Redis is down.
 * Waits are read, not waited for: Redis's clock runs on, so a wait is at most the rule's.
 */
class RedisAttemptsTest {
    private static final AttemptCounter.Rule RULE = new AttemptCounter.Rule(3, 300_000, 10_000, 60_000);
    private static Redis redis;
    private static ClientResources resources;
    private final List<RedisAttempts> nodes = new ArrayList<>();

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

    @AfterEach
    void closeNodes() {
        redis.start(); // a test may have stopped it
        nodes.forEach(RedisAttempts::close);
    }

    private RedisAttempts node() {
        RedisAttempts n = new RedisAttempts(RedisClients.connect(resources, redis.url(), "parley-attempts-test", Duration.ofMillis(500),
                ClientOptions.DisconnectedBehavior.REJECT_COMMANDS, "for the test"), new LocalAttempts());
        nodes.add(n);
        return n;
    }

    private static long attempt(AttemptCounter counter, String key) {
        return counter.attempt(key, RULE).toCompletableFuture().join();
    }

    @Test
    void two_nodes_share_one_count_so_they_allow_no_more_attempts_than_one() {
        RedisAttempts a = node(), b = node();
        String key = "u:" + UUID.randomUUID();

        assertThat(attempt(a, key)).isZero();
        assertThat(attempt(b, key)).isZero();
        assertThat(attempt(a, key)).isZero();

        assertThat(attempt(b, key)).as("the fourth, on either node, waits").isBetween(1L, 10_000L);
        assertThat(attempt(a, key)).isBetween(1L, 10_000L);
        assertThat(attempt(a, "u:" + UUID.randomUUID())).as("another key").isZero();
    }

    @Test
    void taking_attempts_back_forgets_the_key_or_takes_one_off_it_on_every_node() {
        RedisAttempts a = node(), b = node();
        String user = "u:" + UUID.randomUUID(), address = "a:" + UUID.randomUUID();
        for (int i = 0; i < 3; i++) {
            attempt(a, user);
            attempt(a, address);
        }
        b.takeBack(user, true);
        b.takeBack(address, false);

        // The calls above are not waited for, but one connection keeps its commands in order.
        assertThat(attempt(b, user)).isZero();
        assertThat(attempt(b, address)).as("two of three left, so this is the third").isZero();
        assertThat(attempt(b, address)).isPositive();
    }

    @Test
    void while_redis_is_down_the_node_counts_alone_and_still_refuses() {
        RedisAttempts a = node();
        redis.stop();
        String key = "u:" + UUID.randomUUID();
        for (int i = 0; i < 3; i++) assertThat(attempt(a, key)).isZero();
        assertThat(attempt(a, key)).isBetween(1L, 10_000L);
    }
}
