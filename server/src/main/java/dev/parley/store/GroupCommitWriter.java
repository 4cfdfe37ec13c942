package dev.parley.store;

import dev.parley.event.Message;
import dev.parley.store.MessageStore.Appended;
import dev.parley.store.MessageStore.BatchObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The group commit: appends are queued, and one thread takes everything queued and stores it in one
 * transaction ({@link WriterSession}), so a burst of sends costs one transaction, not one each. After
 * the commit it hands the new messages to the commit listener, and only then completes the appends.
 * On the embedded database each commit's messages go to the {@link Journal} just before it commits,
 * and the writer empties the journal once the database has written its pages.
 *
 * <p>Read markers ({@link #mark}) come through the same queue, so that raising one costs a statement
 * in a shared transaction and, with {@code CHAT_JOURNAL_SYNC=commit}, a share of the messages' sync,
 * instead of a transaction and an H2 checkpoint of its own (BENCHMARKS.md entry 44). A batch's
 * markers commit first, in their own transaction, so that a message the database refuses cannot take
 * them down with it; they complete once what holds them is durable.
 *
 * <p>Over 400 lines because the queue, the batch's commit with its retries and refusals, the
 * journal and its checkpoint, and the read markers all belong to the one writer thread: split, each
 * part would need the thread's state passed around.
 *
 * <p>{@link #start} starts the thread; {@link #close} stops taking appends, commits what is queued and
 * stops it. Every append completes: committed, failed, or failed as "store is closed".
 */
final class GroupCommitWriter {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);
    private static final long SESSION_IDLE_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long SESSION_RENEW_NANOS = TimeUnit.MINUTES.toNanos(5);
    /** How much journal to let pile up before H2 is told to write its pages and the journal is emptied. */
    static final long JOURNAL_CHECKPOINT_BYTES = 8 << 20;
    private static final int NEW = 0, RUNNING = 1, CLOSED = 2;

    private final Database db;
    private final Journal journal; // null: the database makes each commit durable itself
    private final long journalCheckpointBytes;
    private long journalCheckpointAt;
    private final int batchMax;
    private final Linger linger; // the writer thread's only
    private final Consumer<List<Message>> onCommit;
    private final BatchObserver observer;
    private final LinkedBlockingQueue<Work> queue;
    private final Thread thread;
    /** Written under this object's lock, except to CLOSED by the writer thread as it ends. */
    private volatile int state = NEW;
    private WriterSession session; // the writer thread's only

    /** What the writer is given to store: a message, or a read marker. */
    sealed interface Work permits Pending, MarkWork {
        long queuedAt();

        /** Fails it: it was not stored. */
        void fail(Throwable t);
    }

    /** @param replyTo the seq of the message it answers, 0 if none */
    record Pending(String room, String sender, String clientId, String text, long replyTo, boolean bot, long seat, CompletableFuture<Appended> result, long queuedAt)
            implements Work {
        @Override
        public void fail(Throwable t) {
            result.completeExceptionally(t);
        }
    }

    /** A read marker to raise, completed once the raise is durable. */
    record MarkWork(Journal.Mark mark, CompletableFuture<Void> result, long queuedAt) implements Work {
        @Override
        public void fail(Throwable t) {
            result.completeExceptionally(t);
        }
    }

    /**
     * @param journal                which this writer then owns, and closes when it stops; or null
     * @param journalCheckpointBytes how much journal makes the writer have H2 write its pages and empty it
     * @param lingerNanos            under load, how long appends may wait for others to share their commit (see {@link Linger})
     * @param queue                  empty; a parameter only so that a test can hold an append on its way in
     */
    GroupCommitWriter(Database db, Journal journal, long journalCheckpointBytes, int batchMax, long lingerNanos,
                      Consumer<List<Message>> onCommit, BatchObserver observer, LinkedBlockingQueue<Work> queue) {
        this.db = requireNonNull(db, "db");
        this.journal = journal;
        this.journalCheckpointBytes = journalCheckpointBytes;
        this.journalCheckpointAt = journalCheckpointBytes;
        this.batchMax = batchMax;
        this.linger = new Linger(lingerNanos, System.nanoTime());
        this.onCommit = requireNonNull(onCommit, "onCommit");
        this.observer = requireNonNull(observer, "observer");
        this.queue = requireNonNull(queue, "queue");
        this.thread = Thread.ofPlatform().name("parley-group-commit").daemon(true).unstarted(this::writeLoop);
    }

    synchronized void start() {
        if (state != NEW) throw new IllegalStateException(state == RUNNING ? "the store is started already" : "the store is closed");
        thread.start();
        state = RUNNING; // after the start: a thread that could not be started leaves the store closable as new
    }

    /**
     * Queues a message for the next group commit. Completes on the writer thread. {@code seat}: the
     * room's seq as of which the sender's access was checked (-1: not checked against the store);
     * a room deleted after it refuses the message, whether or not its name was taken again since.
     */
    CompletableFuture<Appended> append(String room, String sender, String clientId, String text, long replyTo, boolean bot, long seat) {
        CompletableFuture<Appended> result = new CompletableFuture<>();
        enqueue(new Pending(room, sender, clientId, text, replyTo, bot, seat, result, System.nanoTime()));
        return result;
    }

    /**
     * Queues the raise of a read marker (to at least {@code seq}; see {@link ReadMarkers#raise}) for
     * the next group commit. Completes on the writer thread once it is as durable as a message.
     */
    CompletableFuture<Void> mark(String room, String userKey, long seq) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        enqueue(new MarkWork(new Journal.Mark(room, userKey, seq), result, System.nanoTime()));
        return result;
    }

    private void enqueue(Work p) {
        int s = state;
        if (s != RUNNING) {
            if (s == NEW) throw new IllegalStateException("the store is not started");
            p.fail(closed());
            return;
        }
        queue.add(p);
        // The store may have been closed since the check above, and the writer may have looked at the
        // queue for the last time before the add: then nothing would ever complete this append. So it
        // checks again, and whoever takes it out of the queue completes it. If this read still sees
        // the store running, the close came after the add, and the writer, which reads the state
        // before each look at the queue, sees it. A volatile read: no lock on the way in.
        if (state == CLOSED && queue.remove(p)) p.fail(closed());
    }

    /** Appends waiting for a commit. */
    int pendingAppends() {
        return queue.size();
    }

    /** Stops taking appends, commits what is queued (waiting at most {@code timeout}), then stops the writer. */
    void close(Duration timeout) {
        synchronized (this) {
            if (state == NEW) {
                state = CLOSED;
                finish(); // nothing was queued: an append before the start is refused
                return;
            }
            state = CLOSED;
        }
        try {
            thread.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static StoreException closed() {
        return new StoreException("store is closed", null);
    }

    private void writeLoop() {
        List<Work> batch = new ArrayList<>(batchMax);
        while (state != CLOSED || !queue.isEmpty()) {
            try {
                Work first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                queue.drainTo(batch, batchMax - 1);
                if (batch.size() < batchMax) {
                    long wait = linger.waitNanos(first.queuedAt(), System.nanoTime());
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                        queue.drainTo(batch, batchMax - batch.size());
                    }
                }
                linger.taken(batch.size());
                commitAll(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Throwable t) {
                log.error("group commit failed unexpectedly", t);
                for (Work p : batch) p.fail(t);
            } finally {
                batch.clear();
            }
        }
        state = CLOSED; // also when interrupted: an append from now on fails itself, or is failed below
        finish();
    }

    /** Empties and closes the journal, lets go of the connection, and fails what is still queued. */
    private void finish() {
        if (journal != null) {
            if (journal.size() > 0) checkpoint();
            try {
                journal.close();
            } catch (IOException e) {
                log.warn("closing the journal failed: {}", e.toString());
            }
        }
        endSession();
        for (Work p; (p = queue.poll()) != null; ) {
            p.fail(closed());
        }
    }

    /**
     * Appends the transaction's new messages to the journal, then commits the transaction (without a
     * journal, only commits): once it commits, its senders may be acknowledged. A journal that syncs
     * has them on the disk before the commit, so
     * the acks that follow the commit promise what a power cut cannot take back; the sync is the
     * commit's, shared by every message in it. If the write (or the sync) fails the transaction is
     * rolled back, so the journal never lacks a committed message; if the commit fails after the
     * write, the record is taken back ({@link #retract}). Should that fail too, the journal holds
     * messages that were not acknowledged, which the next start's replay stores (unless a later commit
     * took their seqs: Journal.recover keeps the later record) and a retry of the send then finds.
     */
    private void journalAndCommit(WriterSession w, List<Message> fresh) throws SQLException {
        // After the rooms are locked: a room change that failed to be written after its prepare
        // released its room's lock only once the database was marked refused (Database.commitDurably).
        db.requireUsable();
        if (journal == null || fresh.isEmpty()) {
            w.connection.commit();
            return;
        }
        try {
            journal.append(fresh);
        } catch (IOException e) {
            // SQLSTATE 58030, an I/O error: the batch fails as if the database were unavailable.
            throw new SQLException("journal write failed: " + e.getMessage(), "58030", e);
        }
        try {
            w.connection.commit();
        } catch (SQLException | RuntimeException e) {
            retract();
            throw e;
        }
    }

    /**
     * Takes back the journal's last record, written for a commit that failed: its messages were not
     * stored, nor will be acknowledged. If that fails too, the record stays, and the next start's
     * replay may store its messages: the sender, told the store was unavailable, then finds its
     * message there when it sends again.
     */
    private void retract() {
        try {
            journal.retract();
        } catch (IOException | RuntimeException e) {
            log.warn("a failed commit's journal record could not be taken back (a replay may store its messages): {}", e.toString());
        }
    }

    /**
     * Has H2 write everything committed (so far only in memory and the journal) to its file, then
     * empties the journal. Runs on the writer thread, which alone appends, so nothing committed can
     * slip in between. On failure the journal is kept and grows until the next try (if the journal
     * could not even put its old header back, its next append tries the clear again: Journal.append).
     */
    private void checkpoint() {
        try {
            WriterSession w = session();
            journal.clearOnceWritten(db, w.connection);
            journalCheckpointAt = journalCheckpointBytes;
        } catch (SQLException | IOException e) {
            journalCheckpointAt = journal.size() + journalCheckpointBytes;
            log.warn("checkpoint failed, keeping the journal ({} bytes): {}", journal.size(), e.toString());
        }
    }

    /**
     * Stores a batch taken from the queue: its read markers, then its messages. The markers complete
     * once durable: on PostgreSQL (no journal) or with a journal that does not sync, at their commit;
     * with a syncing journal, at the sync of the messages' record after theirs, or a sync of their
     * own when the batch had no message to store.
     */
    private void commitAll(List<Work> batch) {
        List<Pending> messages = new ArrayList<>(batch.size());
        List<MarkWork> marks = null;
        for (Work w : batch) {
            if (w instanceof Pending p) messages.add(p);
            else {
                if (marks == null) marks = new ArrayList<>();
                marks.add((MarkWork) w);
            }
        }
        if (marks == null) {
            commit(messages);
            return;
        }
        long forces = journal == null ? 0 : journal.forces();
        boolean stored = commitMarks(marks);
        if (!messages.isEmpty()) commit(messages);
        if (!stored) return;
        if (journal != null && journal.forces() == forces) {
            try {
                journal.force();
            } catch (IOException e) {
                // Committed in the database, not known to be on the disk: not acknowledged. A raised
                // marker that was never answered is harmless (markers only go up, and the client sends again).
                StoreException failure = new StoreException("the journal could not be synced", e);
                for (MarkWork m : marks) m.fail(failure);
                return;
            }
        }
        for (MarkWork m : marks) m.result().complete(null);
    }

    /** Raises the markers in one transaction, journaled without a sync. @return whether they are committed (else failed) */
    private boolean commitMarks(List<MarkWork> marks) {
        List<Journal.Mark> record = new ArrayList<>(marks.size());
        try {
            WriterSession w = session();
            try {
                for (MarkWork m : marks) {
                    Journal.Mark k = m.mark();
                    // Not for a room deleted (and perhaps made again) since the marker's read checked it.
                    ReadMarkers.raiseIfCurrent(w.connection, k.userKey(), k.room(), k.seq());
                    record.add(k);
                }
                if (journal != null) {
                    try {
                        journal.append(List.of(), record, false);
                    } catch (IOException e) {
                        throw new SQLException("journal write failed: " + e.getMessage(), "58030", e);
                    }
                }
                w.connection.commit();
                return true;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(w.connection);
                endSession();
                throw e;
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("read markers of {} users failed: {}", marks.size(), e.toString());
            StoreException failure = new StoreException("the database is unavailable", e);
            for (MarkWork m : marks) m.fail(failure);
            return false;
        }
    }

    private void commit(List<Pending> batch) {
        long start = System.nanoTime();
        List<Appended> results;
        List<Message> fresh = new ArrayList<>(batch.size());
        try {
            WriterSession w = session();
            try {
                // Replies to no message fail on their own, before anything is locked. (On PostgreSQL
                // the look-up opens a transaction that a batch of one then commits: see appendOne.)
                batch = w.withoutBadReplies(batch);
                if (batch.isEmpty()) {
                    rollbackQuietly(w.connection);
                    return;
                }
                results = w.appendAll(batch, fresh, false);
                journalAndCommit(w, fresh);
            } catch (SQLException e) {
                rollbackQuietly(w.connection);
                if (!integrityViolation(e)) {
                    if (!refusesData(e)) endSession();
                    throw e;
                }
                // Most likely a retried send whose first copy is stored (or is in this batch): do it
                // again, looking every key up first. A value the database refuses fails here again.
                fresh.clear();
                results = appendWithLookup(w, batch, fresh);
            } catch (RuntimeException e) {
                rollbackQuietly(w.connection);
                endSession();
                throw e;
            }
        } catch (SQLException e) {
            if (refusesData(e)) {
                if (batch.size() > 1) {
                    // One message the database refuses must not fail the others committed with it:
                    // commit each on its own, so that only the culprit fails.
                    log.warn("group commit of {} messages refused ({}); committing them one by one", batch.size(), e.getMessage());
                    for (Pending p : batch) commit(List.of(p));
                } else {
                    log.warn("the database refused a message of {} to room {}: {}", batch.get(0).sender(), batch.get(0).room(), e.getMessage());
                    batch.get(0).result().completeExceptionally(new RefusedException("the message cannot be stored", e));
                }
                return;
            }
            log.warn("group commit of {} messages failed: {}", batch.size(), e.getMessage());
            StoreException failure = new StoreException("the database is unavailable", e);
            for (Pending p : batch) p.result().completeExceptionally(failure);
            return;
        }
        observer.batchCommitted(batch.size(), System.nanoTime() - start);
        if (!fresh.isEmpty()) {
            try {
                onCommit.accept(fresh);
            } catch (RuntimeException e) {
                log.error("commit listener failed", e);
            }
        }
        for (int i = 0; i < batch.size(); i++) {
            Appended a = results.get(i);
            if (a != null) batch.get(i).result().complete(a);
            else batch.get(i).result().completeExceptionally(new MissingTargetException("no room " + batch.get(i).room()));
        }
        // After the acks: the checkpoint writes every page H2 has not written yet, which takes a while.
        if (journal != null && journal.size() >= journalCheckpointAt) checkpoint();
    }

    private List<Appended> appendWithLookup(WriterSession w, List<Pending> batch, List<Message> fresh) throws SQLException {
        try {
            List<Appended> results = w.appendAll(batch, fresh, true);
            journalAndCommit(w, fresh);
            return results;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(w.connection);
            if (!(e instanceof SQLException s && refusesData(s))) endSession();
            throw e;
        }
    }

    /** An integrity violation (SQLSTATE class 23): on the fast path, most likely a retried send. */
    private static boolean integrityViolation(SQLException e) {
        return hasSqlStateClass(e, "23");
    }

    /**
     * A data exception (SQLSTATE class 22: a value too long, a bad character) or an integrity
     * violation (23) is about the message, not the database: retrying it would fail again.
     */
    private static boolean refusesData(SQLException e) {
        return hasSqlStateClass(e, "22") || hasSqlStateClass(e, "23");
    }

    private static boolean hasSqlStateClass(SQLException e, String sqlStateClass) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith(sqlStateClass)) return true;
        }
        return false;
    }

    /**
     * The writer's session, renewed as needed. The connection is checked when it has been idle (as
     * the pool would on a borrow) and handed back to the pool now and then, so that the pool's max
     * lifetime still applies to it.
     */
    private WriterSession session() throws SQLException {
        long now = System.nanoTime();
        if (session != null && now - session.borrowedAt > SESSION_RENEW_NANOS) endSession();
        if (session != null && now - session.lastUsed > SESSION_IDLE_CHECK_NANOS && !session.connection.isValid(1)) endSession();
        if (session == null) session = new WriterSession(db.connection(), now, journal != null);
        session.lastUsed = now;
        return session;
    }

    private void endSession() {
        if (session == null) return;
        session.close();
        session = null;
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool discards it
        }
    }
}
