package dev.parley.chat;

import java.util.EnumSet;
import java.util.Map;

/**
 * Who may do what in a room: the one table of PROTOCOL.md ("Room kinds, roles and who may do
 * what"), and the one place the code asks. Pure: the caller reads the roles, this decides.
 */
final class RoomRules {
    private RoomRules() {}

    /** A user's standing in a room; {@link #ADMIN} is a server administrator (CHAT_ADMINS) acting in it. */
    enum Role {
        NONE, MEMBER, MODERATOR, OWNER, ADMIN;

        static Role of(String stored) {
            if (stored == null) return NONE;
            return switch (stored) {
                case "owner" -> OWNER;
                case "moderator" -> MODERATOR;
                case "member" -> MEMBER;
                default -> throw new IllegalArgumentException("unknown role " + stored);
            };
        }
    }

    /** The room changes a role may make. Reading, joining and sending are decided by the room's kind and the user's membership. */
    enum Action {
        /** Add someone as a member. */
        ADD,
        /** Remove, ban, lift a ban, mute, unmute. */
        MODERATE,
        /** Make someone a moderator or a member. */
        SET_ROLE,
        /** Hand the ownership over. */
        TRANSFER,
        DELETE_ROOM,
        LIST_BANS,
        /** Delete someone else's message (anyone may delete their own). */
        DELETE_MESSAGE,
        /** Set how long the room keeps its messages: shortening it deletes history for everyone, as deleting the room does. */
        SET_RETENTION,
        /** Register, list, remove and re-enable the room's webhooks: they send the whole room to a URL, and show where. */
        MANAGE_WEBHOOKS
    }

    private static final Map<Action, EnumSet<Role>> WHO = Map.of(
            Action.ADD, EnumSet.of(Role.MODERATOR, Role.OWNER, Role.ADMIN),
            Action.MODERATE, EnumSet.of(Role.MODERATOR, Role.OWNER, Role.ADMIN),
            Action.SET_ROLE, EnumSet.of(Role.OWNER, Role.ADMIN),
            Action.TRANSFER, EnumSet.of(Role.OWNER, Role.ADMIN),
            Action.DELETE_ROOM, EnumSet.of(Role.OWNER, Role.ADMIN),
            Action.LIST_BANS, EnumSet.of(Role.MODERATOR, Role.OWNER, Role.ADMIN),
            Action.DELETE_MESSAGE, EnumSet.of(Role.MODERATOR, Role.OWNER, Role.ADMIN),
            Action.SET_RETENTION, EnumSet.of(Role.OWNER, Role.ADMIN),
            Action.MANAGE_WEBHOOKS, EnumSet.of(Role.OWNER, Role.ADMIN));

    /**
     * Whether {@code actor} may do {@code action} in a room of {@code kind}. A direct room has no
     * roles but member: only an administrator may do anything to it, and that is deleting it.
     */
    static boolean may(Role actor, Action action, String kind) {
        if ("direct".equals(kind)) return actor == Role.ADMIN && action == Action.DELETE_ROOM;
        return WHO.get(action).contains(actor);
    }

    /**
     * Whether someone may manage a room's webhooks: as {@link #may} says, and in a private or direct
     * room only as a member, administrators too (a webhook reads the room, and an administrator reads
     * a private room only as a member, which its members see).
     *
     * @param admin whether they are a server administrator
     * @param role  their stored role in the room, null if they are no member
     */
    static boolean mayManageWebhooks(boolean admin, String role, String kind) {
        if (!"public".equals(kind) && role == null) return false;
        return may(admin ? Role.ADMIN : Role.of(role), Action.MANAGE_WEBHOOKS, kind);
    }

    /**
     * Whether {@code actor} may moderate (remove, ban, mute) someone of role {@code target}: a
     * moderator only plain members (and non-members), the owner and admins anyone but the owner.
     */
    static boolean mayModerate(Role actor, Role target) {
        if (target == Role.OWNER) return false;
        if (actor == Role.MODERATOR) return target == Role.NONE || target == Role.MEMBER;
        return actor == Role.OWNER || actor == Role.ADMIN;
    }
}
