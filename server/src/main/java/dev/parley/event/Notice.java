package dev.parley.event;

import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * An ephemeral event delivered to a room's members: someone is typing, or came online or went
 * offline. Like {@link Message}, it carries its wire form once encoded, shared by every recipient.
 */
public final class Notice {
    public enum Kind { TYPING, ONLINE, OFFLINE }

    private final Kind kind;
    private final String room;
    private final String user;
    private final Memo encoded = new Memo();

    public Notice(Kind kind, String room, String user) {
        this.kind = requireNonNull(kind, "kind");
        this.room = requireNonNull(room, "room");
        this.user = requireNonNull(user, "user");
    }

    public Kind kind() { return kind; }
    public String room() { return room; }
    public String user() { return user; }

    /** The wire form, encoded by {@code encoder} the first time and shared afterwards. */
    public <T> T encoded(Function<Notice, T> encoder) {
        return encoded.get(() -> encoder.apply(this));
    }
}
