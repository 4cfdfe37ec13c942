package dev.parley.auth;

import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static java.util.Objects.requireNonNull;

/**
 * Password guessing and mass registration, counted before any password is checked or hashed, under
 * three keys (see {@link AttemptCounter} for how a count slows its next attempts):
 *
 * <ul>
 *   <li>per username, in any letter case ({@link #PER_USER}: 10 attempts without the right password,
 *       then a wait from 1 s doubling up to a minute): guesses at one account from anywhere;
 *   <li>per client address (the first {@code CHAT_LOGIN_FAILURES_PER_IP}, then the same waits):
 *       one address trying many accounts, which the per-username count alone would let through;
 *   <li>registrations per client address (the first {@code CHAT_REGISTRATIONS_PER_IP} in an hour,
 *       then a wait from a minute doubling up to an hour).
 * </ul>
 *
 * A right password starts its username's count again and takes its attempt off its address's count,
 * so that people behind one address who log in fine are not slowed by it. The address is counted
 * before the username: an address that is refused leaves the username's count alone, so that an
 * attacker slowed already cannot slow the account's owner further.
 *
 * <p>Counted attempts include those whose password is still being checked, so that attempts sent in
 * parallel count too. The owner of an account under attack is slowed (at worst one attempt a minute,
 * shared with the attacker), not locked out.
 */
public final class LoginThrottle {
    /** Guesses at one username. */
    public static final AttemptCounter.Rule PER_USER = new AttemptCounter.Rule(10, minutes(5), 1000, minutes(1));
    /** How long a refused client is told to wait when the counter is full. */
    static final long FULL_RETRY_SECONDS = 60;

    private final AttemptCounter counter;
    private final AttemptCounter.Rule perAddress;
    private final AttemptCounter.Rule registrations;

    /** Why an attempt is refused, and for how long (whole seconds, at least 1). */
    public record Refusal(Reason reason, long retryAfterSeconds) {}

    public enum Reason {
        /** Too many attempts at this username. */
        USERNAME,
        /** Too many failed logins, or registrations, from this address. */
        ADDRESS,
        /** The counter cannot count another key: refused rather than let through uncounted. */
        FULL
    }

    /**
     * @param failuresPerAddress     logins without the right password from one address before it is slowed
     * @param registrationsPerAddress registrations from one address in an hour before it is slowed
     */
    public LoginThrottle(AttemptCounter counter, int failuresPerAddress, int registrationsPerAddress) {
        this.counter = requireNonNull(counter, "counter");
        this.perAddress = new AttemptCounter.Rule(failuresPerAddress, minutes(5), 1000, minutes(1));
        this.registrations = new AttemptCounter.Rule(registrationsPerAddress, minutes(60), minutes(1), minutes(60));
    }

    /**
     * Counts a login as {@code username} from {@code address} (null: not counted per address).
     *
     * @return completes with null when the login may check its password, else why not
     */
    public CompletionStage<Refusal> login(String username, String address) {
        if (address == null) return password(username);
        return count(addressKey(address), perAddress, Reason.ADDRESS)
                .thenCompose(refused -> refused != null ? CompletableFuture.completedFuture(refused) : password(username));
    }

    /** Counts an attempt at {@code username}'s password (a login, a password change, an account deletion). */
    public CompletionStage<Refusal> password(String username) {
        return count(userKey(username), PER_USER, Reason.USERNAME);
    }

    /** Counts a registration from {@code address} (null: not counted). */
    public CompletionStage<Refusal> register(String address) {
        if (address == null) return CompletableFuture.completedFuture(null);
        return count(registrationKey(address), registrations, Reason.ADDRESS);
    }

    /** The right password: the username's count starts again, and the address's loses this attempt. */
    public void succeeded(String username, String address) {
        counter.takeBack(userKey(username), true);
        if (address != null) counter.takeBack(addressKey(address), false);
    }

    /**
     * A counted login, or password check, that the server could not serve (its password pool was
     * full, its database down): no password was tried, so it counts against nobody. Else a flood's
     * refusals would slow the owner of every account it names.
     */
    public void notServed(String username, String address) {
        counter.takeBack(userKey(username), false);
        if (address != null) counter.takeBack(addressKey(address), false);
    }

    /** A counted registration that the server could not serve. */
    public void registrationNotServed(String address) {
        if (address != null) counter.takeBack(registrationKey(address), false);
    }

    private CompletionStage<Refusal> count(String key, AttemptCounter.Rule rule, Reason reason) {
        return counter.attempt(key, rule).thenApply(wait -> {
            if (wait == AttemptCounter.FULL) return new Refusal(Reason.FULL, FULL_RETRY_SECONDS);
            if (wait <= 0) return null;
            return new Refusal(reason, Math.max(1, (wait + 999) / 1000));
        });
    }

    /** Usernames are unique regardless of case, so guesses at "Alice" and "alice" count together. */
    private static String userKey(String username) {
        return "u:" + username.toLowerCase(Locale.ROOT);
    }

    private static String addressKey(String address) {
        return "a:" + address;
    }

    private static String registrationKey(String address) {
        return "r:" + address;
    }

    private static long minutes(long n) {
        return n * 60_000;
    }
}
