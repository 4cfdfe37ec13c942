package dev.parley.chat;

import dev.parley.event.Message;
import dev.parley.store.MessageStore;
import dev.parley.work.BoundedPool;
import dev.parley.store.SearchQuery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Full-text search, {@code GET /api/search} (PROTOCOL.md 3.7): the messages of the rooms the caller
 * may read (every public room, and the private and direct rooms they are a member of), or of one of
 * them, that hold every word of the query, newest first, a page at a time, each with where its
 * matching words are. A private room the caller is not in answers {@code not_found}, as a room that
 * does not exist does, and is never searched otherwise.
 *
 * <p>Guarded as a route must be: a query of at most {@value #QUERY_MAX} characters and
 * {@value #WORDS_MAX} words; {@link #RATE} per user on each node; and at most {@value #THREADS}
 * searches at once on a node with {@value #WAITING} more waiting, on threads of their own: on the
 * embedded H2 a search reads the messages it searches (see {@code store.MessageSearch}), about a
 * second a million, and on the shared worker pool it would hold workers that joins and history need.
 */
public final class Search {
    /** The longest query, in characters (code points). */
    public static final int QUERY_MAX = 256;
    /** The most words a query may hold. */
    public static final int WORDS_MAX = 10;
    /** Searches per user, counted on each node: one a second, ten at once. */
    public static final Limits.Bucket RATE = new Limits.Bucket(1, 10);
    /** Searches a node runs at once, on threads of their own; as many more wait, and past them a search is refused with {@code unavailable} and a {@code Retry-After}. */
    public static final int THREADS = 2, WAITING = 2;
    /** Users whose buckets a node keeps; past it they all start full again, which bounds the memory. */
    private static final int USERS_KEPT = 100_000;
    private static final Pattern CURSOR = Pattern.compile("(\\d{1,15})\\.(\\d{1,18})\\.(.{1," + Limits.ROOM_NAME_MAX + "})");

    /** A matching message, and its matching words as {@code [start, end)} in UTF-16 code units of its text. */
    public record Hit(Message message, List<int[]> highlights) {}

    /** A page of hits, and the cursor of the next page, or null on the last. */
    public record Page(List<Hit> hits, String next) {}

    private final Vertx vertx;
    private final Limits limits;
    private final MessageStore store;
    private final Rooms rooms;
    private final BoundedPool pool;
    private final ConcurrentHashMap<String, RateLimiter> buckets = new ConcurrentHashMap<>();

    /** @param pool the searches' own threads ({@link #THREADS}, {@link #WAITING}), so a long scan takes no worker from joins and history */
    Search(Vertx vertx, Limits limits, MessageStore store, Rooms rooms, BoundedPool pool) {
        this.pool = requireNonNull(pool, "pool");
        this.vertx = requireNonNull(vertx, "vertx");
        this.limits = requireNonNull(limits, "limits");
        this.store = requireNonNull(store, "store");
        this.rooms = requireNonNull(rooms, "rooms");
    }

    /**
     * One page of the messages matching {@code q}.
     *
     * @param room   one room to search, or null for every room the user may read
     * @param cursor the {@code next} of the page before, or null for the newest matches
     * @param limit  how many, 1..100, or null for 50
     */
    public Future<Page> search(String user, String q, String room, String cursor, Integer limit) {
        SearchQuery query;
        MessageStore.SearchAfter after;
        int n;
        try {
            query = query(q);
            if (room != null) limits.room(room);
            n = limits.historyLimit(limit);
            after = cursor(cursor);
            if (!allowed(user)) {
                throw new ChatException(ErrorCode.RATE_LIMITED, "searching too often: at most " + (int) RATE.rate() + " a second, "
                        + RATE.burst() + " at once", (long) Math.ceil(1 / RATE.rate()));
            }
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return pool.run(vertx, () -> {
            if (room != null) rooms.readable(user, room);
            return page(query, store.search(user, query, room, after, n), n);
        }).recover(e -> e instanceof BoundedPool.Full full
                ? Future.failedFuture(new ChatException(ErrorCode.UNAVAILABLE, "too many searches under way; try again later", full.retryAfterSeconds))
                : ChatService.translate(e));
    }

    /** The words of a query, or the refusal of one that is missing, blank, too long or has too many. */
    static SearchQuery query(String q) {
        if (q == null || q.isBlank()) throw ChatException.badRequest("q is required: the words to search for");
        if (q.codePointCount(0, q.length()) > QUERY_MAX) {
            throw new ChatException(ErrorCode.TOO_LARGE, "q is longer than " + QUERY_MAX + " characters");
        }
        Limits.wellFormed("q", q);
        SearchQuery query = SearchQuery.parse(q);
        if (query.terms().isEmpty()) throw ChatException.badRequest("q must hold a word: letters or digits");
        if (query.terms().size() > WORDS_MAX) throw new ChatException(ErrorCode.TOO_LARGE, "q holds more than " + WORDS_MAX + " words");
        return query;
    }

    private static MessageStore.SearchAfter cursor(String cursor) {
        if (cursor == null) return null;
        Matcher m = CURSOR.matcher(cursor);
        if (!m.matches()) throw ChatException.badRequest("cursor must be the next of a page of search results");
        return new MessageStore.SearchAfter(Long.parseLong(m.group(1)), m.group(3), Long.parseLong(m.group(2)));
    }

    private static String cursor(Message last) {
        return last.tsMillis() + "." + last.seq() + "." + last.room();
    }

    private static Page page(SearchQuery query, List<Message> found, int n) {
        List<Hit> hits = new ArrayList<>(Math.min(n, found.size()));
        for (int i = 0; i < found.size() && i < n; i++) hits.add(new Hit(found.get(i), query.highlights(found.get(i).text())));
        return new Page(hits, found.size() > n ? cursor(found.get(n - 1)) : null);
    }

    private boolean allowed(String user) {
        if (buckets.size() >= USERS_KEPT) buckets.clear();
        RateLimiter bucket = buckets.computeIfAbsent(user.toLowerCase(Locale.ROOT), u -> new RateLimiter(RATE.rate(), RATE.burst()));
        synchronized (bucket) { // the HTTP routes of one user may run on several event loops
            return bucket.tryAcquire();
        }
    }
}
