package dev.parley.event;

/**
 * A user's read state in a room (PROTOCOL.md, read state): the marker, and what came after it, as
 * of the room's {@code lastSeq}. What came later reaches the user's connections as messages, which
 * a client counts on from there.
 *
 * @param seq      the user's read marker: the highest seq they marked read
 * @param lastSeq  the room's last seq the counts were read at
 * @param unread   others' messages (not room events) after the marker, at most {@code lastSeq}
 * @param mentions those of them that mention the user
 */
public record ReadState(String room, long seq, long lastSeq, int unread, int mentions) {
    /** A user who has read everything up to {@code lastSeq}. */
    public static ReadState caughtUp(String room, long seq, long lastSeq) {
        return new ReadState(room, seq, lastSeq, 0, 0);
    }
}
