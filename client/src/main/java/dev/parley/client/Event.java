package dev.parley.client;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.List;

/**
 * What a {@link Connection} hands its listener: one record per frame the server sends (PROTOCOL.md
 * section 7), plus the connection's own news ({@link Connected}, {@link Disconnected}). A frame type
 * this library does not know arrives as {@link Other}, as the protocol adds frame types within
 * version 1. Every record keeps the fields a client acts on; {@link Message#json()} and
 * {@link Other#json()} keep the whole frame for the rest.
 */
public sealed interface Event {
    /**
     * A message of a room, live or replayed (PROTOCOL.md section 2): what someone wrote, or a room
     * event (someone added, banned, a message edited...) whose {@link #eventType()} says which.
     *
     * @param ts when the server took it; null if the frame had none
     * @param clientId the sender's id for it, which its {@link Ack} carries too
     * @param bot sent by a bot account: show it as such, as its name alone may pass for anyone's
     * @param eventType null for a message someone wrote; else the room event's type ({@code banned}, {@code edited}...)
     * @param json the whole frame
     */
    record Message(String room, long seq, String id, String from, String text, Instant ts, String clientId, boolean bot,
                   String eventType, JsonNode json) implements Event {
        /** A room's news (someone added, removed, banned, a message edited...), not a line its sender wrote. */
        public boolean isRoomEvent() {
            return eventType != null;
        }
    }

    /** A send is stored for good: its {@code seq}, {@code id} and {@code ts}. {@code seq} is -1 on an ack that stored nothing. */
    record Ack(String room, String clientId, long seq, String id, Instant ts, String ref) implements Event {}

    /** The answer to a join; the replay (messages after {@code since}) follows it, then live messages. */
    record Joined(String room, long lastSeq, int online, List<String> members, boolean recovered, long readSeq,
                  long historyStart, String ref) implements Event {}

    /** Out of a room: asked for ({@code ref}), or, with a {@code reason} ({@code removed}, {@code banned}...), by a change made elsewhere. */
    record Left(String room, String reason, String ref) implements Event {}

    /** A user came online in, or went offline from, a joined room. */
    record Presence(String room, String user, boolean online) implements Event {}

    /** A big room's presence changes of the last interval, in one frame. */
    record PresenceSummary(String room, int online, List<String> joined, List<String> left, int more) implements Event {}

    /** Someone is typing in a joined room. */
    record Typing(String room, String user) implements Event {}

    /**
     * A page of a room's stored messages, ascending by seq: the answer to a {@code history} frame,
     * or to {@link ParleyClient#messagesBefore} and {@link ParleyClient#messagesAfter} (no {@code ref} then).
     */
    record History(String room, List<Message> messages, boolean hasMore, long historyStart, String ref) implements Event {}

    /** The user's read marker in a room moved (the answer to a {@code read}, or another device's). */
    record Read(String room, long seq, long lastSeq, long unread, long mentions, String ref) implements Event {}

    /** The answer to a {@code ping}. */
    record Pong(String ref) implements Event {}

    /**
     * The server could not do what a frame asked; the connection stays open. {@code code} is one of
     * PROTOCOL.md section 8 ({@code not_joined}, {@code forbidden}, {@code rate_limited}...).
     */
    record Error(String code, String message, String ref) implements Event {}

    /** A frame of a type this library does not know: ignore it, or read {@code json}. */
    record Other(String type, JsonNode json) implements Event {}

    /** A WebSocket is open (the first, or again after a drop); the rooms are joined again next. */
    record Connected() implements Event {}

    /**
     * The WebSocket closed, was cut, or could not be opened.
     *
     * @param code the close code (1000 to 4999), the HTTP status of a refused upgrade (401, 429, 503...),
     *             or -1 when the connection could not be made or was cut without a close
     * @param reconnectInMillis the wait before the next attempt (PROTOCOL.md 10), or -1: the connection
     *                          ended for good ({@link Connection#closed()} says with what)
     */
    record Disconnected(int code, String reason, long reconnectInMillis) implements Event {
        public boolean willReconnect() {
            return reconnectInMillis >= 0;
        }
    }
}
