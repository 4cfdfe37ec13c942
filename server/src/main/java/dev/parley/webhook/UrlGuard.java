package dev.parley.webhook;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Which URLs a webhook may call: {@code http} or {@code https}, with a host, no user name or
 * password, at most {@link #MAX_LENGTH} characters, and (unless private addresses are allowed) a
 * host whose every address is a public one. Not loopback, private (RFC 1918, IPv6 unique local),
 * link-local (cloud metadata services live at 169.254.169.254), carrier-grade NAT, multicast or
 * unspecified: a room's owner must not be able to make the server call into its own network (SSRF).
 *
 * <p>The check runs when a webhook is registered and again before every delivery, because a name's
 * addresses can change (DNS rebinding). The HTTP client resolves the name once more to connect, so a
 * name that changes its answer within that moment could still get through: an egress firewall is the
 * defence that closes it (docs/SECURITY.md). Blocking: it resolves the host.
 */
public final class UrlGuard {
    public static final int MAX_LENGTH = 2000;

    private final boolean allowPrivate;

    /** @param allowPrivate CHAT_WEBHOOK_ALLOW_PRIVATE: on-premises receivers, and tests */
    public UrlGuard(boolean allowPrivate) {
        this.allowPrivate = allowPrivate;
    }

    /** A URL refused, with why in words a room's owner can act on. */
    public static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /** The URL, parsed, if a webhook may call it. Blocking (DNS). */
    public URI check(String url) throws Refused {
        URI uri = parse(url);
        if (!allowPrivate) {
            InetAddress[] addresses;
            try {
                addresses = InetAddress.getAllByName(host(uri));
            } catch (UnknownHostException e) {
                throw new Refused("url: the host " + uri.getHost() + " has no address");
            }
            for (InetAddress a : addresses) {
                if (!isPublic(a)) {
                    throw new Refused("url: " + uri.getHost() + " is a loopback, private or link-local address (" + a.getHostAddress()
                            + "); this server calls public addresses only (CHAT_WEBHOOK_ALLOW_PRIVATE)");
                }
            }
        }
        return uri;
    }

    /** The checks that need no DNS: the form of the URL. */
    static URI parse(String url) throws Refused {
        if (url == null || url.isEmpty()) throw new Refused("url must be an http or https URL");
        if (url.length() > MAX_LENGTH) throw new Refused("url must be at most " + MAX_LENGTH + " characters");
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new Refused("url is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) throw new Refused("url must be an http or https URL");
        if (uri.getHost() == null || uri.getHost().isEmpty()) throw new Refused("url must name a host");
        if (uri.getRawUserInfo() != null) throw new Refused("url must not carry a user name or password (the signature authenticates the server)");
        if (uri.getRawFragment() != null) throw new Refused("url must not have a fragment");
        return uri;
    }

    private static String host(URI uri) {
        String h = uri.getHost();
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    /** Whether an address is one of the public internet's. */
    static boolean isPublic(InetAddress a) {
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isMulticastAddress()) {
            return false;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int first = b[0] & 0xff, second = b[1] & 0xff;
            if (first == 0) return false; // "this network"
            if (first == 100 && (second & 0xc0) == 64) return false; // 100.64.0.0/10, carrier-grade NAT
            if (first == 192 && second == 0 && (b[2] & 0xff) == 0) return false; // 192.0.0.0/24, IETF protocol assignments
            if (first == 198 && (second == 18 || second == 19)) return false; // 198.18.0.0/15, benchmarking
            return first < 240; // 240.0.0.0/4 reserved, and the broadcast address
        }
        if (a instanceof Inet6Address) {
            if ((b[0] & 0xfe) == 0xfc) return false; // fc00::/7, unique local
            if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) return false; // fec0::/10, the old site-local
            // ::ffff:a.b.c.d (mapped) and 64:ff9b::a.b.c.d (NAT64): the IPv4 address inside decides.
            boolean mapped = isZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
            boolean nat64 = (b[0] & 0xff) == 0 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b && isZero(b, 4, 12);
            if (mapped || nat64) {
                try {
                    return isPublic(InetAddress.getByAddress(new byte[]{b[12], b[13], b[14], b[15]}));
                } catch (UnknownHostException e) {
                    return false;
                }
            }
            if (isZero(b, 0, 12)) return false; // ::a.b.c.d, the old IPv4-compatible form
        }
        return true;
    }

    private static boolean isZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) if (b[i] != 0) return false;
        return true;
    }
}
