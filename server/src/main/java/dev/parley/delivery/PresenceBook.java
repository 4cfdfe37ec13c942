package dev.parley.delivery;

import dev.parley.event.Notice;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who one room's members on this node were last told is present. The broker delivers presence
 * changes at most once, so arrivals and departures on other nodes during a Redis outage reach nobody
 * here; once Redis is back, {@link #missed} compares this book with who is present now, and the
 * difference is announced. Its size is the room's online count in presence summaries
 * ({@link PresenceBatch}). Once started, it is also what later joins list as present
 * ({@link #listing}): a join then reads the first names of a sorted set instead of every present
 * user from the presence store, so a join storm into a big room costs O(members), not O(members²).
 * Not thread-safe: the hub keeps one per room, under the room's lock.
 */
final class PresenceBook {
    /** What a join lists: how many are present, and the first names in order. */
    record Listing(int count, List<String> names) {}

    private TreeSet<String> announced; // null until the room's first join read who is present; sorted, for listing
    // Changes that came before that read was handed over: the read may be older than some of them.
    // Applied over it, in order, since each is a set operation. The last change of each user is enough.
    private Map<String, Boolean> early = new LinkedHashMap<>();

    /** A join read who is present: the first one of the room starts the book. */
    void seen(List<String> present) {
        if (announced != null) return;
        announced = new TreeSet<>(present);
        early.forEach(this::changed);
        early = null;
    }

    void changed(String user, boolean online) {
        if (announced == null) {
            early.remove(user);
            early.put(user, online);
            return;
        }
        if (online) announced.add(user);
        else announced.remove(user);
    }

    /** Whether a join has read who is present, so that the book can answer {@link #listing}. */
    boolean started() {
        return announced != null;
    }

    /**
     * Who a joining user is told is present: the book, and {@code self} (the joining user is present,
     * though their own arrival may not be announced yet), at most {@code limit} names in order.
     * Only once {@link #started}.
     */
    Listing listing(String self, int limit) {
        List<String> names = new ArrayList<>(Math.min(limit, announced.size()) + 1);
        for (String u : announced) {
            if (names.size() == limit) break;
            names.add(u);
        }
        boolean selfListed = announced.contains(self);
        if (!selfListed) {
            int at = -Collections.binarySearch(names, self) - 1; // where it sorts among the first names
            if (at < limit) names.add(at, self);
            if (names.size() > limit) names.remove(limit);
        }
        return new Listing(announced.size() + (selfListed ? 0 : 1), List.copyOf(names));
    }

    /** How many users the members were told are present; -1 before the first join. */
    int count() {
        return announced == null ? -1 : announced.size();
    }

    /** The notices that would make the book agree with {@code presentNow}; nothing before the first join. */
    List<Notice> missed(String room, List<String> presentNow) {
        List<Notice> changes = new ArrayList<>();
        if (announced == null) return changes;
        Set<String> now = new HashSet<>(presentNow);
        for (String u : announced) if (!now.contains(u)) changes.add(new Notice(Notice.Kind.OFFLINE, room, u));
        for (String u : now) if (!announced.contains(u)) changes.add(new Notice(Notice.Kind.ONLINE, room, u));
        return changes;
    }
}
