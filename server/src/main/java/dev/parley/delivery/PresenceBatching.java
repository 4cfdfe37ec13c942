package dev.parley.delivery;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Presence in big rooms (PROTOCOL.md): a room with more than {@code above} users online gets its
 * changes as one summary per {@code every} instead of a frame per change; {@code above} 0: never.
 */
public record PresenceBatching(int above, Duration every) {
    /** A presence frame per change, whatever the room's size. */
    public static final PresenceBatching OFF = new PresenceBatching(0, Duration.ofSeconds(2));

    public PresenceBatching {
        if (above < 0) throw new IllegalArgumentException("above: " + above);
        requireNonNull(every, "every");
    }
}
