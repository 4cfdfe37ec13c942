package dev.parley.presence;

import io.vertx.core.Future;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Who is online in which room. Presence is per user: a user is online in a room while at least one
 * of their connections, on any node, has joined it. Callers announce the transitions these methods
 * report.
 */
public interface Presence {
    /** Starts what runs in the background (refreshing this node's entries); once, before use. {@link #close} stops it. */
    void start();

    /** Counts one more connection of the user in the room. True if the user was offline there before. */
    Future<Boolean> join(String room, String user);

    /** Counts one connection less. True if that was the user's last one in the room. */
    Future<Boolean> leave(String room, String user);

    /** The users online in the room, sorted. */
    Future<List<String>> members(String room);

    /** How many users are online in each of the rooms (rooms with nobody are left out). */
    Future<Map<String, Integer>> counts(Collection<String> rooms);

    /**
     * The same for a list of rooms shown to people ({@code GET /api/rooms}), which may be a little
     * old: an implementation that asks a remote store per room answers from what it asked up to a
     * couple of seconds before, so that clients listing rooms often cost it little. By default
     * {@link #counts}, which is cheap in memory.
     */
    default Future<Map<String, Integer>> listedCounts(Collection<String> rooms) {
        return counts(rooms);
    }

    /** False while presence may be stale (its backend is down). */
    boolean healthy();

    Future<Void> close();
}
