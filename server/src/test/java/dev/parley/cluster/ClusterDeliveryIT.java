package dev.parley.cluster;

import dev.parley.testing.Await;
import dev.parley.testing.Cluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterDeliveryIT {
    @RegisterExtension
    static Cluster cluster = Cluster.of(3);

    @Test
    void every_member_on_every_node_gets_every_message_of_its_room_once_in_order_while_all_nodes_send_at_once() {
        int rooms = 4, perNodePerRoom = 2, each = Integer.getInteger("soak.each", 25); // -Dsoak.each=100 for a longer measurement
        try (Soak soak = new Soak(cluster, "soak", rooms, perNodePerRoom)) {
            int total = soak.members.size() * each;
            int deliveries = total * 3 * perNodePerRoom;
            long start = System.nanoTime();
            soak.send(each, Duration.ZERO);
            soak.awaitAcks(total, Duration.ofSeconds(60));
            long acked = System.nanoTime();
            soak.verify(Duration.ofSeconds(60));
            long delivered = System.nanoTime();
            assertThat(soak.deliveries()).isEqualTo(deliveries);
            System.out.printf("cluster soak: 3 nodes, %d rooms, %d members, %d messages acked in %.2f s (%.0f/s); %d deliveries done in %.2f s (%.0f/s)%n",
                    rooms, soak.members.size(), total, (acked - start) / 1e9, total / ((acked - start) / 1e9),
                    deliveries, (delivered - start) / 1e9, deliveries / ((delivered - start) / 1e9));
            for (String room : soak.rooms) assertThat(cluster.subscribers(room)).as("one subscription per node").isEqualTo(3);
            soak.close();
            for (String room : soak.rooms) {
                Await.until("every node to unsubscribe from " + room + " after its last member left", () -> cluster.subscribers(room) == 0);
            }
        }
    }
}
