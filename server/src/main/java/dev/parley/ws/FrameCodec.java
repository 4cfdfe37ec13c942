package dev.parley.ws;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import dev.parley.chat.ErrorCode;
import dev.parley.chat.Limits;
import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.event.ReadState;
import dev.parley.delivery.Subscriber;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.util.List;

/**
 * The only place frames meet JSON. Decoding is a single streaming pass that type-checks every
 * field; encoding produces complete WebSocket text frames (header and payload), so a message is
 * encoded once and the same bytes go to every recipient on this node.
 *
 * <p>Just over 400 lines: every frame's fields are read and written here, side by side, so that a
 * field's type check and its encoding are seen together; split by frame, each half would repeat the
 * streaming parser's plumbing.
 */
final class FrameCodec {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private FrameCodec() {}

    // --- decoding ---

    static ClientFrame decode(String text) {
        String type = null, ref = null, room = null, textField = null, clientId = null, token = null, emoji = null;
        Long since = null, before = null, seq = null, replyTo = null;
        Boolean on = null;
        Integer limit = null;
        boolean hasText = false;
        String fieldError = null; // the first field of a wrong type, reported once the ref is known
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw bad("a frame must be a JSON object", null);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                try {
                    switch (field) {
                        case "type" -> type = string(p, t, "type", ref);
                        case "ref" -> ref = string(p, t, "ref", null);
                        case "room" -> room = string(p, t, "room", ref);
                        case "text" -> { textField = string(p, t, "text", ref); hasText = true; }
                        case "clientId" -> clientId = string(p, t, "clientId", ref);
                        case "token" -> token = string(p, t, "token", ref);
                        case "since" -> since = integer(p, t, "since", ref);
                        case "before" -> before = integer(p, t, "before", ref);
                        case "seq" -> seq = integer(p, t, "seq", ref);
                        case "replyTo" -> replyTo = integer(p, t, "replyTo", ref);
                        case "emoji" -> emoji = string(p, t, "emoji", ref);
                        case "on" -> on = bool(p, t, "on", ref);
                        case "limit" -> {
                            Long l = integer(p, t, "limit", ref);
                            limit = l == null ? null : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, l));
                        }
                        default -> p.skipChildren(); // unknown fields are ignored, so clients can add their own
                    }
                } catch (FrameException e) {
                    if (fieldError == null) fieldError = e.getMessage();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) throw bad("a frame must be exactly one JSON object", ref);
        } catch (FrameException e) {
            throw e;
        } catch (IOException e) {
            throw bad("malformed JSON", ref);
        }
        if (ref != null && (ref.isEmpty() || ref.length() > 128)) throw bad("ref must be 1 to 128 characters", null);
        if (ref != null && !Limits.wellFormed(ref)) throw bad("ref must be valid Unicode (it has half a surrogate pair)", null);
        if (fieldError != null) throw bad(fieldError, ref);
        if (type == null) throw bad("type is required", ref);
        return switch (type) {
            case "join" -> new ClientFrame.Join(ref, required(room, "room", ref), nonNegative(since, "since", ref));
            case "leave" -> new ClientFrame.Leave(ref, required(room, "room", ref));
            case "send" -> {
                required(room, "room", ref);
                if (!hasText) throw bad("text is required", ref);
                yield new ClientFrame.Send(ref, room, textField, required(clientId, "clientId", ref), replyTo);
            }
            case "edit" -> {
                required(room, "room", ref);
                required(seq, "seq", ref);
                if (!hasText) throw bad("text is required", ref);
                yield new ClientFrame.Edit(ref, room, seq, textField);
            }
            case "delete" -> new ClientFrame.Delete(ref, required(room, "room", ref), required(seq, "seq", ref));
            case "react" -> new ClientFrame.React(ref, required(room, "room", ref), required(seq, "seq", ref), required(emoji, "emoji", ref),
                    required(on, "on", ref));
            case "typing" -> new ClientFrame.Typing(ref, required(room, "room", ref));
            case "history" -> new ClientFrame.History(ref, required(room, "room", ref), before, limit);
            case "refresh" -> new ClientFrame.Refresh(ref, required(token, "token", ref));
            case "ping" -> new ClientFrame.Ping(ref);
            case "read" -> {
                required(room, "room", ref);
                if (seq == null) throw bad("seq is required", ref);
                yield new ClientFrame.Read(ref, room, nonNegative(seq, "seq", ref));
            }
            default -> throw bad("unknown frame type: " + (type.length() > 32 ? type.substring(0, 32) + "…" : type), ref);
        };
    }

    private static String string(JsonParser p, JsonToken t, String field, String ref) throws IOException {
        if (t == JsonToken.VALUE_NULL) return null;
        if (t != JsonToken.VALUE_STRING) {
            p.skipChildren();
            throw bad(field + " must be a string", ref);
        }
        return p.getText();
    }

    private static Long integer(JsonParser p, JsonToken t, String field, String ref) throws IOException {
        if (t == JsonToken.VALUE_NULL) return null;
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            p.skipChildren();
            throw bad(field + " must be an integer", ref);
        }
        return p.getLongValue();
    }

    private static Boolean bool(JsonParser p, JsonToken t, String field, String ref) throws IOException {
        if (t == JsonToken.VALUE_NULL) return null;
        if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
            p.skipChildren();
            throw bad(field + " must be true or false", ref);
        }
        return t == JsonToken.VALUE_TRUE;
    }

    private static <T> T required(T value, String field, String ref) {
        if (value == null) throw bad(field + " is required", ref);
        return value;
    }

    private static Long nonNegative(Long value, String field, String ref) {
        if (value != null && value < 0) throw bad(field + " must be a non-negative integer", ref);
        return value;
    }

    private static FrameException bad(String message, String ref) {
        return new FrameException(ErrorCode.BAD_REQUEST, message, ref);
    }

    // --- encoding ---

    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** A complete WebSocket text frame holding the JSON that {@code body} writes. */
    static ByteBuf frame(Body body) {
        ByteArrayBuilder bytes = new ByteArrayBuilder(256);
        try (JsonGenerator g = JSON.createGenerator(bytes, JsonEncoding.UTF8)) {
            g.writeStartObject();
            body.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a frame", e);
        }
        byte[] payload = bytes.toByteArray();
        int n = payload.length;
        int header = n < 126 ? 2 : n < 65536 ? 4 : 10;
        ByteBuf buf = Unpooled.buffer(header + n, header + n);
        buf.writeByte(0x81); // FIN + text; server frames are never masked
        if (n < 126) {
            buf.writeByte(n);
        } else if (n < 65536) {
            buf.writeByte(126);
            buf.writeShort(n);
        } else {
            buf.writeByte(127);
            buf.writeLong(n);
        }
        buf.writeBytes(payload);
        return buf;
    }

    /**
     * The message frame, shared by every recipient on this node: encoded once, and unreleasable
     * because many outboxes hold it at once. It is a heap buffer, freed by the garbage collector
     * with the Message: each outbox copies it into the one buffer it writes ({@link Outbox}), so a
     * direct buffer of its own (and its cleaner) would buy nothing, and cost one per message of a
     * join's replay, which is encoded for that join alone.
     */
    static ByteBuf message(Message m) {
        return m.encoded(msg -> Unpooled.unreleasableBuffer(frame(g -> {
            g.writeStringField("type", "message");
            writeMessageFields(g, msg);
        })));
    }

    private static void writeMessageFields(JsonGenerator g, Message m) throws IOException {
        g.writeStringField("room", m.room());
        g.writeNumberField("seq", m.seq());
        g.writeStringField("id", m.id());
        g.writeStringField("from", m.from());
        g.writeStringField("text", m.text());
        g.writeStringField("ts", m.ts());
        g.writeStringField("clientId", m.clientId());
        if (m.replyTo() > 0) g.writeNumberField("replyTo", m.replyTo());
        if (m.bot()) g.writeBooleanField("bot", true);
        List<String> mentions = m.mentions();
        if (!mentions.isEmpty()) {
            g.writeArrayFieldStart("mentions");
            for (String u : mentions) g.writeString(u);
            g.writeEndArray();
        }
        if (m.event() != null) {
            g.writeObjectFieldStart("event");
            g.writeStringField("type", m.event().type());
            m.event().writeFields(g);
            g.writeEndObject();
        }
        Message.State s = m.state();
        if (s == null) return;
        if (s.editedAt() > 0) g.writeStringField("editedAt", Message.formatTs(s.editedAt()));
        if (s.deleted()) g.writeBooleanField("deleted", true);
        if (!s.reactions().isEmpty()) {
            g.writeArrayFieldStart("reactions");
            for (Message.Reaction r : s.reactions()) {
                g.writeStartObject();
                g.writeStringField("emoji", r.emoji());
                g.writeNumberField("count", r.count());
                g.writeArrayFieldStart("users");
                for (String u : r.users()) g.writeString(u);
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        if (s.lastChange() > 0) g.writeNumberField("lastChange", s.lastChange());
    }

    static ByteBuf joined(Subscriber.Joined j) {
        return frame(g -> {
            g.writeStringField("type", "joined");
            ref(g, j.ref());
            g.writeStringField("room", j.room());
            g.writeNumberField("lastSeq", j.lastSeq());
            g.writeNumberField("online", j.online());
            g.writeArrayFieldStart("members");
            for (String u : j.members()) g.writeString(u);
            g.writeEndArray();
            g.writeBooleanField("recovered", j.recovered());
            readFields(g, j.read());
            g.writeNumberField("historyStart", j.historyStart());
        });
    }

    /**
     * The answer to a {@code read}, and what the user's other connections in the room are told when
     * their marker moved ({@code ref} null): the marker and the counts after it, as of {@code lastSeq}.
     */
    static ByteBuf read(String ref, ReadState state) {
        return frame(g -> {
            g.writeStringField("type", "read");
            ref(g, ref);
            g.writeStringField("room", state.room());
            g.writeNumberField("seq", state.seq());
            g.writeNumberField("lastSeq", state.lastSeq());
            g.writeNumberField("unread", state.unread());
            g.writeNumberField("mentions", state.mentions());
        });
    }

    /** The read state's fields of {@code joined}: the marker (null if none) and the counts after it. */
    private static void readFields(JsonGenerator g, ReadState read) throws IOException {
        if (read == null) {
            g.writeNullField("readSeq");
            g.writeNumberField("unread", 0);
            g.writeNumberField("mentions", 0);
        } else {
            g.writeNumberField("readSeq", read.seq());
            g.writeNumberField("unread", read.unread());
            g.writeNumberField("mentions", read.mentions());
        }
    }

    static ByteBuf ack(String ref, Message m) {
        return frame(g -> {
            g.writeStringField("type", "ack");
            ref(g, ref);
            g.writeStringField("room", m.room());
            g.writeStringField("clientId", m.clientId());
            g.writeNumberField("seq", m.seq());
            g.writeStringField("id", m.id());
            g.writeStringField("ts", m.ts());
        });
    }

    /**
     * Reply to {@code edit}, {@code delete} and {@code react}: the change is durable, as the event
     * with this seq; without an event (nothing changed) it names the message only.
     */
    static ByteBuf changeAck(String ref, dev.parley.chat.MessageEdits.Change c) {
        return frame(g -> {
            g.writeStringField("type", "ack");
            ref(g, ref);
            g.writeStringField("room", c.room());
            g.writeNumberField("target", c.target());
            Message e = c.event();
            if (e != null) {
                g.writeNumberField("seq", e.seq());
                g.writeStringField("id", e.id());
                g.writeStringField("ts", e.ts());
            }
        });
    }

    /** A typing, presence or presence_summary frame, shared by every recipient like a message frame (heap: it is small). */
    static ByteBuf notice(Notice n) {
        return n.encoded(notice -> Unpooled.unreleasableBuffer(frame(g -> {
            if (notice.kind() == Notice.Kind.TYPING) {
                g.writeStringField("type", "typing");
                g.writeStringField("room", notice.room());
                g.writeStringField("user", notice.user());
            } else if (notice.kind() == Notice.Kind.SUMMARY) {
                Notice.Summary s = notice.summary();
                g.writeStringField("type", "presence_summary");
                g.writeStringField("room", notice.room());
                g.writeNumberField("online", s.online());
                g.writeArrayFieldStart("joined");
                for (String u : s.joined()) g.writeString(u);
                g.writeEndArray();
                g.writeArrayFieldStart("left");
                for (String u : s.left()) g.writeString(u);
                g.writeEndArray();
                g.writeNumberField("more", s.more());
            } else {
                g.writeStringField("type", "presence");
                g.writeStringField("room", notice.room());
                g.writeStringField("user", notice.user());
                g.writeStringField("status", notice.kind() == Notice.Kind.ONLINE ? "online" : "offline");
            }
        })));
    }

    static ByteBuf history(String ref, String room, List<Message> messages, boolean hasMore, long historyStart) {
        return frame(g -> {
            g.writeStringField("type", "history");
            ref(g, ref);
            g.writeStringField("room", room);
            g.writeArrayFieldStart("messages");
            for (Message m : messages) {
                g.writeStartObject();
                g.writeStringField("type", "message");
                writeMessageFields(g, m);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeBooleanField("hasMore", hasMore);
            g.writeNumberField("historyStart", historyStart);
        });
    }

    static ByteBuf left(String ref, String room) {
        return frame(g -> {
            g.writeStringField("type", "left");
            ref(g, ref);
            g.writeStringField("room", room);
        });
    }

    /** The connection was taken out of the room by a change made elsewhere (PROTOCOL.md, left). */
    static ByteBuf removed(String room, String reason) {
        return frame(g -> {
            g.writeStringField("type", "left");
            g.writeStringField("room", room);
            g.writeStringField("reason", reason);
        });
    }

    static ByteBuf pong(String ref) {
        return frame(g -> {
            g.writeStringField("type", "pong");
            ref(g, ref);
        });
    }

    static ByteBuf error(String ref, ErrorCode code, String message) {
        return frame(g -> {
            g.writeStringField("type", "error");
            ref(g, ref);
            g.writeStringField("code", code.wire());
            g.writeStringField("message", message);
        });
    }

    private static void ref(JsonGenerator g, String ref) throws IOException {
        if (ref != null) g.writeStringField("ref", ref);
    }
}
