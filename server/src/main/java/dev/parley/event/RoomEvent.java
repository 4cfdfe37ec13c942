package dev.parley.event;


/** What travels between nodes: committed messages, and the ephemeral typing and presence events. */
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
}
