package dev.parley.chat;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * How many rooms each user may still make on this node: a token bucket per user holding
 * {@code perHour} rooms, refilled at {@code perHour} an hour (so that many at once, then one every
 * 60/perHour minutes). Every room a user makes takes one: a {@code join} of a name not taken and
 * {@code POST /api/rooms} alike, since each leaves a row behind for good. Thread-safe: joins take
 * from it on worker threads.
 *
 * <p>Per node, in memory: a user spread over N nodes of a cluster may make N times as many, and a
 * restart forgets what was taken. It bounds what one account can leave behind; it is not an
 * accounting.
 */
final class CreationQuota {
    private static final double HOUR_NANOS = 3_600e9;

    private final int perHour;
    private final LongSupplier nanos;
    private final ConcurrentHashMap<String, Bucket> users = new ConcurrentHashMap<>();
    private volatile int sweepAt = 1024;

    private static final class Bucket {
        double rooms;
        long at;

        Bucket(double rooms, long at) {
            this.rooms = rooms;
            this.at = at;
        }
    }

    /** @param perHour rooms a user may make an hour; 0 for no limit */
    CreationQuota(int perHour) {
        this(perHour, System::nanoTime);
    }

    CreationQuota(int perHour, LongSupplier nanos) {
        if (perHour < 0) throw new IllegalArgumentException("perHour must be >= 0");
        this.perHour = perHour;
        this.nanos = nanos;
    }

    /**
     * Takes one room of the user's quota.
     *
     * @return 0 if they may make it (and it is counted), else how many milliseconds until they may
     */
    long take(String user) {
        if (perHour == 0) return 0;
        long now = nanos.getAsLong();
        long[] wait = {0};
        users.compute(key(user), (k, b) -> {
            if (b == null) b = new Bucket(perHour, now);
            b.rooms = Math.min(perHour, b.rooms + (now - b.at) * perHour / HOUR_NANOS);
            b.at = now;
            if (b.rooms >= 1) {
                b.rooms -= 1;
            } else {
                wait[0] = Math.max(1, (long) Math.ceil((1 - b.rooms) * HOUR_NANOS / perHour / 1e6));
            }
            return b;
        });
        if (users.size() > sweepAt) sweep(now);
        return wait[0];
    }

    /** Users whose bucket has filled up again are as good as never seen: forgotten, so the map stays small. */
    private void sweep(long now) {
        for (String user : users.keySet()) {
            users.computeIfPresent(user, (k, b) -> b.rooms + (now - b.at) * perHour / HOUR_NANOS >= perHour ? null : b);
        }
        sweepAt = Math.max(1024, 2 * users.size());
    }

    /** Users with a quota in use (for tests). */
    int tracked() {
        return users.size();
    }

    private static String key(String user) {
        return user.toLowerCase(java.util.Locale.ROOT);
    }
}
