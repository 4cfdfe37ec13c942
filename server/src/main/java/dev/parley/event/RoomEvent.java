package dev.parley.event;


/** What travels between nodes: committed messages, the ephemeral typing and presence events, and moved read markers. */
public sealed interface RoomEvent {
    String room();

    record MessageCommitted(Message message) implements RoomEvent {
        @Override
        public String room() {
            return message.room();
        }
    }

    record Typing(String room, String user) implements RoomEvent {}

    record PresenceChanged(String room, String user, boolean online) implements RoomEvent {}

    /** A user's read marker moved (it is stored): for their connections in the room. */
    record ReadMoved(String user, ReadState state) implements RoomEvent {
        @Override
        public String room() {
            return state.room();
        }
    }
}
