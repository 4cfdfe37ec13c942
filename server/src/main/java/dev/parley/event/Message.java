package dev.parley.event;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * A stored chat message, or a room event (a change of the room's members or of a message, stored in
 * its timeline like a message: {@link #event}). Immutable, except for one memo: the encoded wire
 * frame, computed once by whoever delivers the message first and shared by every recipient on this node.
 *
 * <p>A message read from the store carries its current {@link State} (edited, deleted, reactions);
 * one delivered as it is committed has none yet.
 */
public final class Message {
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final String room;
    private final long seq;
    private final String id;
    private final String from;
    private final String text;
    private final long tsMillis;
    private final String clientId;
    private final RoomChange event; // null for a message someone sent
    private final long replyTo; // 0: none
    private final State state; // null: unchanged since it was sent
    private final boolean bot; // sent by a bot account (PROTOCOL.md, bots), kept with the message
    private final Memo encoded = new Memo();
    private List<String> mentions; // computed on first use (any thread: the same list whoever computes it)

    /** The reactions with one emoji: how many, and (some of) who. */
    public record Reaction(String emoji, int count, List<String> users) {}

    /**
     * What changed a message since it was sent, as its row holds it now.
     *
     * @param editedAt   epoch millis of its last edit, 0 if none
     * @param reactions  by emoji, in the order each was first given
     * @param lastChange the seq of the newest event that changed it
     */
    public record State(long editedAt, boolean deleted, List<Reaction> reactions, long lastChange) {
        public State {
            reactions = List.copyOf(reactions);
        }
    }

    public Message(String room, long seq, String id, String from, String text, long tsMillis, String clientId) {
        this(room, seq, id, from, text, tsMillis, clientId, null);
    }

    /** @param event what the room event says, or null for a message someone sent */
    public Message(String room, long seq, String id, String from, String text, long tsMillis, String clientId, RoomChange event) {
        this(room, seq, id, from, text, tsMillis, clientId, event, 0, null);
    }

    /**
     * @param replyTo the seq of the message this one answers, 0 if none
     * @param state   what changed it since it was sent, or null
     */
    public Message(String room, long seq, String id, String from, String text, long tsMillis, String clientId, RoomChange event,
                   long replyTo, State state) {
        this(room, seq, id, from, text, tsMillis, clientId, event, replyTo, state, false);
    }

    /** @param bot whether a bot account sent it: every client marks it so */
    public Message(String room, long seq, String id, String from, String text, long tsMillis, String clientId, RoomChange event,
                   long replyTo, State state, boolean bot) {
        this.room = requireNonNull(room, "room");
        this.seq = seq;
        this.id = requireNonNull(id, "id");
        this.from = requireNonNull(from, "from");
        this.text = requireNonNull(text, "text");
        this.tsMillis = tsMillis;
        this.clientId = requireNonNull(clientId, "clientId");
        this.event = event;
        this.replyTo = replyTo;
        this.state = state;
        this.bot = bot;
    }

    /** The same message with another state (a store read adds its reactions). */
    public Message withState(State state) {
        return new Message(room, seq, id, from, text, tsMillis, clientId, event, replyTo, state, bot);
    }

    public String room() { return room; }
    public long seq() { return seq; }
    public String id() { return id; }
    public String from() { return from; }
    public String text() { return text; }
    public long tsMillis() { return tsMillis; }
    public String clientId() { return clientId; }
    /** What a room event says, or null for a message someone sent. */
    public RoomChange event() { return event; }
    /** The seq of the message this one answers, 0 if none. */
    public long replyTo() { return replyTo; }
    /** What changed it since it was sent (as read from the store), or null. */
    public State state() { return state; }
    /** Whether a bot account sent it. */
    public boolean bot() { return bot; }

    /** Whom the text mentions ({@link Mentions#of}); none for a room event. */
    public List<String> mentions() {
        List<String> m = mentions;
        if (m == null) mentions = m = event != null ? List.of() : Mentions.of(text);
        return m;
    }

    /** {@code 2026-11-23T15:04:05.123Z}: always UTC, always milliseconds. */
    public String ts() {
        return formatTs(tsMillis);
    }

    public static String formatTs(long millis) {
        return TS.format(Instant.ofEpochMilli(millis));
    }

    /** The wire form, encoded by {@code encoder} the first time and shared afterwards. */
    public <T> T encoded(Function<Message, T> encoder) {
        return encoded.get(() -> encoder.apply(this));
    }

    @Override
    public String toString() {
        return "Message[" + room + "#" + seq + " " + id + " from " + from + "]";
    }
}
