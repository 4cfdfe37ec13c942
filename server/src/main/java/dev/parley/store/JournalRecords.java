package dev.parley.store;

import dev.parley.event.Message;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The payload of a {@link Journal} record, written and read side by side: message count (int),
 * then per message room, seq, id, sender, ts, clientId, text (strings as an int length and UTF-8
 * bytes), and replyTo (long) when the count has {@link #WITH_REPLIES} set, then a flags byte (1: a
 * bot's message) when it has {@link #WITH_FLAGS} set: records written before replies or bots lack
 * them, and are read as they were written. When the count has {@link #WITH_MARKS} set, the messages
 * are followed by read markers raised in the same commit: their count (int), then per marker room,
 * user key (strings) and seq (long); see {@link Journal.Mark}.
 */
final class JournalRecords {
    /** A flag on a record's message count: each message ends with its replyTo. */
    private static final int WITH_REPLIES = 1 << 30;
    /** A flag on a record's message count: each message ends with a flags byte, after its replyTo. */
    private static final int WITH_FLAGS = 1 << 29;
    /** A flag on a record's message count: read markers follow the messages. */
    private static final int WITH_MARKS = 1 << 28;

    private ByteBuffer buffer = ByteBuffer.allocate(64 << 10);

    /**
     * Writes a record's payload into this encoder's buffer after {@code reserve} bytes left for the
     * caller, and returns the buffer positioned just past the payload. The buffer is reused (and
     * kept when it grows): what it returns is good until the next call.
     */
    ByteBuffer encode(List<Message> messages, List<Journal.Mark> marks, int reserve) {
        ByteBuffer b = buffer;
        b.clear();
        b.position(reserve);
        b = ensure(b, 4);
        b.putInt(messages.size() | WITH_REPLIES | WITH_FLAGS | (marks.isEmpty() ? 0 : WITH_MARKS));
        for (Message m : messages) {
            b = putString(b, m.room());
            b = ensure(b, 8);
            b.putLong(m.seq());
            b = putString(b, m.id());
            b = putString(b, m.from());
            b = ensure(b, 8);
            b.putLong(m.tsMillis());
            b = putString(b, m.clientId());
            b = putString(b, m.text());
            b = ensure(b, 8);
            b.putLong(m.replyTo());
            b = ensure(b, 1);
            b.put((byte) (m.bot() ? 1 : 0));
        }
        if (!marks.isEmpty()) {
            b = ensure(b, 4);
            b.putInt(marks.size());
            for (Journal.Mark k : marks) {
                b = putString(b, k.room());
                b = putString(b, k.userKey());
                b = ensure(b, 8);
                b.putLong(k.seq());
            }
        }
        return b;
    }

    private ByteBuffer putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b = ensure(b, 4 + bytes.length);
        b.putInt(bytes.length);
        b.put(bytes);
        return b;
    }

    /** The buffer with room for {@code more} bytes, grown (and kept) if it had none. */
    private ByteBuffer ensure(ByteBuffer b, int more) {
        if (b.remaining() >= more) return b;
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + more));
        b.flip();
        bigger.put(b);
        buffer = bigger;
        return bigger;
    }

    static List<Message> decode(ByteBuffer p, List<Journal.Mark> marks) throws IOException {
        try {
            int head = p.getInt();
            boolean replies = (head & WITH_REPLIES) != 0;
            boolean flags = (head & WITH_FLAGS) != 0;
            boolean withMarks = (head & WITH_MARKS) != 0;
            int count = head & ~(WITH_REPLIES | WITH_FLAGS | WITH_MARKS);
            List<Message> out = new ArrayList<>(Math.min(count, 4096));
            for (int i = 0; i < count; i++) {
                String room = getString(p);
                long seq = p.getLong();
                String id = getString(p);
                String sender = getString(p);
                long ts = p.getLong();
                String clientId = getString(p);
                String text = getString(p);
                long replyTo = replies ? p.getLong() : 0;
                boolean bot = flags && (p.get() & 1) != 0;
                out.add(new Message(room, seq, id, sender, text, ts, clientId, null, replyTo, null, bot));
            }
            if (withMarks) {
                int n = p.getInt();
                for (int i = 0; i < n; i++) marks.add(new Journal.Mark(getString(p), getString(p), p.getLong()));
            }
            return out;
        } catch (RuntimeException e) {
            // The CRC matched (in this version with the header's random generation in it): not a torn
            // write, nor what an earlier generation left; the file is not what this version wrote.
            throw new IOException("journal record is not readable: " + e, e);
        }
    }

    private static String getString(ByteBuffer p) {
        int n = p.getInt();
        String s = new String(p.array(), p.position(), n, StandardCharsets.UTF_8);
        p.position(p.position() + n);
        return s;
    }
}
