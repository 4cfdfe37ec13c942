package dev.parley.auth;

import dev.parley.broker.RedisClients;
import io.lettuce.core.SetArgs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The WebSocket tickets used already, so that each opens one connection (PROTOCOL.md 5). A ticket
 * is remembered until it expires, which {@link TokenService#TICKET_TTL} keeps to seconds: the
 * memory this takes is the upgrades of the last half minute.
 *
 * <p>On one node, its memory is enough. In a cluster a ticket could be taken to every node, so each
 * node also claims it in Redis ({@code SET NX PX}, expiring with the ticket), and the first claim
 * anywhere wins. While Redis cannot answer, a node goes by its own memory alone and says so in its
 * log: a ticket could then open one connection per node, for the seconds it lives, rather than
 * every browser stop connecting with Redis down.
 */
public final class UsedTickets implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UsedTickets.class);
    private static final String PREFIX = "parley:ticket:";
    private static final long SWEEP_EVERY_MILLIS = 10_000;
    private static final long WARN_EVERY_MILLIS = 30_000;

    /** Ticket id to its expiry (epoch ms). */
    private final Map<String, Long> used = new ConcurrentHashMap<>();
    private final AtomicLong lastSweep = new AtomicLong();
    private final AtomicLong lastWarning = new AtomicLong();
    private final RedisClients.Commands redis; // null on a single node

    private final LongSupplier clock;

    /** For a single node: this node's memory only. */
    public UsedTickets() {
        this(System::currentTimeMillis, null);
    }

    /**
     * For a cluster node.
     *
     * @param redis a connection with a client of its own (its command timeout bounds how long an
     *              upgrade waits for Redis), which {@link #close} closes; one Redis or a cluster
     */
    public UsedTickets(RedisClients.Commands redis) {
        this(System::currentTimeMillis, requireNonNull(redis, "redis"));
    }

    /** With the clock of the sweeps (tests move it); {@code redis} null for none. */
    UsedTickets(LongSupplier clock, RedisClients.Commands redis) {
        this.clock = requireNonNull(clock, "clock");
        this.redis = redis;
    }

    /**
     * Claims a ticket for one connection.
     *
     * @return completes with true for the first claim of the ticket, false for any later one (on
     * this node or, in a cluster, on any); never fails
     */
    public CompletionStage<Boolean> claim(String ticketId, Instant expiresAt) {
        long now = clock.getAsLong();
        sweep(now);
        long expires = expiresAt.toEpochMilli();
        if (used.putIfAbsent(ticketId, expires) != null) return CompletableFuture.completedFuture(false);
        if (redis == null) return CompletableFuture.completedFuture(true);
        long ttl = Math.max(1, expires - now);
        return redis.async().set(PREFIX + ticketId, "1", SetArgs.Builder.nx().px(ttl))
                .handle((ok, err) -> {
                    if (err == null) return "OK".equals(ok); // null: another node claimed it first
                    warn(err);
                    return true; // this node's own memory has it: single use on this node
                });
    }

    /** Forgets expired tickets, at most every few seconds, by whichever claim comes then. */
    private void sweep(long now) {
        long last = lastSweep.get();
        if (now - last < SWEEP_EVERY_MILLIS || !lastSweep.compareAndSet(last, now)) return;
        used.values().removeIf(expires -> expires <= now);
    }

    private void warn(Throwable err) {
        long now = clock.getAsLong();
        long last = lastWarning.get();
        if (now - last >= WARN_EVERY_MILLIS && lastWarning.compareAndSet(last, now)) {
            log.warn("cannot reach Redis to claim a WebSocket ticket; tickets are single-use per node until it answers: {}", err.toString());
        }
    }

    /** How many tickets this node remembers (expired ones included until the next sweep). */
    int remembered() {
        return used.size();
    }

    @Override
    public void close() {
        if (redis != null) redis.close();
    }
}
