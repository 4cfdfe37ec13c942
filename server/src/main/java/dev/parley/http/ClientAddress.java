package dev.parley.http;

import dev.parley.config.AddressRange;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The address of the client a request comes from, which the limits per address count: the
 * connection's, unless the connection comes from a reverse proxy of {@code CHAT_TRUSTED_PROXIES};
 * then the last address of {@code X-Forwarded-For} that is not one of those proxies (each proxy
 * appends the address it saw, so the addresses before the nearest untrusted one are whatever the
 * client chose to write, and believed never).
 */
public final class ClientAddress {
    private final List<AddressRange> trustedProxies;

    public ClientAddress(List<AddressRange> trustedProxies) {
        this.trustedProxies = List.copyOf(requireNonNull(trustedProxies, "trustedProxies"));
    }

    /** The client's address as text, or null if the connection has none (a Unix socket). */
    public String of(HttpServerRequest req) {
        SocketAddress peer = req.remoteAddress();
        String address = peer == null ? null : peer.hostAddress();
        return of(address, req.headers().getAll("X-Forwarded-For"));
    }

    /** @param forwardedFor the X-Forwarded-For headers, in the order received (each a comma-separated list) */
    String of(String peer, List<String> forwardedFor) {
        if (peer == null || !trusted(peer) || forwardedFor.isEmpty()) return peer;
        String client = peer;
        List<String> hops = forwardedFor.stream().flatMap(h -> java.util.Arrays.stream(h.split(","))).map(String::trim).toList();
        for (int i = hops.size() - 1; i >= 0; i--) {
            String hop = hops.get(i);
            if (hop.isEmpty()) continue;
            client = hop;
            if (!trusted(hop)) break;
        }
        return client;
    }

    /** Whether a connection from this address is one of {@code CHAT_TRUSTED_PROXIES}'. */
    public boolean trustedProxy(String address) {
        return trusted(address);
    }

    private boolean trusted(String address) {
        for (AddressRange r : trustedProxies) if (r.contains(address)) return true;
        return false;
    }
}
