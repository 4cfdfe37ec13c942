package dev.parley.http;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts per key, each kept under a cap: how the connection caps count addresses and users (this
 * package's {@link SocketsPerAddress}, and the WebSocket caps). Each change is one atomic step, so
 * any thread may take and give back; a key's entry goes with its last place, so the map holds only
 * keys that hold places now. A cap of 0 or less counts nothing and refuses nothing.
 */
public final class CappedCounts {
    private final int cap;
    private final ConcurrentHashMap<String, Integer> counts = new ConcurrentHashMap<>();

    public CappedCounts(int cap) {
        this.cap = cap;
    }

    /** Takes a place for the key. @return false, taking nothing, if it holds the cap already */
    public boolean take(String key) {
        if (cap <= 0) return true;
        boolean[] taken = {false};
        counts.compute(key, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= cap) return n;
            taken[0] = true;
            return now + 1;
        });
        return taken[0];
    }

    /** Gives one place of the key back (one {@link #take} that returned true). */
    public void giveBack(String key) {
        if (cap <= 0) return;
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }

    public int held(String key) {
        return counts.getOrDefault(key, 0);
    }
}
