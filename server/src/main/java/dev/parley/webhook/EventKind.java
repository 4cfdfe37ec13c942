package dev.parley.webhook;

import dev.parley.event.Message;
import dev.parley.event.RoomChange;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The kinds of room event a webhook may ask for ({@code events} of {@code POST .../webhooks}), each
 * a group of the room's timeline (PROTOCOL.md 2): what a receiver subscribes to without knowing
 * every {@code event.type} there is or will be.
 */
public enum EventKind {
    /** A message someone sent. */
    MESSAGE,
    /** A message's text was edited. */
    EDITED,
    /** A message was deleted. */
    DELETED,
    /** A reaction was given or taken back. */
    REACTION,
    /** Someone was added, removed, left, banned, unbanned, muted, unmuted, or given a role. */
    MEMBERSHIP,
    /** The room itself: made, deleted, its retention set; and any event type added later. */
    ROOM;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind of a stored message or room event. */
    public static EventKind of(Message m) {
        RoomChange e = m.event();
        if (e == null) return MESSAGE;
        return switch (e.type()) {
            case RoomChange.EDITED -> EDITED;
            case RoomChange.DELETED -> DELETED;
            case RoomChange.REACTION -> REACTION;
            case RoomChange.MEMBER_ADDED, RoomChange.ROLE_CHANGED, RoomChange.MUTED, RoomChange.UNMUTED, RoomChange.MEMBER_REMOVED,
                 RoomChange.MEMBER_LEFT, RoomChange.BANNED, RoomChange.UNBANNED -> MEMBERSHIP;
            default -> ROOM;
        };
    }

    /** The kind named on the wire, or null. */
    public static EventKind named(String wire) {
        for (EventKind k : values()) if (k.wire().equals(wire)) return k;
        return null;
    }

    /** As the store keeps them: the names, comma-separated, in this enum's order. */
    public static String join(Set<EventKind> kinds) {
        StringJoiner j = new StringJoiner(",");
        for (EventKind k : values()) if (kinds.contains(k)) j.add(k.wire());
        return j.toString();
    }

    public static Set<EventKind> split(String stored) {
        Set<EventKind> out = EnumSet.noneOf(EventKind.class);
        for (String s : stored.split(",")) {
            EventKind k = named(s.strip());
            if (k != null) out.add(k);
        }
        return out;
    }
}
