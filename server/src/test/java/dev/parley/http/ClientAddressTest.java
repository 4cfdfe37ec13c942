package dev.parley.http;

import dev.parley.config.AddressRange;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which address the limits per client count: X-Forwarded-For only as far as trusted proxies wrote it. */
class ClientAddressTest {
    private final ClientAddress behindProxies = new ClientAddress(List.of(AddressRange.parse("10.0.0.0/8"), AddressRange.parse("::1")));
    private final ClientAddress direct = new ClientAddress(List.of());

    @Test
    void without_trusted_proxies_the_connections_address_is_the_clients_whatever_the_headers_say() {
        assertThat(direct.of("203.0.113.9", List.of("198.51.100.1"))).isEqualTo("203.0.113.9");
    }

    @Test
    void from_a_trusted_proxy_the_last_untrusted_hop_is_the_client_and_what_it_wrote_before_is_ignored() {
        assertThat(behindProxies.of("10.1.2.3", List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
        // The client wrote "1.2.3.4" itself; nginx appended the address it saw.
        assertThat(behindProxies.of("10.1.2.3", List.of("1.2.3.4, 198.51.100.1"))).isEqualTo("198.51.100.1");
        // Two proxies of ours in a row, the header split over two lines.
        assertThat(behindProxies.of("10.1.2.3", List.of("1.2.3.4, 198.51.100.1", "10.9.9.9"))).isEqualTo("198.51.100.1");
        assertThat(behindProxies.of("::1", List.of("198.51.100.2"))).isEqualTo("198.51.100.2");
    }

    @Test
    void a_connection_not_from_a_trusted_proxy_cannot_choose_its_address_with_the_header() {
        assertThat(behindProxies.of("203.0.113.9", List.of("10.0.0.1"))).isEqualTo("203.0.113.9");
        assertThat(behindProxies.of("10.1.2.3", List.of())).isEqualTo("10.1.2.3");
    }

    @Test
    void ranges_hold_the_addresses_under_their_prefix_and_take_only_literals() {
        AddressRange r = AddressRange.parse("192.168.4.0/22");
        assertThat(r.contains("192.168.7.255")).isTrue();
        assertThat(r.contains("192.168.8.0")).isFalse();
        assertThat(r.contains("fe80::1")).isFalse();
        assertThat(AddressRange.parse("fd00::/8").contains("fd12:3456::1")).isTrue();
        assertThat(AddressRange.parse("127.0.0.1").contains("127.0.0.1")).isTrue();
        assertThat(AddressRange.parse("127.0.0.1").contains("127.0.0.2")).isFalse();
        for (String bad : new String[]{"proxy.example", "10.0.0.0/33", "10.0.0/8", "::1/129", "", "10.0.0.1/x"}) {
            assertThatThrownBy(() -> AddressRange.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
