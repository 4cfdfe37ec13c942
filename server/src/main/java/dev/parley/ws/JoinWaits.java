package dev.parley.ws;

import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;

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
    /**
     * The most frames that may wait for one join; past it they are refused with {@code rate_limited}
     * (the frame is good, only early: sent again after {@code joined} it is taken), and the refusals
     * count towards the connection's 4029 as those for too many frames in flight do (Connection).
     */
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
     * @param inFlight the connection's frames in flight (sent and not yet answered)
     * @throws ChatException {@code rate_limited} if too many frames wait for that join already, or
     *         with the frames in flight the connection would have more than {@code maxInFlight}
     *         waiting for answers
     */
    boolean putAside(ClientFrame frame, int maxInFlight, int inFlight) {
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
        // A frame set aside waits for its answer like one in flight, and is counted with them: else
        // a connection with many joins pending could hold thousands of frames (of any size, their
        // texts checked only when handled) past the cap on frames in flight.
        if (inFlight + waiting() >= maxInFlight) {
            if (frame instanceof ClientFrame.Typing) return true; // dropped without a word, as typing past its rate is
            throw new ChatException(ErrorCode.RATE_LIMITED, "more than " + maxInFlight + " frames of this connection wait for their answers; wait for some first");
        }
        ArrayDeque<ClientFrame> waiting = joining.get(room);
        if (waiting == null) joining.put(room, waiting = new ArrayDeque<>(4));
        if (waiting.size() >= MAX_WAITING) {
            throw new ChatException(ErrorCode.RATE_LIMITED, "more than " + MAX_WAITING + " frames about " + room + " wait for its join; wait for joined");
        }
        waiting.add(frame);
        return true;
    }

    /** How many frames wait, for all the joins: a connection holds at most 100 rooms, and this runs only while a join is in progress. */
    int waiting() {
        int n = 0;
        for (ArrayDeque<ClientFrame> w : joining.values()) if (w != null) n += w.size();
        return n;
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
