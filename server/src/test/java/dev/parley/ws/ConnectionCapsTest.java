package dev.parley.ws;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/** The caps on connections per node, per address and per user, as places taken and given back. */
class ConnectionCapsTest {
    @Test
    void an_address_gets_its_cap_and_no_more_while_another_address_still_connects() {
        ConnectionCaps caps = new ConnectionCaps(0, 2, 0);
        ConnectionCaps.Slot a1 = caps.admit("10.0.0.1");
        ConnectionCaps.Slot a2 = caps.admit("10.0.0.1");
        ConnectionCaps.Slot a3 = caps.admit("10.0.0.1");
        ConnectionCaps.Slot b1 = caps.admit("10.0.0.2");

        assertThat(a1.refusal()).isNull();
        assertThat(a2.refusal()).isNull();
        assertThat(a3.refusal()).isEqualTo(ConnectionCaps.Refusal.ADDRESS);
        assertThat(b1.refusal()).isNull();
        assertThat(caps.openFrom("10.0.0.1")).isEqualTo(2);

        a1.release();
        assertThat(caps.admit("10.0.0.1").refusal()).as("a place given back is taken again").isNull();
    }

    @Test
    void a_user_gets_its_cap_whatever_the_letter_case_and_a_refused_slot_gives_its_other_places_back() {
        ConnectionCaps caps = new ConnectionCaps(10, 10, 1);
        ConnectionCaps.Slot first = caps.admit("10.0.0.1");
        assertThat(first.addUser("Alice")).isNull();

        ConnectionCaps.Slot second = caps.admit("10.0.0.2");
        assertThat(second.addUser("alice")).isEqualTo(ConnectionCaps.Refusal.USER);
        second.release();

        assertThat(caps.open()).isEqualTo(1);
        assertThat(caps.openFrom("10.0.0.2")).isZero();
        assertThat(caps.openFor("ALICE")).isEqualTo(1);
        first.release();
        assertThat(caps.openFor("alice")).isZero();
    }

    @Test
    void the_node_cap_counts_every_address_and_comes_first() {
        ConnectionCaps caps = new ConnectionCaps(2, 1, 0);
        assertThat(caps.admit("10.0.0.1").refusal()).isNull();
        assertThat(caps.admit("10.0.0.2").refusal()).isNull();
        assertThat(caps.admit("10.0.0.3").refusal()).isEqualTo(ConnectionCaps.Refusal.NODE);
        assertThat(caps.admit("10.0.0.1").refusal()).as("the node is full before the address is looked at").isEqualTo(ConnectionCaps.Refusal.NODE);
    }

    @Test
    void an_address_refused_gives_back_its_place_on_the_node() {
        ConnectionCaps caps = new ConnectionCaps(2, 1, 0);
        assertThat(caps.admit("10.0.0.1").refusal()).isNull();
        assertThat(caps.admit("10.0.0.1").refusal()).isEqualTo(ConnectionCaps.Refusal.ADDRESS);
        assertThat(caps.open()).isEqualTo(1);
        assertThat(caps.admit("10.0.0.2").refusal()).isNull();
    }

    @Test
    void releasing_twice_gives_back_once() {
        ConnectionCaps caps = new ConnectionCaps(5, 5, 5);
        ConnectionCaps.Slot s = caps.admit("10.0.0.1");
        s.addUser("bob");
        ConnectionCaps.Slot other = caps.admit("10.0.0.1");
        other.addUser("bob");
        s.release();
        s.release();
        assertThat(caps.open()).isEqualTo(1);
        assertThat(caps.openFrom("10.0.0.1")).isEqualTo(1);
        assertThat(caps.openFor("bob")).isEqualTo(1);
    }

    @Test
    void a_cap_of_zero_counts_nothing_and_refuses_nothing() {
        ConnectionCaps caps = new ConnectionCaps(0, 0, 0);
        for (int i = 0; i < 1000; i++) {
            ConnectionCaps.Slot s = caps.admit("10.0.0.1");
            assertThat(s.refusal()).isNull();
            assertThat(s.addUser("carol")).isNull();
        }
        assertThat(caps.openFrom("10.0.0.1")).isZero();
        assertThat(caps.openFor("carol")).isZero();
    }

    @Test
    void places_taken_together_from_many_threads_never_pass_the_cap() throws InterruptedException {
        ConnectionCaps caps = new ConnectionCaps(50, 30, 0);
        ConcurrentLinkedQueue<ConnectionCaps.Slot> admitted = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            String address = "10.0.0." + (t % 2);
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 100; i++) {
                    ConnectionCaps.Slot s = caps.admit(address);
                    if (s.refusal() == null) admitted.add(s);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) t.join();

        assertThat(admitted).hasSize(50);
        assertThat(caps.openFrom("10.0.0.0")).isLessThanOrEqualTo(30);
        assertThat(caps.openFrom("10.0.0.1")).isLessThanOrEqualTo(30);
        admitted.forEach(ConnectionCaps.Slot::release);
        assertThat(caps.open()).isZero();
        assertThat(caps.openFrom("10.0.0.0")).isZero();
    }

    @Test
    void an_ipv6_client_counts_by_its_64_bit_prefix_and_an_ipv4_client_by_its_address() throws Exception {
        String a = ConnectionCaps.addressKey(InetAddress.getByName("2001:db8:1:2:aaaa::1"));
        String b = ConnectionCaps.addressKey(InetAddress.getByName("2001:db8:1:2:ffff:1:2:3"));
        String c = ConnectionCaps.addressKey(InetAddress.getByName("2001:db8:1:3::1"));

        assertThat(a).isEqualTo(b).isEqualTo("2001:db8:1:2::/64");
        assertThat(c).isNotEqualTo(a);
        assertThat(ConnectionCaps.addressKey(InetAddress.getByName("192.0.2.7"))).isEqualTo("192.0.2.7");
        assertThat(ConnectionCaps.addressKey(InetAddress.getByName("::ffff:192.0.2.7"))).isEqualTo("192.0.2.7");
    }
}
