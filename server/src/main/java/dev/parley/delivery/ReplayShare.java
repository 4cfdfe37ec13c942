package dev.parley.delivery;

import dev.parley.event.Message;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The messages one room's joins replayed lately, so that joins replaying the same seqs share one
 * {@link Message}, and with it one encoded frame (the frame is memoized on the message).
 *
 * <p>When a node restarts or drains, every member of a room resumes from about the same seq. Each
 * join read its own copy of the same messages from the store and encoded each again, into direct
 * memory the collector frees only later: in the reconnect storm of BENCHMARKS.md entry 55, 19,000
 * joins encoding their replays filled a 256 MiB heap's worth of direct memory, and the JVM's
 * reservation of more ran full collections (hundreds of milliseconds each) through the storm.
 * Shared, a room's replays cost one frame per message however many resume.
 *
 * <p>A slot holds a weak reference: a message is shared while some join or outbox still holds it,
 * and costs nothing after. Slots are taken by seq modulo their number; a read that finds another
 * message in its slot takes the slot over. A message is shared only with a read of the same seq
 * whose every changeable part is equal (text, event, edits, deletion, reactions), so a join never
 * gets a frame older than what it read. Thread-safe: joins read on worker threads.
 */
final class ReplayShare {
    static final int SLOTS = 256;

    private volatile AtomicReferenceArray<WeakReference<Message>> slots; // made on the first replay: most rooms never replay

    /** {@code read} with each message replaced by an equal one another join holds, if any; the others kept for later joins. */
    List<Message> share(List<Message> read) {
        if (read.isEmpty()) return read;
        AtomicReferenceArray<WeakReference<Message>> s = slots();
        List<Message> out = new ArrayList<>(read.size());
        for (Message m : read) {
            int i = (int) (m.seq() & (SLOTS - 1));
            WeakReference<Message> ref = s.get(i);
            Message kept = ref == null ? null : ref.get();
            if (kept != null && same(kept, m)) {
                out.add(kept);
            } else {
                s.set(i, new WeakReference<>(m));
                out.add(m);
            }
        }
        return out;
    }

    private AtomicReferenceArray<WeakReference<Message>> slots() {
        AtomicReferenceArray<WeakReference<Message>> s = slots;
        if (s == null) {
            synchronized (this) {
                s = slots;
                if (s == null) slots = s = new AtomicReferenceArray<>(SLOTS);
            }
        }
        return s;
    }

    /** Whether the two reads encode alike: the rest of a message (sender, time, clientId, reply, bot) never changes. */
    static boolean same(Message a, Message b) {
        return a.seq() == b.seq() && a.id().equals(b.id()) && a.text().equals(b.text())
                && Objects.equals(a.event(), b.event()) && Objects.equals(a.state(), b.state());
    }
}
