package dev.parley.broker;

import dev.parley.event.RoomEvent;
import dev.parley.event.Message;
import dev.parley.event.ReadState;
import dev.parley.event.RoomChange;

import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * The wire form of a {@link RoomEvent} between nodes: a small binary record, encoded once per
 * event on the publishing node and decoded once per event on each receiving node, and authenticated
 * with an HMAC-SHA256 tag under the cluster's key.
 *
 * <pre>
 * byte version (2) · byte kind ('M' message, 'R' reply, 'B' a bot's message, 'E' room event, 'T' typing, 'P' presence, 'K' read marker) · str origin · str room · then
 *   M: long seq · str id · str from · str text · long ts · str clientId
 *   R: as M, then long replyTo
 *   B: as R (replyTo 0 for none); a node that does not know 'B' drops it as a lost event and reads it from the store
 *   E: as M, then str event type · str event fields (JSON)
 *   T: str user
 *   P: str user · byte online
 *   K: str user · long seq · long lastSeq · int unread · int mentions
 * then 32 bytes: HMAC-SHA256 under the cluster key of every byte before them
 * str = int length of the UTF-8 bytes, then the bytes
 * </pre>
 *
 * <p>Why the tag: a node delivers what it reads from Redis, and its delivery takes the first event
 * of a seq as the one (a later one is a duplicate). Anyone who could write to Redis could then have
 * published a message under any name, with the seq of the next real one, which every node would
 * have delivered instead of it. A record whose tag does not verify ({@link Unauthenticated}) is
 * dropped like a lost event, and the delivery reads the real one from the store. What the tag cannot
 * stop: Redis may still drop, delay, reorder or repeat authentic records, as the broker's at-most-once
 * contract allows, and the store repairs (a repeated message is a duplicate of its seq; a repeated
 * typing or presence event is ephemeral).
 *
 * <p>The version byte lets a node of a newer release skip what it does not understand during a
 * rolling upgrade, instead of misreading it. Version 1 records (before the tag) do not verify here,
 * and this node's do not decode on a node of version 1: during an upgrade the two releases see each
 * other's messages from the store (the delivery's reconcile, within a second or so), not from Redis.
 * (A node from before room events skips 'E' as a kind it does not know, and reads the event back
 * from the store as it does any message the broker lost; so does a node from before replies with 'R'.
 * One from before read markers skips 'K', and its clients learn the marker at their next join or
 * room list.)
 *
 * <p>An instance holds the key; it is safe for any number of threads (a {@link Mac} per thread).
 */
final class BrokerCodec {
    static final byte VERSION = 2;
    static final int TAG_BYTES = 32;
    private static final String HMAC = "HmacSHA256";

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    /** @param key the cluster key: at least 32 bytes, the same on every node */
    BrokerCodec(byte[] key) {
        if (key.length < 32) throw new IllegalArgumentException("a cluster key has at least 32 bytes, not " + key.length);
        this.key = new SecretKeySpec(key.clone(), HMAC);
        newMac(); // fails here, at start-up, if the JDK had no HMAC-SHA256
    }

    /** An event and the instance of the node that published it. */
    record Decoded(String origin, RoomEvent event) {}

    /** A record whose tag does not verify under this node's key: forged, cut, or from a node with another key or release. */
    static final class Unauthenticated extends IllegalArgumentException {
        Unauthenticated(String message) {
            super(message);
        }
    }

    byte[] encode(String origin, RoomEvent event) {
        byte[] o = utf8(origin);
        byte[] room = utf8(event.room());
        return switch (event) {
            case RoomEvent.MessageCommitted mc -> {
                Message m = mc.message();
                byte[] id = utf8(m.id()), from = utf8(m.from()), text = utf8(m.text()), cid = utf8(m.clientId());
                RoomChange e = m.event();
                byte[] type = e == null ? null : utf8(e.type()), fields = e == null ? null : utf8(e.json());
                boolean bot = e == null && m.bot();
                boolean reply = e == null && (m.replyTo() > 0 || bot);
                int extra = e != null ? 4 + type.length + 4 + fields.length : reply ? 8 : 0;
                ByteBuffer b = header(e != null ? 'E' : bot ? 'B' : reply ? 'R' : 'M', o, room, 8 + 4 + id.length + 4 + from.length + 4 + text.length + 8 + 4 + cid.length + extra);
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
                if (reply) b.putLong(m.replyTo());
                yield sign(b.array());
            }
            case RoomEvent.Typing t -> {
                byte[] user = utf8(t.user());
                ByteBuffer b = header('T', o, room, 4 + user.length);
                put(b, user);
                yield sign(b.array());
            }
            case RoomEvent.ReadMoved r -> {
                byte[] user = utf8(r.user());
                ByteBuffer b = header('K', o, room, 4 + user.length + 8 + 8 + 4 + 4);
                put(b, user);
                b.putLong(r.state().seq()).putLong(r.state().lastSeq()).putInt(r.state().unread()).putInt(r.state().mentions());
                yield sign(b.array());
            }
            case RoomEvent.PresenceChanged p -> {
                byte[] user = utf8(p.user());
                ByteBuffer b = header('P', o, room, 4 + user.length + 1);
                put(b, user);
                b.put((byte) (p.online() ? 1 : 0));
                yield sign(b.array());
            }
        };
    }

    /**
     * @throws Unauthenticated          if the record's tag does not verify under this node's key
     * @throws IllegalArgumentException if it does, but the bytes are not an event of a version this node reads
     */
    Decoded decode(byte[] bytes) {
        if (bytes.length < 2 + TAG_BYTES) throw new Unauthenticated("a record of " + bytes.length + " bytes has no room for its tag");
        int body = bytes.length - TAG_BYTES;
        Mac mac = macs.get();
        mac.update(bytes, 0, body);
        // In constant time: a check that stopped at the first wrong byte would tell a forger how many were right.
        if (!MessageDigest.isEqual(mac.doFinal(), Arrays.copyOfRange(bytes, body, bytes.length))) {
            throw new Unauthenticated("the tag does not verify");
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes, 0, body);
            byte version = b.get();
            if (version != VERSION) throw new IllegalArgumentException("unknown event version " + version);
            byte kind = b.get();
            String origin = str(b);
            String room = str(b);
            RoomEvent event = switch (kind) {
                case 'M', 'R', 'B', 'E' -> {
                    long seq = b.getLong();
                    String id = str(b), from = str(b), text = str(b);
                    long ts = b.getLong();
                    String clientId = str(b);
                    RoomChange e = kind == 'E' ? parseEvent(str(b), str(b)) : null;
                    long replyTo = kind == 'R' || kind == 'B' ? b.getLong() : 0;
                    yield new RoomEvent.MessageCommitted(new Message(room, seq, id, from, text, ts, clientId, e, replyTo, null, kind == 'B'));
                }
                case 'T' -> new RoomEvent.Typing(room, str(b));
                case 'P' -> new RoomEvent.PresenceChanged(room, str(b), b.get() == 1);
                case 'K' -> new RoomEvent.ReadMoved(str(b), new ReadState(room, b.getLong(), b.getLong(), b.getInt(), b.getInt()));
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

    /** Writes the tag of the record into its last {@link #TAG_BYTES} bytes, over all the others. */
    byte[] sign(byte[] record) {
        Mac mac = macs.get();
        mac.update(record, 0, record.length - TAG_BYTES);
        try {
            mac.doFinal(record, record.length - TAG_BYTES);
        } catch (ShortBufferException e) {
            throw new IllegalStateException(e); // the record has room for the tag: header() made it
        }
        return record;
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }

    private static ByteBuffer header(char kind, byte[] origin, byte[] room, int body) {
        ByteBuffer b = ByteBuffer.allocate(2 + 4 + origin.length + 4 + room.length + body + TAG_BYTES);
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
