package dev.parley.delivery;

import dev.parley.event.Notice;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The presence changes of one big room since its last summary (PROTOCOL.md, presence in big rooms).
 * A join storm of N users in a room of N would cost N^2 {@code presence} frames; batched, each member
 * gets one {@code presence_summary} per interval, encoded once for all of them. Only the last change
 * of each user counts: a user who came and went within the interval is listed as gone, which a
 * client applying set operations takes as it takes a repeated {@code offline}. Not thread-safe: the
 * hub keeps one per room, under the room's lock.
 */
final class PresenceBatch {
    /** A summary lists at most this many names, joined and left together (PROTOCOL.md); {@code more} counts the rest. */
    static final int MAX_LISTED = 100;

    private final LinkedHashMap<String, Boolean> changes = new LinkedHashMap<>(); // user to online, in order of their last change

    boolean isEmpty() {
        return changes.isEmpty();
    }

    void changed(String user, boolean online) {
        changes.remove(user); // to the end: the order is that of the last changes
        changes.put(user, online);
    }

    /** The summary of what changed, with {@code online} users online now; empties the batch. */
    Notice.Summary drain(int online) {
        List<String> joined = new ArrayList<>(), left = new ArrayList<>();
        int listed = 0;
        for (Map.Entry<String, Boolean> e : changes.entrySet()) {
            if (listed++ == MAX_LISTED) break;
            (e.getValue() ? joined : left).add(e.getKey());
        }
        int more = changes.size() - joined.size() - left.size();
        changes.clear();
        return new Notice.Summary(joined, left, online, more);
    }
}
