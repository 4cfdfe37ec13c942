package dev.parley.chat;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rooms each user's connections on this node are in (or joining), counted per room, for the
 * cap on different rooms per user: a user who opens many connections cannot be in more rooms than
 * one person reads. A room counts once however many of the user's connections are in it. The
 * connections say when they take a room on and when they let it go ({@code ws.Connection}). Thread-safe:
 * the user's connections may live on different event loops.
 *
 * <p>Per node: in a cluster, a user's connections on other nodes are counted there.
 */
final class UserRooms {
    private final int max;
    private final ConcurrentHashMap<String, Map<String, Integer>> users = new ConcurrentHashMap<>();

    UserRooms(int max) {
        this.max = max;
    }

    /** One more connection of the user in the room. @return false (and nothing counted) if it would be one room too many */
    boolean enter(String user, String room) {
        boolean[] ok = {true};
        users.compute(key(user), (k, rooms) -> {
            if (rooms == null) rooms = new HashMap<>(4);
            Integer n = rooms.get(room);
            if (n == null && rooms.size() >= max) {
                ok[0] = false;
            } else {
                rooms.put(room, n == null ? 1 : n + 1);
            }
            return rooms.isEmpty() ? null : rooms;
        });
        return ok[0];
    }

    /** One connection of the user fewer in the room. */
    void exit(String user, String room) {
        users.computeIfPresent(key(user), (k, rooms) -> {
            Integer n = rooms.get(room);
            if (n == null) return rooms;
            if (n <= 1) rooms.remove(room);
            else rooms.put(room, n - 1);
            return rooms.isEmpty() ? null : rooms;
        });
    }

    int max() {
        return max;
    }

    private static String key(String user) {
        return user.toLowerCase(Locale.ROOT);
    }
}
