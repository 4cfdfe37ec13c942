package dev.parley.broker;

import dev.parley.event.RoomEvent;
import dev.parley.event.Message;
import dev.parley.event.RoomChange;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The wire form of a {@link RoomEvent} between nodes: a small binary record, encoded once per
 * event on the publishing node and decoded once per event on each receiving node.
 *
 * <pre>
 * byte version (1) · byte kind ('M' message, 'E' room event, 'T' typing, 'P' presence) · str origin · str room · then
 *   M: long seq · str id · str from · str text · long ts · str clientId
 *   E: as M, then str event type · str event fields (JSON)
 *   T: str user
 *   P: str user · byte online
 * str = int length of the UTF-8 bytes, then the bytes
 * </pre>
 *
 * The version byte lets a node of a newer release skip what it does not understand during a rolling
 * upgrade, instead of misreading it. (A node from before room events skips 'E' as a kind it does
 * not know, and reads the event back from the store as it does any message the broker lost.)
 */
final class BrokerCodec {
    static final byte VERSION = 1;

    private BrokerCodec() {}

    /** An event and the instance of the node that published it. */
    record Decoded(String origin, RoomEvent event) {}

    static byte[] encode(String origin, RoomEvent event) {
        byte[] o = utf8(origin);
        byte[] room = utf8(event.room());
        return switch (event) {
            case RoomEvent.MessageCommitted mc -> {
                Message m = mc.message();
                byte[] id = utf8(m.id()), from = utf8(m.from()), text = utf8(m.text()), cid = utf8(m.clientId());
                RoomChange e = m.event();
                byte[] type = e == null ? null : utf8(e.type()), fields = e == null ? null : utf8(e.json());
                int extra = e == null ? 0 : 4 + type.length + 4 + fields.length;
                ByteBuffer b = header(e == null ? 'M' : 'E', o, room, 8 + 4 + id.length + 4 + from.length + 4 + text.length + 8 + 4 + cid.length + extra);
                b.putLong(m.seq());
                put(b, id);
                put(b, from);
                put(b, text);
                b.putLong(m.tsMillis());
                put(b, cid);
                if (e != null) {
                    put(b, type);
                    put(b, fields);
                }
                yield b.array();
            }
            case RoomEvent.Typing t -> {
                byte[] user = utf8(t.user());
                ByteBuffer b = header('T', o, room, 4 + user.length);
                put(b, user);
                yield b.array();
            }
            case RoomEvent.PresenceChanged p -> {
                byte[] user = utf8(p.user());
                ByteBuffer b = header('P', o, room, 4 + user.length + 1);
                put(b, user);
                b.put((byte) (p.online() ? 1 : 0));
                yield b.array();
            }
        };
    }

    /** @throws IllegalArgumentException if the bytes are not an event of a version this node reads */
    static Decoded decode(byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            byte version = b.get();
            if (version != VERSION) throw new IllegalArgumentException("unknown event version " + version);
            byte kind = b.get();
            String origin = str(b);
            String room = str(b);
            RoomEvent event = switch (kind) {
                case 'M', 'E' -> {
                    long seq = b.getLong();
                    String id = str(b), from = str(b), text = str(b);
                    long ts = b.getLong();
                    String clientId = str(b);
                    RoomChange e = kind == 'E' ? parseEvent(str(b), str(b)) : null;
                    yield new RoomEvent.MessageCommitted(new Message(room, seq, id, from, text, ts, clientId, e));
                }
                case 'T' -> new RoomEvent.Typing(room, str(b));
                case 'P' -> new RoomEvent.PresenceChanged(room, str(b), b.get() == 1);
                default -> throw new IllegalArgumentException("unknown event kind " + kind);
            };
            if (b.hasRemaining()) throw new IllegalArgumentException(b.remaining() + " bytes after the event");
            return new Decoded(origin, event);
        } catch (BufferUnderflowException | NegativeArraySizeException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("truncated event", e);
        }
    }

    private static RoomChange parseEvent(String type, String fields) {
        try {
            return RoomChange.parse(type, fields);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("unreadable room event: " + e.getMessage(), e);
        }
    }

    private static ByteBuffer header(char kind, byte[] origin, byte[] room, int body) {
        ByteBuffer b = ByteBuffer.allocate(2 + 4 + origin.length + 4 + room.length + body);
        b.put(VERSION).put((byte) kind);
        put(b, origin);
        put(b, room);
        return b;
    }

    private static void put(ByteBuffer b, byte[] s) {
        b.putInt(s.length).put(s);
    }

    private static String str(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) throw new IllegalArgumentException("bad string length " + n);
        String s = new String(b.array(), b.arrayOffset() + b.position(), n, StandardCharsets.UTF_8);
        b.position(b.position() + n);
        return s;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
