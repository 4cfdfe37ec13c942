package dev.parley.delivery;

import dev.parley.event.Message;
import dev.parley.event.RoomChange;

import java.util.List;

/**
 * A subscriber's place in one room, as far as room events have changed it since its join checked
 * the user's access: whether an event took the user out ({@link #removed}), and until when they are
 * muted. Written by the delivery under the room's lock as the events pass, in seq order; read by the
 * subscriber's own thread (a send checks it), hence volatile.
 */
public final class Seat {
    private volatile long accessSeq;
    private volatile boolean removed;
    private volatile long mutedUntil;

    /**
     * @param accessSeq  the room's last seq when the join checked the user's access: only events after it change the seat
     * @param mutedUntil epoch millis the user is muted until as of then (0: not muted)
     */
    public Seat(long accessSeq, long mutedUntil) {
        this.accessSeq = accessSeq;
        this.mutedUntil = mutedUntil;
    }

    public long accessSeq() {
        return accessSeq;
    }

    /** Whether an event took the user out of the room: nothing more of it reaches this subscriber. */
    public boolean removed() {
        return removed;
    }

    /** Epoch millis until which the user may not send to the room; 0 or past: they may. */
    public long mutedUntil() {
        return mutedUntil;
    }

    /**
     * Brings the seat from its access check up to {@code upTo}, where the join's read of the room
     * found it: {@code events} are the room events between (ascending). A join starts after that
     * read, so these events reach it as history, never live: their mutes are taken here, and one
     * that takes the user out refuses the join (joining again checks afresh). From now on only
     * events after {@code upTo} change the seat. Before the join opens, on its thread.
     *
     * @return false if one of them took the user out of the room
     */
    boolean catchUp(String user, List<Message> events, long upTo) {
        for (Message m : events) {
            RoomChange e = m.event();
            if (e == null || m.seq() <= accessSeq) continue;
            if (e.removes(user) != null) return false;
            long mute = e.muteOf(user);
            if (mute >= 0) mutedUntil = mute;
        }
        if (upTo > accessSeq) accessSeq = upTo;
        return true;
    }

    void remove() {
        removed = true;
    }

    void mute(long until) {
        mutedUntil = until;
    }
}
