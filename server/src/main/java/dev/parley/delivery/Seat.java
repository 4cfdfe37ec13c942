package dev.parley.delivery;

/**
 * A subscriber's place in one room, as far as room events have changed it since its join checked
 * the user's access: whether an event took the user out ({@link #removed}), and until when they are
 * muted. Written by the delivery under the room's lock as the events pass, in seq order; read by the
 * subscriber's own thread (a send checks it), hence volatile.
 */
public final class Seat {
    private final long accessSeq;
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

    void remove() {
        removed = true;
    }

    void mute(long until) {
        mutedUntil = until;
    }
}
