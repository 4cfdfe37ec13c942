package dev.parley.ws;

import dev.parley.chat.ChatException;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The joins of one connection that are in progress, each with the frames that wait for it.
 * Frames are handled in the order they came, and a join completes later. So a {@code leave} or
 * another {@code join} of a room whose join is in progress waits for it, and so does every frame
 * about that room after one that waits: "join, leave, join, leave" sent at once ends left. A
 * {@code send} or {@code typing} right after a join waits too: whether the user may send (a member
 * not muted) is known once the join has checked it. A connection makes one only while a join is in
 * progress, which is seldom: an idle connection holds none. Event loop only.
 */
final class JoinWaits {
    /** The most frames that may wait for one join; past it they are refused. */
    static final int MAX_WAITING = 64;

    // Each room with a join in progress, and the frames waiting for it (null while none wait).
    private final Map<String, ArrayDeque<ClientFrame>> joining = new HashMap<>(4);

    void begin(String room) {
        joining.put(room, null);
    }

    boolean inProgress(String room) {
        return joining.containsKey(room);
    }

    boolean isEmpty() {
        return joining.isEmpty();
    }

    /** How many rooms have a join in progress. */
    int size() {
        return joining.size();
    }

    /** The rooms with a join in progress. */
    java.util.Set<String> rooms() {
        return joining.keySet();
    }

    /**
     * Puts the frame aside if it must wait for a join.
     *
     * @return whether it was put aside, to be handled when the join completes
     * @throws ChatException if too many frames wait for that join already
     */
    boolean putAside(ClientFrame frame) {
        String room = switch (frame) {
            case ClientFrame.Join j -> j.room();
            case ClientFrame.Leave l -> l.room();
            case ClientFrame.Send s -> s.room();
            case ClientFrame.Typing t -> t.room();
            case ClientFrame.Edit e -> e.room();
            case ClientFrame.Delete d -> d.room();
            case ClientFrame.React r -> r.room();
            case ClientFrame.Read r -> r.room();
            default -> null;
        };
        if (room == null || !joining.containsKey(room)) return false;
        ArrayDeque<ClientFrame> waiting = joining.get(room);
        if (waiting == null) joining.put(room, waiting = new ArrayDeque<>(4));
        if (waiting.size() >= MAX_WAITING) {
            throw ChatException.badRequest("more than " + MAX_WAITING + " frames about " + room + " wait for its join; wait for joined");
        }
        waiting.add(frame);
        return true;
    }

    /** The room's join completed. @return the frames that waited for it, in order (null if none) */
    ArrayDeque<ClientFrame> end(String room) {
        return joining.remove(room);
    }

    /** Handling a waiting frame began another join of the room: the rest waits for that one in turn. */
    void waitAgain(String room, ArrayDeque<ClientFrame> rest) {
        if (rest.isEmpty()) return;
        ArrayDeque<ClientFrame> next = joining.get(room);
        if (next == null) joining.put(room, rest);
        else next.addAll(rest);
    }
}
