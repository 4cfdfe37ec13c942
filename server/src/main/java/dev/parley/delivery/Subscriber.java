package dev.parley.delivery;

import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.event.ReadState;

import java.util.List;

/**
 * A local receiver of a room's events: in practice one WebSocket connection. The delivery calls
 * these from any thread (the group-commit writer, a Redis thread, an event loop), holding the
 * room's lock (see {@code RoomHub}): implementations only queue, must not block, and must not call
 * back into the delivery. For one room, calls arrive in
 * order: {@code joined}, then messages in strictly increasing seq. Each call names the
 * {@link HandOff} of the batch it belongs to: a write the implementation needs on its event loop
 * goes through it.
 */
public interface Subscriber {
    String user();

    /** Whether this subscriber has joined the room, or is joining it: its own account, read on its own thread. */
    boolean inRoom(String room);

    /** Its seat in a room it has joined (the join's answer), or null: its own account, read on its own thread. */
    Seat seat(String room);

    void joined(Joined joined, HandOff handOff);

    void message(Message message, HandOff handOff);

    /**
     * A room event ({@code message} just before) took the user out of the room: the subscriber is
     * out of it now and gets nothing more of it. {@code reason} is the {@code left} frame's.
     */
    void removed(String room, String reason, HandOff handOff);

    /** Typing or presence: droppable, and the same instance goes to every member of the room. */
    void notice(Notice notice, HandOff handOff);

    /**
     * Called with a join's replay before it is delivered, on the joining thread and with no lock
     * held: the place to encode the frames, so that whichever thread delivers them (perhaps the
     * group-commit writer) does not.
     */
    default void prepare(List<Message> replay) {}

    /**
     * The user's read marker in the room moved (a {@code read} of theirs was stored, on any node);
     * after {@code joined} for a subscriber joining.
     */
    default void read(ReadState state, HandOff handOff) {}

    /**
     * The answer to a join: sent before the replay it announces.
     *
     * @param read         the user's read state as of {@code lastSeq}
     * @param historyStart where the room's history starts: seqs below it are gone (PROTOCOL.md, joined)
     */
    record Joined(String room, String ref, long lastSeq, int online, List<String> members, boolean recovered, ReadState read, long historyStart) {}
}
