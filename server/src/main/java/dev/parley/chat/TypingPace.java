package dev.parley.chat;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * At most one {@code typing} per user and room a second is passed on from this node, however many
 * connections the user types from. A receiver shows the indicator for a few seconds, so the others
 * add nothing it can show, while each costs a frame to every member: five a second from each of a
 * user's connections, in a room of 10,000, was 50,000 frames a second per connection. A message
 * from the user ends the indicator, so the user's next typing passes whenever it comes.
 */
final class TypingPace {
    static final long EVERY_MILLIS = 1000;
    /** Past this many remembered, the stale ones are swept, at most once an interval. */
    private static final int SWEEP_AT = 10_000;

    private final ConcurrentHashMap<String, Long> last = new ConcurrentHashMap<>();
    private final LongSupplier clock;
    private volatile long nextSweep;

    TypingPace(LongSupplier clock) {
        this.clock = clock;
    }

    /** Whether this typing goes on to the room; false if the user's last one went less than a second ago. */
    boolean pass(String room, String user) {
        long now = clock.getAsLong();
        boolean[] passed = {false};
        last.compute(room + '\n' + user, (k, at) -> { // a room name has no newline
            if (at != null && now - at < EVERY_MILLIS) return at;
            passed[0] = true;
            return now;
        });
        if (passed[0] && last.size() > SWEEP_AT && now >= nextSweep) {
            nextSweep = now + EVERY_MILLIS;
            last.values().removeIf(at -> now - at >= EVERY_MILLIS);
        }
        return passed[0];
    }

    /**
     * The user sent a message to the room: receivers end its typing indicator there (PROTOCOL.md,
     * typing), so the next typing, however soon, starts a new one and must pass.
     */
    void sent(String room, String user) {
        if (!last.isEmpty()) last.remove(room + '\n' + user);
    }

    int remembered() {
        return last.size();
    }
}
