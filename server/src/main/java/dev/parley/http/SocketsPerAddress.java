package dev.parley.http;

import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.SocketAddress;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * The public listener's TCP connections, HTTP and WebSocket alike, counted per client address: one
 * past the cap is closed as it is accepted, before it is read. The WebSocket caps count upgrades
 * only, so without this one address could hold every file descriptor of the node with plain HTTP
 * connections, each kept open by a request a minute (a review's attack: 19,980 from one address, and
 * nobody else was answered). The cap is twice {@code CHAT_MAX_CONNECTIONS_PER_IP} plus
 * {@link #HEADROOM}: many users behind one address (a NAT) each hold a WebSocket and a keep-alive
 * HTTP connection or two beside it, and one past the cap is closed unanswered. A connection from a proxy of
 * {@code CHAT_TRUSTED_PROXIES} is not counted: its clients' addresses are known only from their
 * requests, where the WebSocket cap counts them.
 */
public final class SocketsPerAddress {
    /** Connections an address may hold beyond twice its WebSockets' cap. */
    public static final int HEADROOM = 64;

    private final ClientAddress proxies;
    private final Runnable refused;
    private final CappedCounts open;
    private final boolean counting;

    /**
     * @param webSocketsPerAddress CHAT_MAX_CONNECTIONS_PER_IP; 0 for no cap (nothing counted)
     * @param refused told of each connection closed for the cap (the metric)
     */
    public SocketsPerAddress(int webSocketsPerAddress, ClientAddress proxies, Runnable refused) {
        this.open = new CappedCounts(webSocketsPerAddress <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, 2L * webSocketsPerAddress + HEADROOM));
        this.counting = webSocketsPerAddress > 0;
        this.proxies = proxies;
        this.refused = refused;
    }

    /** Counts a new connection, and closes it if its address holds the cap already. @return whether it was admitted */
    public boolean admit(HttpConnection conn) {
        if (!counting) return true;
        SocketAddress peer = conn.remoteAddress();
        String ip = peer == null ? null : peer.hostAddress();
        if (ip == null || proxies.trustedProxy(ip)) return true;
        String key;
        try {
            key = key(InetAddress.getByName(ip)); // a literal: no lookup
        } catch (java.net.UnknownHostException e) {
            key = ip;
        }
        if (!open.take(key)) {
            refused.run();
            conn.close();
            return false;
        }
        String counted = key;
        Runnable giveBack = () -> open.giveBack(counted);
        // The Netty channel's end, not Vert.x's close handler: a WebSocket takes the channel over from
        // Vert.x (ws.Handshake), whose handlers then never hear of the close. Vert.x internal, as there.
        if (conn instanceof ConnectionBase c) c.channel().closeFuture().addListener(f -> giveBack.run());
        else conn.closeHandler(v -> giveBack.run());
        return true;
    }

    int openFrom(String key) {
        return open.held(key);
    }

    /**
     * The address a connection counts against: an IPv4 address as it is, an IPv6 address by its /64
     * (one host commonly holds a whole /64: counted by full address, it could open as many
     * connections as it likes). (An IPv4 client of a dual-stack socket reaches here as IPv4 already.)
     */
    public static String key(InetAddress address) {
        if (address instanceof Inet6Address v6) {
            byte[] b = v6.getAddress();
            StringBuilder key = new StringBuilder(24);
            for (int i = 0; i < 8; i += 2) key.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
            return key.append(":/64").toString();
        }
        if (address instanceof Inet4Address) return address.getHostAddress();
        return String.valueOf(address);
    }
}
