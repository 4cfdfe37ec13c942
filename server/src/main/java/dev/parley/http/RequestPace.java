package dev.parley.http;

import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;
import dev.parley.chat.RateLimiter;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * The rate of a signed-in user's HTTP API requests on this node ({@code CHAT_API_RATE}): a
 * {@link RateLimiter} per user, holding five seconds' worth. Past it the request is answered 429
 * {@code rate_limited} with {@code Retry-After} before any route runs. The WebSocket has rates of
 * its own per frame (FrameLimits); this is what bounds a script driving the room, member and ban
 * routes, or paging history over HTTP as fast as it can.
 *
 * <p>As search's own rate (chat.Search): the routes of one user may run on several event loops, so a
 * bucket is taken under its own lock, and past {@link #USERS_KEPT} users the buckets start again
 * (bounded memory; at worst a burst more for each).
 */
final class RequestPace {
    static final int USERS_KEPT = 10_000;

    private final int rate;
    private final ChatMetrics metrics;
    private final ConcurrentHashMap<String, RateLimiter> buckets = new ConcurrentHashMap<>();

    /** @param rate requests a second per user; 0 means no limit */
    RequestPace(int rate, ChatMetrics metrics) {
        this.rate = rate;
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void admit(RoutingContext ctx) {
        if (admitted(ctx, ctx.get(ApiRoutes.USER))) ctx.next();
    }

    /**
     * For a route before the token check whose caller is known otherwise (a refresh by its cookie):
     * whether the request of {@code user} is within the rate; if not, it has been answered 429.
     */
    boolean admitted(RoutingContext ctx, String user) {
        if (rate == 0 || user == null || allowed(user)) return true;
        long seconds = Math.max(1, (long) Math.ceil(1.0 / rate)); // one token's refill
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf(seconds));
        HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.RATE_LIMITED, "more than " + rate
                + " API requests a second from one user; try again in " + seconds + " s"));
        return false;
    }

    private boolean allowed(String user) {
        if (buckets.size() >= USERS_KEPT) buckets.clear();
        RateLimiter bucket = buckets.computeIfAbsent(user.toLowerCase(Locale.ROOT), u -> new RateLimiter(rate, rate * 5));
        synchronized (bucket) {
            return bucket.tryAcquire();
        }
    }
}
