package dev.parley.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

import static java.util.Objects.requireNonNull;

/**
 * What a room event says (PROTOCOL.md, room events): its type and the fields that apply, the
 * others null. Stored as the type and these fields in JSON ({@link #json}), and sent as the
 * {@code event} object of a message frame. The changes of a message (edited, deleted, reaction)
 * name it by its seq ({@code target}, written {@code "seq"}).
 *
 * @param until    epoch millis, or null
 * @param target   the seq of the message an edit, deletion or reaction is about, or null
 * @param text     an edit's new text (null once a later edit or the deletion took it out)
 * @param on       a reaction given (true) or taken back (false)
 * @param days     a {@code retention_set}'s days, or null (the server's)
 * @param messages a {@code retention_set}'s messages, or null (the server's)
 */
public record RoomChange(String type, String user, String by, String role, String reason, Long until, String visibility, String topic,
                         Long target, String text, String emoji, Boolean on, Integer days, Long messages) {
    public static final String ROOM_CREATED = "room_created", MEMBER_ADDED = "member_added", ROLE_CHANGED = "role_changed",
            MUTED = "muted", UNMUTED = "unmuted", MEMBER_REMOVED = "member_removed", MEMBER_LEFT = "member_left",
            BANNED = "banned", UNBANNED = "unbanned", ROOM_DELETED = "room_deleted",
            EDITED = "edited", DELETED = "deleted", REACTION = "reaction", RETENTION_SET = "retention_set";

    private static final JsonFactory JSON = JsonFactory.builder().build();

    public RoomChange {
        requireNonNull(type, "type");
    }

    /** A change of the room's members or of the room itself. */
    public RoomChange(String type, String user, String by, String role, String reason, Long until, String visibility, String topic) {
        this(type, user, by, role, reason, until, visibility, topic, null, null, null, null, null, null);
    }

    /** A change of a message (edited, deleted, reaction). */
    public RoomChange(String type, String user, String by, String role, String reason, Long until, String visibility, String topic,
                      Long target, String text, String emoji, Boolean on) {
        this(type, user, by, role, reason, until, visibility, topic, target, text, emoji, on, null, null);
    }

    /** A change of the room's retention by {@code by}; a null is the server's default. */
    public static RoomChange retention(String by, Integer days, Long messages) {
        return new RoomChange(RETENTION_SET, null, by, null, null, null, null, null, null, null, null, null, days, messages);
    }

    public static RoomChange of(String type, String user, String by) {
        return new RoomChange(type, user, by, null, null, null, null, null);
    }

    /** Message {@code seq} now reads {@code text} (null: an edit whose text a later change took out). */
    public static RoomChange edited(long seq, String text) {
        return new RoomChange(EDITED, null, null, null, null, null, null, null, seq, text, null, null);
    }

    public static RoomChange deleted(long seq, String by) {
        return new RoomChange(DELETED, null, by, null, null, null, null, null, seq, null, null, null);
    }

    public static RoomChange reaction(long seq, String emoji, boolean on, String user) {
        return new RoomChange(REACTION, user, null, null, null, null, null, null, seq, null, emoji, on);
    }

    /**
     * Why this event takes {@code user} out of the room, as a {@code left} frame says it, or null
     * if it does not: a removal, a ban, leaving, and the room's deletion (which takes out everyone).
     */
    public String removes(String user) {
        return switch (type) {
            case ROOM_DELETED -> "room_deleted";
            case MEMBER_REMOVED -> user.equalsIgnoreCase(this.user) ? "removed" : null;
            case BANNED -> user.equalsIgnoreCase(this.user) ? "banned" : null;
            case MEMBER_LEFT -> user.equalsIgnoreCase(this.user) ? "left" : null;
            default -> null;
        };
    }

    /** The mute this event sets on {@code user}: the end in epoch millis, 0 for none, or -1 if it says nothing of it. */
    public long muteOf(String user) {
        if (!user.equalsIgnoreCase(this.user)) return -1;
        return switch (type) {
            case MUTED -> until == null ? Long.MAX_VALUE : until;
            case UNMUTED -> 0;
            default -> -1;
        };
    }

    /** The fields but the type, as a JSON object. */
    public String json() {
        StringWriter out = new StringWriter(64);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            writeFields(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Writes the fields that apply, but the type, into an object being generated. */
    public void writeFields(JsonGenerator g) throws IOException {
        if (user != null) g.writeStringField("user", user);
        if (by != null) g.writeStringField("by", by);
        if (role != null) g.writeStringField("role", role);
        if (reason != null) g.writeStringField("reason", reason);
        if (until != null) g.writeStringField("until", Message.formatTs(until));
        if (visibility != null) g.writeStringField("visibility", visibility);
        if (topic != null) g.writeStringField("topic", topic);
        if (target != null) g.writeNumberField("seq", target);
        if (text != null) g.writeStringField("text", text);
        if (emoji != null) g.writeStringField("emoji", emoji);
        if (on != null) g.writeBooleanField("on", on);
        if (days != null) g.writeNumberField("days", days);
        if (messages != null) g.writeNumberField("messages", messages);
    }

    /** The event of a stored {@code type} and {@link #json} fields. */
    public static RoomChange parse(String type, String json) {
        String user = null, by = null, role = null, reason = null, visibility = null, topic = null, text = null, emoji = null;
        Long until = null, target = null, messages = null;
        Boolean on = null;
        Integer days = null;
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IllegalArgumentException("not an object: " + json);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                String v = p.getValueAsString();
                switch (field) {
                    case "user" -> user = v;
                    case "by" -> by = v;
                    case "role" -> role = v;
                    case "reason" -> reason = v;
                    case "until" -> until = java.time.Instant.parse(v).toEpochMilli();
                    case "visibility" -> visibility = v;
                    case "topic" -> topic = v;
                    case "seq" -> target = p.getLongValue();
                    case "text" -> text = v;
                    case "emoji" -> emoji = v;
                    case "on" -> on = p.getBooleanValue();
                    case "days" -> days = Integer.valueOf(v);
                    case "messages" -> messages = Long.valueOf(v);
                    default -> p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new RoomChange(type, user, by, role, reason, until, visibility, topic, target, text, emoji, on, days, messages);
    }
}
