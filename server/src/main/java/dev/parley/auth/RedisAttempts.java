package dev.parley.auth;

import dev.parley.broker.RedisClients;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * Attempts counted in Redis (see {@link AttemptCounter}): every node of a cluster counts under the
 * same keys, by one Lua script per attempt ({@code redis/attempt.lua}) that reads, decides and
 * writes in one step, on Redis's clock; so N nodes allow no more guesses than one. A key expires a
 * window after its last counted attempt.
 *
 * <p>While Redis cannot answer (down, or slower than the client's command timeout), attempts are
 * counted by this node alone ({@link LocalAttempts}): logins go on, at the limits of a single node
 * times the nodes, rather than all stop with Redis. The node says so in its log.
 */
public final class RedisAttempts implements AttemptCounter {
    private static final Logger log = LoggerFactory.getLogger(RedisAttempts.class);
    private static final String ATTEMPT = script("attempt.lua");
    private static final String REFUND = script("attempt-refund.lua");
    private static final String PREFIX = "parley:attempts:";
    private static final long WARN_EVERY_MILLIS = 30_000;

    private final RedisClients.Commands connection;
    private final RedisClusterAsyncCommands<String, String> redis;
    private final LocalAttempts fallback;
    private final AtomicLong lastWarning = new AtomicLong();

    /**
     * @param connection a connection with a client of its own (its command timeout bounds how long a
     *                   login waits for Redis), which {@link #close} closes; one Redis or a cluster
     *                   (each attempt's script has one key)
     */
    public RedisAttempts(RedisClients.Commands connection, LocalAttempts fallback) {
        this.connection = requireNonNull(connection, "connection");
        this.fallback = requireNonNull(fallback, "fallback");
        this.redis = connection.async();
    }

    @Override
    public CompletionStage<Long> attempt(String key, Rule rule) {
        CompletionStage<Long> call;
        try {
            call = redis.<Long>eval(ATTEMPT, ScriptOutputType.INTEGER, new String[]{PREFIX + key},
                    Integer.toString(rule.free()), Long.toString(rule.windowMillis()), Long.toString(rule.baseMillis()), Long.toString(rule.capMillis()));
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e); // a closed connection throws instead of failing the future
        }
        return call.<CompletionStage<Long>>handle((wait, err) -> {
            if (err == null && wait != null) return CompletableFuture.completedFuture(wait);
            warn(err);
            return fallback.attempt(key, rule);
        }).thenCompose(s -> s);
    }

    @Override
    public void takeBack(String key, boolean all) {
        fallback.takeBack(key, all);
        try {
            CompletionStage<?> call = all ? redis.del(PREFIX + key) : redis.eval(REFUND, ScriptOutputType.INTEGER, PREFIX + key);
            call.whenComplete((x, err) -> {
                if (err != null) warn(err);
            });
        } catch (RuntimeException e) {
            warn(e);
        }
    }

    public void close() {
        connection.close();
    }

    private void warn(Throwable err) {
        long now = System.currentTimeMillis();
        long last = lastWarning.get();
        if (now - last >= WARN_EVERY_MILLIS && lastWarning.compareAndSet(last, now)) {
            log.warn("cannot count login attempts in Redis ({}): this node counts them alone meanwhile", String.valueOf(err));
        }
    }

    private static String script(String name) {
        try (InputStream in = RedisAttempts.class.getResourceAsStream("/redis/" + name)) {
            if (in == null) throw new IllegalStateException("the script redis/" + name + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the script redis/" + name, e);
        }
    }
}
