package dev.parley.store;

import dev.parley.event.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store's start and close, and appends that race the close. On H2: none of it depends on the database. */
class MessageStoreLifecycleTest {
    @TempDir
    Path dir;

    private Database db;

    @BeforeEach
    void open() {
        db = new Database("jdbc:h2:file:" + dir.resolve("parley") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH", "", "", 2);
    }

    @AfterEach
    void closeDb() {
        db.close();
    }

    /**
     * An append that found the store open, then was queued only after the writer had looked at its
     * queue for the last time, was never completed: its sender got neither an ack nor an error. The
     * queue here holds the append on its way in until the close has returned, the writer gone.
     */
    @Test
    void an_append_queued_after_the_writers_last_look_at_the_queue_fails_as_closed() throws Exception {
        Hold hold = new Hold();
        MessageStore store = new MessageStore(db, null, 1 << 20, 64, 0, batch -> {}, MessageStore.BatchObserver.NONE, hold.queue());
        store.start();
        assertThat(store.append("alpha", "alice", "c1", "before").get(30, TimeUnit.SECONDS).message().seq()).isEqualTo(1);

        hold.next();
        AtomicReference<CompletableFuture<MessageStore.Appended>> late = new AtomicReference<>();
        Thread appender = Thread.ofPlatform().start(() -> late.set(store.append("alpha", "bob", "c2", "late")));
        hold.awaitHeld();
        store.close();
        hold.release();
        appender.join(30_000);

        assertThat(late.get()).as("the append returned").isNotNull();
        assertThat(late.get()).failsWithin(10, TimeUnit.SECONDS).withThrowableOfType(ExecutionException.class)
                .havingCause().isInstanceOf(StoreException.class).withMessage("store is closed");
        assertThat(store.pendingAppends()).isZero();
    }

    @Test
    void an_append_before_the_start_is_refused_and_one_after_is_committed() throws Exception {
        try (MessageStore store = new MessageStore(db, 64, batch -> {}, MessageStore.BatchObserver.NONE)) {
            assertThatThrownBy(() -> store.append("alpha", "alice", "c1", "too early"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("not started");
            store.start();
            assertThat(store.append("alpha", "alice", "c1", "now").get(30, TimeUnit.SECONDS).message().seq()).isEqualTo(1);
            assertThatThrownBy(store::start).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void a_closed_store_cannot_be_started_and_closing_again_does_nothing() throws Exception {
        MessageStore store = new MessageStore(db, 64, batch -> {}, MessageStore.BatchObserver.NONE);
        store.start();
        store.close();
        store.close();
        assertThatThrownBy(store::start).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.append("alpha", "alice", "c1", "late").get(30, TimeUnit.SECONDS))
                .cause().isInstanceOf(StoreException.class).hasMessage("store is closed");
    }

    @Test
    void a_store_closed_without_being_started_closes_its_journal() throws IOException {
        Journal journal = Journal.open(dir.resolve("parley.journal"));
        MessageStore store = new MessageStore(db, journal, 64, 0, batch -> {}, MessageStore.BatchObserver.NONE);
        store.close();
        assertThatThrownBy(() -> journal.append(List.of(new Message("alpha", 1, "id-1", "alice", "text", 1L, "c1"))))
                .isInstanceOf(ClosedChannelException.class);
        assertThatThrownBy(store::start).isInstanceOf(IllegalStateException.class);
    }

    /** Holds the next add to its queue, once asked to, until released: an appender between its check and its add. */
    static final class Hold {
        private final AtomicBoolean armed = new AtomicBoolean();
        private final CountDownLatch held = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        void next() {
            armed.set(true);
        }

        void awaitHeld() throws InterruptedException {
            if (!held.await(30, TimeUnit.SECONDS)) throw new AssertionError("no append reached the queue");
        }

        void release() {
            released.countDown();
        }

        <E> LinkedBlockingQueue<E> queue() {
            return new LinkedBlockingQueue<>() {
                @Override
                public boolean offer(E e) {
                    if (armed.compareAndSet(true, false)) {
                        held.countDown();
                        try {
                            if (!released.await(60, TimeUnit.SECONDS)) throw new AssertionError("never released");
                        } catch (InterruptedException ie) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    return super.offer(e);
                }
            };
        }
    }
}
