package dev.parley.bench;

import java.net.InetSocketAddress;
import java.net.URI;

/** One server node the bench talks to: {@code http://host:port}; WebSockets go to {@code /ws} on it. */
record Target(String url, String host, int port) {
    static Target parse(String url) {
        URI u;
        try {
            u = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--url: not a URL: " + url);
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme();
        if (!scheme.equals("http") && !scheme.equals("ws")) {
            throw new IllegalArgumentException("--url: " + url + " (expected: http://host:port; TLS is not supported by the bench)");
        }
        if (u.getHost() == null) throw new IllegalArgumentException("--url: no host in " + url);
        int port = u.getPort() < 0 ? 80 : u.getPort();
        return new Target("http://" + u.getHost() + ":" + port, u.getHost(), port);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(host, port);
    }

    String hostHeader() {
        return host + ":" + port;
    }

    boolean loopback() {
        return address().getAddress() != null && address().getAddress().isLoopbackAddress();
    }
}
