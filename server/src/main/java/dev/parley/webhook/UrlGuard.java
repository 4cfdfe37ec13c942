package dev.parley.webhook;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

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
 * defence that closes it (docs/SECURITY.md).
 *
 * <p>Blocking: it resolves the host, on threads of its own. The system's resolver has no timeout we
 * can set and may take many seconds for a name whose server does not answer, which a room's owner
 * chooses; so the caller waits at most {@link #LOOKUP_TIMEOUT}, and at most {@link #LOOKUPS} lookups
 * run at once (one more is refused at once, as busy). A lookup that outlives its wait goes on holding
 * its thread until the resolver gives up, but no caller's.
 */
public final class UrlGuard {
    public static final int MAX_LENGTH = 2000;
    static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(3);
    static final int LOOKUPS = 8;
    /**
     * How long a host whose lookup timed out is refused at once, without a lookup: its lookup goes
     * on holding a thread until the system's resolver gives up, so a few webhooks of hosts that never
     * answer, tried again and again, would otherwise hold every thread (and every other room's
     * deliveries would wait as busy).
     */
    static final long TIMED_OUT_MILLIS = 60_000;
    private static final int TIMED_OUT_KEPT = 10_000;

    /** How a host's addresses are found: the system's resolver, or a test's. */
    public interface Lookup {
        InetAddress[] all(String host) throws Exception;
    }

    private final boolean allowPrivate;
    private final Lookup lookup;
    private final Duration timeout;
    private final ThreadPoolExecutor lookups;
    private final AtomicLong busy = new AtomicLong();
    private final ConcurrentHashMap<String, Long> timedOut = new ConcurrentHashMap<>();

    /**
     * @param allowPrivate CHAT_WEBHOOK_ALLOW_PRIVATE: on-premises receivers, and tests
     * @param name names the lookup threads: registrations and deliveries each have a guard, so that
     *             many registrations cannot take the lookups deliveries need
     */
    public UrlGuard(boolean allowPrivate, String name) {
        this(allowPrivate, name, InetAddress::getAllByName, LOOKUP_TIMEOUT, LOOKUPS);
    }

    /** @param threads at most this many lookups at once; @param timeout a caller's longest wait for one */
    public UrlGuard(boolean allowPrivate, String name, Lookup lookup, Duration timeout, int threads) {
        this.allowPrivate = allowPrivate;
        this.lookup = lookup;
        this.timeout = timeout;
        AtomicInteger n = new AtomicInteger();
        // No queue: a lookup waits for a free thread nowhere, it is refused as busy.
        this.lookups = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "parley-" + name + "-dns-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        lookups.allowCoreThreadTimeOut(true);
    }

    /** A URL refused, with why in words a room's owner can act on. */
    public static class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /** Refused for now only: every lookup thread is busy. Worth trying again in a moment. */
    public static final class Busy extends Refused {
        Busy(String message) {
            super(message);
        }
    }

    /** The URL, parsed, if a webhook may call it. Blocking (DNS). */
    public URI check(String url) throws Refused {
        URI uri = parse(url);
        if (!allowPrivate) {
            InetAddress[] addresses = resolve(uri);
            for (InetAddress a : addresses) {
                if (!isPublic(a)) {
                    throw new Refused("url: " + uri.getHost() + " is a loopback, private or link-local address (" + a.getHostAddress()
                            + "); this server calls public addresses only (CHAT_WEBHOOK_ALLOW_PRIVATE)");
                }
            }
        }
        return uri;
    }

    /** How many checks were refused as {@link Busy}. */
    long busyRefusals() {
        return busy.get();
    }

    private InetAddress[] resolve(URI uri) throws Refused {
        String host = host(uri).toLowerCase(Locale.ROOT);
        Long until = timedOut.get(host);
        if (until != null && System.nanoTime() - until < 0) {
            throw new Refused("url: the host " + uri.getHost() + " did not resolve within " + timeout.toMillis() + " ms (not tried again for a minute)");
        }
        Future<InetAddress[]> answer;
        try {
            answer = lookups.submit(() -> lookup.all(host));
        } catch (RejectedExecutionException e) {
            busy.incrementAndGet();
            throw new Busy("url: too many host names are being looked up at once; try again in a moment");
        }
        try {
            return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            answer.cancel(true);
            if (timedOut.size() >= TIMED_OUT_KEPT) timedOut.clear(); // bounded; at worst a lookup more
            timedOut.put(host, System.nanoTime() + TIMED_OUT_MILLIS * 1_000_000);
            throw new Refused("url: the host " + uri.getHost() + " did not resolve within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw new Refused("url: the host " + uri.getHost() + " has no address");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer.cancel(true);
            throw new Busy("url: the lookup of " + uri.getHost() + " was cut off");
        }
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
