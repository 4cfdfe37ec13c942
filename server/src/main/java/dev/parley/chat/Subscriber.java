package dev.parley.chat;

import dev.parley.event.Message;
import dev.parley.event.Notice;
import java.util.List;

/**
 * A local receiver of a room's events: in practice one WebSocket connection. Methods may be called
 * from any thread (the group-commit writer, a broker thread, an event loop); implementations only
 * queue and must not block. For one room, calls arrive in order: {@code joined}, then messages in
 * strictly increasing seq.
 */
public interface Subscriber {
    String user();

    void joined(Joined joined);

    void message(Message message);

    /** Typing or presence: droppable, and the same instance goes to every member of the room. */
    void notice(Notice notice);

    /** The answer to a join: sent before the replay it announces. */
    record Joined(String room, String ref, long lastSeq, int online, List<String> members, boolean recovered) {}
}
