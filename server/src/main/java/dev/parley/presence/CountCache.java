package dev.parley.presence;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Recent counts of the users online per room, for the room list: each room's count is asked of the
 * backend at most once per {@code ttl} on this node, however many clients list the room meanwhile,
 * and lists that come while an ask is under way share it. Without it, every {@code GET /api/rooms}
 * in a cluster cost one Redis script per listed room, and every open web client lists its rooms
 * every few seconds. A count is up to {@code ttl} old. Thread-safe.
 */
final class CountCache {
    /** Past this many rooms, the expired counts are forgotten: what stays is what was listed in the last {@code ttl}. */
    private static final int SWEEP_FROM = 10_000;

    private final long ttlNanos;
    private final Function<String, CompletionStage<Integer>> count;
    private final LongSupplier nanos;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private volatile int sweepAt = SWEEP_FROM;

    private record Entry(CompletableFuture<Integer> count, long at) {}

    /** @param count asks the backend for one room's count */
    CountCache(java.time.Duration ttl, Function<String, CompletionStage<Integer>> count, LongSupplier nanos) {
        this.ttlNanos = ttl.toNanos();
        this.count = count;
        this.nanos = nanos;
    }

    /** How many users are online in each room, rooms with nobody left out, as {@link Presence#counts}. */
    CompletionStage<Map<String, Integer>> counts(Collection<String> rooms) {
        long now = nanos.getAsLong();
        List<String> names = List.copyOf(rooms);
        List<CompletableFuture<Integer>> calls = new ArrayList<>(names.size());
        for (String room : names) calls.add(entry(room, now).count());
        if (entries.size() > sweepAt) sweep(now);
        return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(x -> {
            Map<String, Integer> out = new HashMap<>();
            for (int i = 0; i < names.size(); i++) {
                int n = calls.get(i).join();
                if (n > 0) out.put(names.get(i), n);
            }
            return out;
        });
    }

    /** The room's count if it is recent enough, else a new ask, which the backend is sent outside the map's lock. */
    private Entry entry(String room, long now) {
        Entry made = new Entry(new CompletableFuture<>(), now);
        Entry e = entries.compute(room, (r, old) -> old != null && now - old.at() < ttlNanos ? old : made);
        if (e == made) {
            count.apply(room).whenComplete((n, err) -> {
                if (err == null) {
                    made.count().complete(n);
                } else {
                    entries.remove(room, made); // the next list asks again
                    made.count().completeExceptionally(err);
                }
            });
        }
        return e;
    }

    private void sweep(long now) {
        entries.values().removeIf(e -> now - e.at() >= ttlNanos);
        sweepAt = Math.max(SWEEP_FROM, 2 * entries.size());
    }
}
