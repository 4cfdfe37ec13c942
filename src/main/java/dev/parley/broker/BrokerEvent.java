package dev.parley.broker;

import dev.parley.chat.Message;

/** What travels between nodes: committed messages, and the ephemeral typing and presence events. */
public sealed interface BrokerEvent {
    String room();

    record MessageCommitted(Message message) implements BrokerEvent {
        @Override
        public String room() {
            return message.room();
        }
    }

    record Typing(String room, String user) implements BrokerEvent {}

    record PresenceChanged(String room, String user, boolean online) implements BrokerEvent {}
}
