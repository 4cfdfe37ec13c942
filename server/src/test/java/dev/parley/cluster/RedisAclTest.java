package dev.parley.cluster;

import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Postgres;
import dev.parley.testing.Redis;
import dev.parley.testing.WsClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two nodes on a Redis that has the ACL of deploy/docker-compose.yml: the default user off, and the
 * user parley, with a password, on keys and channels under parley: and no dangerous command. The
 * nodes work as a cluster with it, and the user cannot do more than they need.
 */
class RedisAclTest {
    static final String PASSWORD = "acl" + Long.toHexString(System.nanoTime()) + "0123456789abcdef";
    static final String RULES = composeAclRules();
    static final Redis redis = Redis.startNew("user default off", "user parley on >" + PASSWORD + " " + RULES);
    static final String database = Postgres.shared().newDatabase();
    static final String url = "redis://parley:" + PASSWORD + "@127.0.0.1:" + redis.port();

    @RegisterExtension
    static ParleyServer a = node("acl-a");

    @RegisterExtension
    static ParleyServer b = node("acl-b");

    static ParleyServer node(String id) {
        return ParleyServer.create().with(Setting.REDIS_URL, url).with(Setting.NODE_ID, id)
                .with(Setting.DATABASE_URL, database).with(Setting.DATABASE_USER, "postgres").with(Setting.DATABASE_PASSWORD, "postgres");
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    /** The rules the compose file gives the parley user, after its password. */
    static String composeAclRules() {
        try {
            String compose = Files.readString(Path.of("deploy/docker-compose.yml"));
            Matcher m = Pattern.compile("user parley on >%s ([^\\\\'\"\\n]+)").matcher(compose);
            if (!m.find()) throw new AssertionError("deploy/docker-compose.yml writes no ACL line for the user parley");
            return m.group(1).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void the_compose_file_keeps_the_user_to_its_keys_and_channels_and_off_dangerous_commands() {
        assertThat(RULES).contains("~parley:*", "&parley:*", "-@dangerous").doesNotContain("~*", "&*", "allkeys", "allchannels");
    }

    @Test
    void two_nodes_chat_through_redis_as_the_acl_user() {
        for (ParleyServer node : new ParleyServer[] {a, b}) {
            var checks = node.admin().get("/health/ready", null).json().get("checks");
            assertThat(checks.get("broker").asText()).as(node.server().config().nodeId()).isEqualTo("UP");
            assertThat(checks.get("presence").asText()).as(node.server().config().nodeId()).isEqualTo("UP");
        }
        String room = "acl-" + System.nanoTime() % 100_000;
        String aliceName = ParleyServer.unique("acl_alice");
        String aliceToken = a.http().register(aliceName);
        String bobToken = b.newUser("acl_bob");
        try (WsClient alice = a.connect(aliceToken); WsClient bob = b.connect(bobToken)) {
            alice.send("type", "join", "room", room, "ref", "ja");
            alice.await("joined", "ja");
            bob.send("type", "join", "room", room, "ref", "jb");
            bob.await("joined", "jb");
            Await.until("both nodes to subscribe to the room in Redis", () -> subscribers(room) == 2);
            // Presence lives in Redis (scripts on parley:presence:* keys): bob sees alice online from the other node.
            Await.until("bob to see alice online", Duration.ofSeconds(10),
                    () -> b.http().get("/api/rooms/" + room + "/presence", bobToken).body().contains(aliceName));
            alice.send("type", "send", "room", room, "text", "through the ACL", "clientId", "c1", "ref", "s");
            alice.await("ack", "s");
            assertThat(bob.awaitMessages(room, 1, Duration.ofSeconds(10)).get(0).get("text").asText()).isEqualTo("through the ACL");
        }
    }

    @Test
    void the_user_cannot_reconfigure_redis_nor_touch_keys_of_others_and_nobody_gets_in_without_the_password() {
        try (RedisClient client = RedisClient.create(url); StatefulRedisConnection<String, String> c = client.connect()) {
            RedisCommands<String, String> redisAsParley = c.sync();
            assertThat(redisAsParley.ping()).isEqualTo("PONG");
            assertThatThrownBy(() -> redisAsParley.configGet("dir")).isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("NOPERM");
            assertThatThrownBy(redisAsParley::flushall).isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("NOPERM");
            assertThatThrownBy(() -> redisAsParley.keys("*")).isInstanceOf(RedisCommandExecutionException.class).hasMessageContaining("NOPERM");
            assertThatThrownBy(() -> redisAsParley.set("session:other-app", "x")).isInstanceOf(RedisCommandExecutionException.class)
                    .hasMessageContaining("NOPERM");
            assertThat(redisAsParley.set("parley:acl-test", "x")).isEqualTo("OK");
            redisAsParley.del("parley:acl-test");
        }
        // Without the password, over a plain socket: Lettuce's own handshake, refused, sometimes failed
        // on a race of its own ("RedisHandshakeHandler not registered") before it reported NOAUTH.
        assertThat(answerWithoutPassword("GET parley:anything")).startsWith("-NOAUTH");
    }

    /** The first line Redis answers {@code command} (an inline command) with on a fresh connection. */
    private static String answerWithoutPassword(String command) {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", redis.port())) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write((command + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII)).readLine();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long subscribers(String room) {
        try (RedisClient client = RedisClient.create(url); StatefulRedisConnection<String, String> c = client.connect()) {
            return c.sync().pubsubNumsub("parley:room:" + room).getOrDefault("parley:room:" + room, 0L);
        }
    }
}
