package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Someone who can write to Redis but has not the cluster key (CHAT_CLUSTER_KEY, here derived from the
 * JWT secret) publishes records of their own on a room's channel, with a plain Redis client: a
 * message under another member's name with the seq the next real message will get. Without the
 * records' tags every node would deliver it, and drop the real message as its duplicate.
 */
class ForgedEventsIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(2);

    @Test
    void a_message_forged_in_redis_reaches_nobody_and_the_real_one_with_its_seq_arrives_once_everywhere() throws Exception {
        String room = "trust-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        ParleyServer n1 = cluster.node(1), n2 = cluster.node(2);
        try (WsClient a = n1.connect(n1.http().register(alice)); WsClient b = n2.connect(n2.http().register(bob))) {
            a.send("type", "join", "room", room, "ref", "j");
            b.send("type", "join", "room", room, "ref", "j");
            long last = a.await("joined", "j").get("lastSeq").asLong();
            b.await("joined", "j");
            Await.until("both nodes to subscribe to " + room, () -> cluster.subscribers(room) == 2);
            double rejectedBefore = rejected(n1) + rejected(n2);

            // As the previous release wrote records (no tag), and as this one does with a tag made up.
            byte[] unsigned = forged(1, room, last + 1, alice, "forged: send me your password", 0);
            byte[] badTag = forged(2, room, last + 1, alice, "forged: send me your password", 32);
            try (RedisClient client = RedisClient.create(cluster.redis().url());
                 StatefulRedisConnection<byte[], byte[]> c = client.connect(ByteArrayCodec.INSTANCE)) {
                byte[] channel = ("parley:room:" + room).getBytes(StandardCharsets.UTF_8);
                assertThat(c.sync().publish(channel, unsigned)).as("nodes that received it").isEqualTo(2);
                assertThat(c.sync().publish(channel, badTag)).as("nodes that received it").isEqualTo(2);
            }
            // Both nodes have read and dropped both records before the real message is sent: a forged
            // record that had got through would have been delivered by now, and would take its seq.
            Await.until("each node to drop both forged records", () -> rejected(n1) + rejected(n2) >= rejectedBefore + 4);

            a.send("type", "send", "room", room, "text", "the real one", "clientId", "real-1", "ref", "s");
            assertThat(a.await("ack", "s").get("seq").asLong()).isEqualTo(last + 1);
            for (WsClient member : new WsClient[]{a, b}) {
                JsonNode m = member.awaitMessages(room, 1, Duration.ofSeconds(10)).get(0);
                assertThat(m.get("seq").asLong()).isEqualTo(last + 1);
                assertThat(m.get("text").asText()).isEqualTo("the real one");
                assertThat(m.get("from").asText()).isEqualTo(alice);
            }
            // And nothing else, now or later: what was rejected is gone. A second real message closes
            // the window in which a late duplicate could have come.
            a.send("type", "send", "room", room, "text", "and another", "clientId", "real-2", "ref", "s2");
            for (WsClient member : new WsClient[]{a, b}) {
                member.awaitMessages(room, 2, Duration.ofSeconds(10));
                assertThat(member.messages(room)).extracting(m -> m.get("text").asText()).containsExactly("the real one", "and another");
                assertThat(member.frames().toString()).doesNotContain("forged");
            }
            assertThat(rejected(n1)).as("n1's counter").isGreaterThanOrEqualTo(2);
            assertThat(rejected(n2)).as("n2's counter").isGreaterThanOrEqualTo(2);
            assertThat(n2.admin().get("/metrics", null).body()).contains("parley_broker_events_rejected_total{reason=\"unauthenticated\"}");
        }
    }

    private static double rejected(ParleyServer node) {
        return node.server().metrics().registry().get(ChatMetrics.BROKER_REJECTED).tag("reason", "unauthenticated").counter().count();
    }

    /**
     * A message record as a forger writes it (the layout of broker.BrokerCodec, which a reader of
     * the source or of Redis's traffic knows): {@code tagBytes} random bytes where the tag goes.
     */
    private static byte[] forged(int version, String room, long seq, String from, String text, int tagBytes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(version);
        out.writeByte('M');
        str(out, "n9#forger");
        str(out, room);
        out.writeLong(seq);
        str(out, "01JFORGED00000000000000000");
        str(out, from);
        str(out, text);
        out.writeLong(System.currentTimeMillis());
        str(out, "forged-1");
        byte[] tag = new byte[tagBytes];
        new SecureRandom().nextBytes(tag);
        out.write(tag);
        return bytes.toByteArray();
    }

    private static void str(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }
}
