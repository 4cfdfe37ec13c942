package dev.parley.store;

import dev.parley.event.Message;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The source of truth for order. {@link #append} assigns the room's next seq and stores the message;
 * concurrent appends are committed together by one writer thread (group commit, {@link GroupCommitWriter}),
 * so a burst of sends costs one transaction, not one each. The room row is locked for the transaction,
 * which keeps seqs gap-free when several nodes append to the same room. A unique key on (room, sender,
 * clientId) makes a retried send return the first copy instead of storing a second one.
 *
 * <p>{@link #start} starts the writer thread and {@link #close} stops it. Reads ({@link MessageReads})
 * are plain blocking JDBC: callers run them off the event loop.
 */
public final class MessageStore implements AutoCloseable {
    private final GroupCommitWriter writer;
    private final MessageReads reads;
    private final ReadMarkers markers;
    private final MessageSearch search;

    /** What an append produced: the stored message, and whether it was stored before (a retry). */
    public record Appended(Message message, boolean duplicate) {}

    /** @param historyStart where the room's history starts: seqs below it are gone (deleted room, or retention) */
    public record Page(List<Message> messages, boolean hasMore, long historyStart) {}

    public record RoomInfo(String name, long lastSeq) {}

    /** Where a page of search results ends, its last message: the next page holds the matches after it, newest first. */
    public record SearchAfter(long ts, String room, long seq) {
        /** A message that stands where this position is, to compare with. */
        Message asMessage() {
            return new Message(room, seq, "", "", "", ts, "");
        }
    }

    /** Told the size and duration of each committed batch; the metrics listen here. */
    public interface BatchObserver {
        void batchCommitted(int size, long nanos);

        BatchObserver NONE = (size, nanos) -> {};
    }

    /**
     * @param onCommit called on the writer thread with each transaction's new messages, in seq order
     *                 per room, after the commit and before any append future completes
     */
    public MessageStore(Database db, int batchMax, Consumer<List<Message>> onCommit, BatchObserver observer) {
        this(db, null, batchMax, 0, onCommit, observer);
    }

    /**
     * @param journal the embedded database's {@link Journal}, which this store then owns: whatever it
     *                holds that the database lacks is put back here, before the first append
     * @param lingerNanos under load, how long appends may wait for others to share their commit (see {@link Linger})
     */
    public MessageStore(Database db, Journal journal, int batchMax, long lingerNanos, Consumer<List<Message>> onCommit, BatchObserver observer) {
        this(db, journal, GroupCommitWriter.JOURNAL_CHECKPOINT_BYTES, batchMax, lingerNanos, onCommit, observer);
    }

    /** @param journalCheckpointBytes how much journal makes the writer have H2 write its pages and empty it */
    MessageStore(Database db, Journal journal, long journalCheckpointBytes, int batchMax, long lingerNanos, Consumer<List<Message>> onCommit, BatchObserver observer) {
        this(db, journal, journalCheckpointBytes, batchMax, lingerNanos, onCommit, observer, new LinkedBlockingQueue<>());
    }

    /** @param queue the writer's, empty: a test's, to hold an append on its way in */
    MessageStore(Database db, Journal journal, long journalCheckpointBytes, int batchMax, long lingerNanos, Consumer<List<Message>> onCommit,
                 BatchObserver observer, LinkedBlockingQueue<GroupCommitWriter.Work> queue) {
        requireNonNull(db, "db");
        if (journal != null) {
            try {
                journal.recover(db);
            } catch (RuntimeException e) {
                try {
                    journal.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
        this.writer = new GroupCommitWriter(db, journal, journalCheckpointBytes, batchMax, lingerNanos, onCommit, observer, queue);
        this.reads = new MessageReads(db);
        this.markers = new ReadMarkers(db, writer::mark);
        this.search = new MessageSearch(db);
    }

    /** Starts the writer thread; until then {@link #append} refuses. Once only. */
    public void start() {
        writer.start();
    }

    /**
     * Queues a message for the next group commit. Completes on the writer thread, or at once with a
     * {@link StoreException} if the store is closed.
     *
     * @throws IllegalStateException if the store is not started
     */
    public CompletableFuture<Appended> append(String room, String sender, String clientId, String text) {
        return append(room, sender, clientId, text, 0);
    }

    /**
     * The same for a reply: {@code replyTo} is the seq of the message it answers (0: none). A reply
     * to no message of the room fails with {@link MissingTargetException}, and is not stored.
     */
    public CompletableFuture<Appended> append(String room, String sender, String clientId, String text, long replyTo) {
        return writer.append(room, sender, clientId, text, replyTo, false, -1);
    }

    /** The same for a message of a bot account ({@code bot}), which is stored and delivered marked as such. */
    public CompletableFuture<Appended> append(String room, String sender, String clientId, String text, long replyTo, boolean bot) {
        return writer.append(room, sender, clientId, text, replyTo, bot, -1);
    }

    /**
     * The same for a sender whose access to the room was checked as of the room's seq {@code seat}
     * (a connection's seat, or the last seq an HTTP post's access check read): if the room was
     * deleted after that seq, the message is refused ({@link MissingTargetException}: {@code not_found}) and not stored, also
     * when the room's name was taken again meanwhile, so that it never lands in the next room of
     * that name. -1: not checked (only a room deleted now refuses it).
     */
    public CompletableFuture<Appended> append(String room, String sender, String clientId, String text, long replyTo, boolean bot, long seat) {
        return writer.append(room, sender, clientId, text, replyTo, bot, seat);
    }

    /** Appends waiting for a commit. */
    public int pendingAppends() {
        return writer.pendingAppends();
    }

    /** Creates the room if it does not exist; returns its last seq. Blocking. */
    public long ensureRoom(String room) {
        return reads.ensureRoom(room);
    }

    /** The room's last seq, or empty if no one ever joined it. Blocking. */
    public OptionalLong lastSeq(String room) {
        return reads.lastSeq(room);
    }

    /**
     * Where the room's history starts: the seq of the oldest message or event it may hold, 1 unless
     * its history was cut (a deletion, or retention: {@link RetentionStore}). Blocking.
     */
    public long historyStart(String room) {
        return reads.historyStart(room);
    }

    /** Every room, by name. Blocking. */
    public List<RoomInfo> rooms() {
        return reads.rooms();
    }

    /**
     * One page of a room's history, ascending by seq. With neither cursor: the newest {@code limit};
     * {@code before}: the newest {@code limit} below it; {@code after}: the oldest {@code limit} above it
     * ({@code after} 0: the room's first messages). {@code hasMore} says whether more exist beyond the
     * page in the direction of paging. Blocking.
     */
    public Page page(String room, Long before, Long after, int limit) {
        return reads.page(room, before, after, limit);
    }

    /** Messages with {@code after < seq <= upTo}, ascending. Blocking. */
    public List<Message> range(String room, long after, long upTo) {
        return reads.range(room, after, upTo);
    }

    /**
     * Whether {@code messages} messages could weigh more than {@code maxBytes} as {@link #replayStart}
     * weighs them, were each text {@code maxTextLength} characters long (an event's text, at most
     * {@link MessageReads#EVENT_TEXT_MAX}, when that is longer). False: no need to weigh them.
     */
    public static boolean replayMayExceed(long messages, int maxTextLength, long maxBytes) {
        return maxBytes < Long.MAX_VALUE && messages * MessageReads.weightOf(Math.max(maxTextLength, MessageReads.EVENT_TEXT_MAX)) > maxBytes;
    }

    /** Where a replay of {@code (after, upTo]} starts to hold at most {@code maxBytes} (see {@link MessageReads#replayStart}). Blocking. */
    public long replayStart(String room, long after, long upTo, long maxBytes) {
        return reads.replayStart(room, after, upTo, maxBytes);
    }

    /** The room events (not the messages) with {@code after < seq <= upTo}, ascending. Blocking. */
    public List<Message> events(String room, long after, long upTo) {
        return reads.events(room, after, upTo);
    }

    /** Last seqs of the named rooms that exist. Blocking. */
    public Map<String, Long> lastSeqs(List<String> rooms) {
        return reads.lastSeqs(rooms);
    }

    // --- read state (ReadMarkers) ---

    /**
     * Raises the user's read marker in the room to {@code seq} (clamped to the room's last seq; a
     * lower one than stored changes nothing), durably, and returns the state it leaves; null if the
     * room does not exist. Blocking.
     */
    public dev.parley.event.ReadState markRead(String room, String user, long seq) {
        return markers.mark(room, user, seq);
    }

    /** The user's read state as of the room's {@code lastSeq}, starting their marker there if they have none. Blocking. */
    public dev.parley.event.ReadState readStateOnJoin(String room, String user, long lastSeq) {
        return markers.stateOnJoin(room, user, lastSeq);
    }

    /** The user's read states in the rooms given with their last seqs; a room they have no marker in is missing. Blocking. */
    public Map<String, dev.parley.event.ReadState> readStates(String user, Map<String, Long> lastSeqs) {
        return markers.states(user, lastSeqs);
    }

    /**
     * Up to {@code limit + 1} messages of the rooms {@code user} may read (or of {@code room}, which
     * the caller has checked they may) that match the query, newest first, after {@code after} or
     * from the newest; one more than asked says another page follows. Blocking; see {@link MessageSearch}.
     */
    public List<Message> search(String user, SearchQuery query, String room, SearchAfter after, int limit) {
        return search.search(user, query, room, after, limit);
    }

    /** Stops taking appends, commits what is queued (waiting at most 10 s), then stops the writer. */
    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    /**
     * Stops taking appends, commits what is queued (waiting at most {@code timeout}), then stops the
     * writer and closes the journal. A store never started just closes its journal.
     */
    public void close(Duration timeout) {
        writer.close(timeout);
    }
}
