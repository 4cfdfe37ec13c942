package dev.parley.auth;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Password guessing, one username at a time: after {@link #MAX_FAILURES} logins for a username
 * without a success within {@link #WINDOW_NANOS}, that username's logins are refused, the right
 * password too, until the window that began with the first of them is over. A success ends the count.
 * Counted per node: behind a load balancer an attacker gets that many guesses per node.
 *
 * <p>Refused logins cost no bcrypt, so a flood against one account does not cost the node its CPU
 * either. The names kept are bounded: past {@link #MAX_TRACKED}, windows that are over are dropped,
 * and if none is over a new name is not counted (fail open rather than grow).
 */
public final class LoginThrottle {
    static final int MAX_FAILURES = 10;
    static final long WINDOW_NANOS = 5L * 60 * 1_000_000_000;
    static final int MAX_TRACKED = 100_000;

    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<String, Window> failures = new ConcurrentHashMap<>();

    private record Window(long start, int count) {}

    public LoginThrottle() {
        this(System::nanoTime);
    }

    LoginThrottle(LongSupplier nanoTime) {
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
    }

    /**
     * Counts a login attempt for {@code username}, before its password is checked: attempts sent
     * in parallel count as well, not only the ones that already failed.
     *
     * @return 0 if the attempt may go on, else the seconds until attempts are allowed again
     */
    public long attempt(String username) {
        long now = nanoTime.getAsLong();
        String key = key(username);
        if (!failures.containsKey(key) && failures.size() >= MAX_TRACKED) {
            failures.values().removeIf(w -> now - w.start >= WINDOW_NANOS);
            if (failures.size() >= MAX_TRACKED) return 0;
        }
        long[] wait = {0};
        failures.compute(key, (k, w) -> {
            if (w == null || now - w.start >= WINDOW_NANOS) return new Window(now, 1);
            if (w.count >= MAX_FAILURES) {
                wait[0] = Math.max(1, (w.start + WINDOW_NANOS - now) / 1_000_000_000);
                return w;
            }
            return new Window(w.start, w.count + 1);
        });
        return wait[0];
    }

    /** The right password: the count starts again. */
    public void succeeded(String username) {
        failures.remove(key(username));
    }

    /** Usernames are unique regardless of case, so guesses at "Alice" and "alice" count together. */
    private static String key(String username) {
        return username.toLowerCase(Locale.ROOT);
    }
}
