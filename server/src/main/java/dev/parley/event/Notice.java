package dev.parley.event;

import java.util.List;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/**
 * An ephemeral event delivered to a room's members: someone is typing, or came online or went
 * offline, or (in a big room) a summary of the presence changes of the last interval. Like
 * {@link Message}, it carries its wire form once encoded, shared by every recipient.
 */
public final class Notice {
    public enum Kind { TYPING, ONLINE, OFFLINE, SUMMARY }

    /**
     * The presence changes of a big room over one interval (PROTOCOL.md, {@code presence_summary}).
     *
     * @param online how many users are online in the room now
     * @param more   how many changes the lists leave out (they are capped)
     */
    public record Summary(List<String> joined, List<String> left, int online, int more) {
        public Summary {
            joined = List.copyOf(joined);
            left = List.copyOf(left);
        }
    }

    private final Kind kind;
    private final String room;
    private final String user;
    private final Summary summary;
    private final Memo encoded = new Memo();

    public Notice(Kind kind, String room, String user) {
        if (kind == Kind.SUMMARY) throw new IllegalArgumentException("a summary is made with Notice.summary");
        this.kind = requireNonNull(kind, "kind");
        this.room = requireNonNull(room, "room");
        this.user = requireNonNull(user, "user");
        this.summary = null;
    }

    private Notice(String room, Summary summary) {
        this.kind = Kind.SUMMARY;
        this.room = requireNonNull(room, "room");
        this.user = "";
        this.summary = requireNonNull(summary, "summary");
    }

    /** A big room's presence summary: about nobody in particular, so its user is empty. */
    public static Notice summary(String room, Summary summary) {
        return new Notice(room, summary);
    }

    public Kind kind() { return kind; }
    public String room() { return room; }
    public String user() { return user; }
    /** Only for {@link Kind#SUMMARY}, else null. */
    public Summary summary() { return summary; }

    /** The wire form, encoded by {@code encoder} the first time and shared afterwards. */
    public <T> T encoded(Function<Notice, T> encoder) {
        return encoded.get(() -> encoder.apply(this));
    }
}
