package dev.parley.http;

import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;
import dev.parley.metrics.ChatMetrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * The rate of a signed-in user's HTTP API requests on this node ({@code CHAT_API_RATE}): a token
 * bucket per user, holding five seconds' worth. Past it the request is answered 429
 * {@code rate_limited} with {@code Retry-After} before any route runs. The WebSocket has rates of
 * its own per frame (FrameLimits); this is what bounds a script driving the room, member and ban
 * routes, or paging history over HTTP as fast as it can.
 *
 * <p>Routes run on several event loops, so a bucket is taken under its own lock. Buckets of users
 * who have stopped asking are full again after five seconds and then carry nothing: past
 * {@link #SWEEP_ABOVE} buckets, the full ones are dropped (at most once a second).
 */
final class RequestPace {
    static final int SWEEP_ABOVE = 10_000;
    private static final long SECOND = 1_000_000_000L;

    private final double rate;
    private final double burst;
    private final ChatMetrics metrics;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final AtomicLong lastSweep = new AtomicLong(System.nanoTime());

    /** @param rate requests a second per user; 0 means no limit */
    RequestPace(int rate, ChatMetrics metrics) {
        this.rate = rate;
        this.burst = rate * 5.0;
        this.metrics = requireNonNull(metrics, "metrics");
    }

    void admit(RoutingContext ctx) {
        String user = ctx.get(ApiRoutes.USER);
        if (rate == 0 || user == null) {
            ctx.next();
            return;
        }
        long now = System.nanoTime();
        long wait = buckets.computeIfAbsent(user.toLowerCase(java.util.Locale.ROOT), u -> new Bucket(burst, now)).take(now, rate, burst);
        if (wait == 0) {
            ctx.next();
        } else {
            long seconds = Math.max(1, (wait + SECOND - 1) / SECOND);
            ctx.response().putHeader(HttpHeaders.RETRY_AFTER, String.valueOf(seconds));
            HttpErrors.send(ctx, metrics, new ChatException(ErrorCode.RATE_LIMITED, "more than " + (int) rate
                    + " API requests a second from one user; try again in " + seconds + " s"));
        }
        if (buckets.size() > SWEEP_ABOVE) sweep(now);
    }

    /** Buckets kept; for tests. */
    int size() {
        return buckets.size();
    }

    private void sweep(long now) {
        long last = lastSweep.get();
        if (now - last < SECOND || !lastSweep.compareAndSet(last, now)) return;
        buckets.values().removeIf(b -> b.full(now, rate, burst));
    }

    private static final class Bucket {
        private double tokens;
        private long last;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.last = now;
        }

        /** Takes a token: 0 if there was one, else the nanoseconds until there is. */
        synchronized long take(long now, double rate, double burst) {
            refill(now, rate, burst);
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return (long) Math.ceil((1 - tokens) / rate * SECOND);
        }

        synchronized boolean full(long now, double rate, double burst) {
            refill(now, rate, burst);
            return tokens >= burst;
        }

        private void refill(long now, double rate, double burst) {
            if (now > last) tokens = Math.min(burst, tokens + (now - last) * rate / SECOND);
            last = Math.max(last, now);
        }
    }
}
