package dev.parley.store;

import dev.parley.chat.Names;

import dev.parley.event.Message;
import dev.parley.event.ReadState;
import dev.parley.testing.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * What every database behind {@link MessageStore} and {@link UserStore} must do, run against each one
 * (H2 embedded, PostgreSQL): a subclass says how to get an empty database and one it can take down.
 */
abstract class MessageStoreContract {
    private static final Duration WAIT = Duration.ofSeconds(30);

    /**
     * Where a database is; {@link #open} connects a new pool to it (and migrates it). {@code journal}:
     * the file of its {@link Journal}, for the embedded database that runs with one; or null.
     */
    protected record Target(String url, String user, String password, Path journal) {
        Target(String url, String user, String password) {
            this(url, user, password, null);
        }

        Database open() {
            return new Database(url, user, password, 4);
        }

        /** A started store. */
        MessageStore store(Database db, int batchMax, Consumer<List<Message>> onCommit, MessageStore.BatchObserver observer) {
            try {
                MessageStore store = new MessageStore(db, journal == null ? null : Journal.open(journal), batchMax, 0, onCommit, observer);
                store.start();
                return store;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A database that this test alone uses and can stop and start again, at the same address with the same data. */
    protected interface Outage extends AutoCloseable {
        Target target();

        void stop();

        void start();

        @Override
        void close();
    }

    /** A new, empty database of the implementation under test. */
    protected abstract Target newTarget();

    protected abstract Outage newOutage();

    private final List<AutoCloseable> opened = new ArrayList<>();
    private Target target;

    @BeforeEach
    void newDatabase() {
        target = newTarget();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) opened.get(i).close();
        opened.clear();
    }

    // --- sequence ---

    @Test
    void seq_starts_at_1_and_counts_up_without_gaps_in_each_room() {
        Recorder rec = new Recorder();
        MessageStore store = open(target, 512, rec);
        for (int i = 1; i <= 5; i++) assertThat(append(store, "alpha", "alice", "a" + i, "text " + i).message().seq()).isEqualTo(i);
        for (int i = 1; i <= 3; i++) assertThat(append(store, "beta", "alice", "b" + i, "text " + i).message().seq()).isEqualTo(i);
        assertThat(append(store, "alpha", "bob", "a6", "six").message().seq()).isEqualTo(6);

        assertThat(store.lastSeq("alpha")).hasValue(6);
        assertThat(store.lastSeq("beta")).hasValue(3);
        assertThat(seqs(store.range("alpha", 0, 100))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(seqs(store.range("beta", 0, 100))).containsExactly(1L, 2L, 3L);
    }

    @Test
    void an_appended_message_is_stored_as_returned() {
        MessageStore store = open(target, 512, new Recorder());
        long before = System.currentTimeMillis();
        MessageStore.Appended a = append(store, "alpha", "alice", "c1", "héllo\n\twörld ✓");
        assertThat(a.duplicate()).isFalse();
        Message m = a.message();
        assertThat(m.room()).isEqualTo("alpha");
        assertThat(m.from()).isEqualTo("alice");
        assertThat(m.clientId()).isEqualTo("c1");
        assertThat(m.text()).isEqualTo("héllo\n\twörld ✓");
        assertThat(m.id()).hasSize(26);
        assertThat(m.tsMillis()).isBetween(before, System.currentTimeMillis());
        assertSame(store.range("alpha", 0, 1).get(0), m);
    }

    @Test
    void concurrent_appends_to_several_rooms_get_gap_free_unique_seqs_and_are_group_committed() throws Exception {
        int threads = 16, perThread = 200, rooms = 4;
        Recorder rec = new Recorder();
        MessageStore store = open(target, 512, rec);
        Set<String> committedIds = ConcurrentHashMap.newKeySet();
        rec.also(batch -> batch.forEach(m -> committedIds.add(m.id())));
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        Map<String, List<MessageStore.Appended>> results = new ConcurrentHashMap<>();
        AtomicInteger retries = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);

        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int worker = t;
            workers.add(Thread.ofPlatform().name("appender-" + t).start(() -> {
                try {
                    go.await();
                    String sender = "user" + worker;
                    List<MessageStore.Appended> mine = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        String room = "room" + (i + worker) % rooms;
                        // Like a client: wait for each ack before the next send; now and then retry an earlier one.
                        MessageStore.Appended a = store.append(room, sender, "c" + i, sender + " says " + i)
                                .whenComplete((r, err) -> {
                                    if (r != null && !r.duplicate() && !committedIds.contains(r.message().id())) {
                                        problems.add("append completed before the listener got " + r.message());
                                    }
                                }).get(30, TimeUnit.SECONDS);
                        mine.add(a);
                        if (i % 10 == 9) {
                            int earlier = i - 5;
                            MessageStore.Appended again = store.append("room" + (earlier + worker) % rooms, sender, "c" + earlier, "retry").get(30, TimeUnit.SECONDS);
                            retries.incrementAndGet();
                            if (!again.duplicate() || !again.message().id().equals(mine.get(earlier).message().id())) {
                                problems.add("retry of c" + earlier + " by " + sender + " gave " + again);
                            }
                        }
                    }
                    results.put(sender, mine);
                } catch (Exception e) {
                    problems.add(Thread.currentThread().getName() + " failed: " + e);
                }
            }));
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread w : workers) w.join(120_000);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(problems).isEmpty();

        int total = threads * perThread;
        List<MessageStore.Appended> all = results.values().stream().flatMap(List::stream).toList();
        assertThat(all).hasSize(total).allSatisfy(a -> assertThat(a.duplicate()).isFalse());
        assertThat(all.stream().map(a -> a.message().id()).distinct()).hasSize(total);
        Map<String, List<Long>> byRoom = new HashMap<>();
        for (MessageStore.Appended a : all) byRoom.computeIfAbsent(a.message().room(), r -> new ArrayList<>()).add(a.message().seq());
        for (int r = 0; r < rooms; r++) {
            String room = "room" + r;
            int n = byRoom.get(room).size();
            assertThat(byRoom.get(room)).as("acked seqs of %s", room).containsExactlyInAnyOrderElementsOf(oneTo(n));
            assertThat(seqs(store.range(room, 0, Long.MAX_VALUE))).as("stored seqs of %s", room).containsExactlyElementsOf(oneTo(n));
            assertThat(store.lastSeq(room)).hasValue(n);
        }

        // The listener got every new message once, in seq order per room, and no retry.
        assertThat(rec.messages()).hasSize(total);
        for (int r = 0; r < rooms; r++) {
            String room = "room" + r;
            assertThat(seqs(rec.messages().stream().filter(m -> m.room().equals(room)).toList())).containsExactlyElementsOf(oneTo(byRoom.get(room).size()));
        }
        List<Integer> sizes = rec.batchSizes();
        assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(total + retries.get());
        assertThat(sizes.stream().mapToInt(Integer::intValue).max().orElse(0)).as("largest batch").isGreaterThan(1);
        System.out.printf("[%s] %d appends (+%d retries) from %d threads, each waiting for its ack, in %.2f s: %.0f appends/s; "
                        + "%d batches, mean %.1f, max %d%n", getClass().getSimpleName(), total, retries.get(), threads, seconds,
                (total + retries.get()) / seconds, sizes.size(), sizes.stream().mapToInt(Integer::intValue).average().orElse(0),
                sizes.stream().mapToInt(Integer::intValue).max().orElse(0));
    }

    @Test
    void appends_queued_while_a_commit_runs_go_into_one_batch() throws Exception {
        Recorder rec = new Recorder();
        Gate gate = new Gate();
        MessageStore store = open(target, 512, rec.also(gate));
        CompletableFuture<MessageStore.Appended> first = store.append("alpha", "alice", "gate", "first");
        gate.awaitEntered();
        List<CompletableFuture<MessageStore.Appended>> queued = new ArrayList<>();
        for (int i = 0; i < 50; i++) queued.add(store.append(i % 2 == 0 ? "alpha" : "beta", "alice", "q" + i, "queued " + i));
        assertThat(first).isNotDone();
        gate.open();

        assertThat(get(first).message().seq()).isEqualTo(1);
        for (var f : queued) get(f);
        assertThat(rec.batchSizes()).containsExactly(1, 50);
        assertThat(seqs(store.range("alpha", 0, 100))).containsExactlyElementsOf(oneTo(26));
        assertThat(seqs(store.range("beta", 0, 100))).containsExactlyElementsOf(oneTo(25));
    }

    @Test
    void a_message_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored() throws Exception {
        Recorder rec = new Recorder();
        Gate gate = new Gate();
        MessageStore store = open(target, 512, rec.also(gate));
        CompletableFuture<MessageStore.Appended> first = store.append("alpha", "alice", "gate", "first");
        gate.awaitEntered();
        List<CompletableFuture<MessageStore.Appended>> good = new ArrayList<>();
        for (int i = 0; i < 10; i++) good.add(store.append("alpha", "alice", "g" + i, "good " + i));
        // A room name longer than the column: only a misconfigured room pattern lets one through.
        CompletableFuture<MessageStore.Appended> bad = store.append("r".repeat(300), "alice", "bad", "refused");
        for (int i = 10; i < 20; i++) good.add(store.append("alpha", "alice", "g" + i, "good " + i));
        gate.open();

        get(first);
        for (var f : good) assertThat(get(f).duplicate()).isFalse();
        assertThatThrownBy(() -> bad.get(10, java.util.concurrent.TimeUnit.SECONDS))
                .hasCauseInstanceOf(dev.parley.store.RefusedException.class);
        assertThat(seqs(store.range("alpha", 0, 100))).containsExactlyElementsOf(oneTo(21));
    }

    @Test
    void a_batch_holds_at_most_batch_max_appends() throws Exception {
        Recorder rec = new Recorder();
        Gate gate = new Gate();
        MessageStore store = open(target, 3, rec.also(gate));
        CompletableFuture<MessageStore.Appended> first = store.append("alpha", "alice", "gate", "first");
        gate.awaitEntered();
        List<CompletableFuture<MessageStore.Appended>> queued = new ArrayList<>();
        for (int i = 0; i < 10; i++) queued.add(store.append("alpha", "alice", "q" + i, "queued " + i));
        gate.open();
        get(first);
        for (var f : queued) get(f);
        assertThat(rec.batchSizes()).containsExactly(1, 3, 3, 3, 1);
        assertThat(seqs(store.range("alpha", 0, 100))).containsExactlyElementsOf(oneTo(11));
    }

    @Test
    void two_stores_on_one_database_as_two_nodes_share_each_rooms_sequence_without_gaps() throws Exception {
        MessageStore one = open(target, 512, new Recorder());
        MessageStore two = open(target, 512, new Recorder());
        List<CompletableFuture<MessageStore.Appended>> all = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String room = "room" + i % 3;
            all.add(one.append(room, "alice", "one-" + i, "from one"));
            all.add(two.append(room, "bob", "two-" + i, "from two"));
        }
        for (var f : all) get(f);
        for (int r = 0; r < 3; r++) {
            assertThat(seqs(one.range("room" + r, 0, Long.MAX_VALUE))).containsExactlyElementsOf(oneTo(200));
            assertThat(two.lastSeq("room" + r)).hasValue(200);
        }
    }

    @Test
    void two_stores_appending_one_at_a_time_to_one_room_share_its_sequence_without_gaps() throws Exception {
        // Batches of one room: on PostgreSQL the path that takes the seqs with UPDATE ... RETURNING.
        MessageStore one = open(target, 512, new Recorder());
        MessageStore two = open(target, 512, new Recorder());
        List<CompletableFuture<MessageStore.Appended>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(one.append("shared", "alice", "one-" + i, "from one"));
            all.add(two.append("shared", "bob", "two-" + i, "from two"));
            if (i % 20 == 0) for (var f : all) get(f); // some batches of one message, some larger
        }
        for (var f : all) get(f);
        assertThat(seqs(one.range("shared", 0, Long.MAX_VALUE))).containsExactlyElementsOf(oneTo(400));
        assertThat(all).extracting(f -> get(f).message().seq()).doesNotHaveDuplicates();
        assertThat(two.lastSeq("shared")).hasValue(400);
    }

    // --- the commit listener ---

    @Test
    void the_commit_listener_gets_new_messages_in_seq_order_before_the_append_completes_and_never_a_retry() throws Exception {
        Recorder rec = new Recorder();
        Gate gate = new Gate();
        List<String> seenAtCompletion = Collections.synchronizedList(new ArrayList<>());
        MessageStore store = open(target, 512, rec.also(gate));
        CompletableFuture<MessageStore.Appended> first = store.append("alpha", "alice", "c0", "zero");
        gate.awaitEntered();
        assertThat(rec.messages()).extracting(Message::clientId).containsExactly("c0");
        assertThat(first).as("the append completes only after the listener returns").isNotDone();
        List<CompletableFuture<MessageStore.Appended>> more = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            more.add(store.append("alpha", "alice", "c" + i, "text " + i));
            more.add(store.append("beta", "bob", "c" + i, "text " + i));
        }
        more.add(store.append("alpha", "alice", "c0", "retry of zero"));
        more.add(store.append("alpha", "alice", "c3", "retry of three, in the same batch"));
        // Waited for as futures of their own: get() of an append may return before its callbacks ran.
        List<CompletableFuture<MessageStore.Appended>> seen = new ArrayList<>();
        for (var f : more) {
            seen.add(f.whenComplete((a, err) -> seenAtCompletion.add(a.message().id() + ":" + rec.messages().stream().anyMatch(m -> m.id().equals(a.message().id())))));
        }
        gate.open();
        get(first);
        for (var f : seen) get(f);

        assertThat(seqs(rec.messages().stream().filter(m -> m.room().equals("alpha")).toList())).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(seqs(rec.messages().stream().filter(m -> m.room().equals("beta")).toList())).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(rec.messages()).extracting(Message::text).doesNotContain("retry of zero", "retry of three, in the same batch");
        assertThat(seenAtCompletion).hasSize(more.size()).allSatisfy(s -> assertThat(s).endsWith(":true"));
    }

    @Test
    void a_failing_commit_listener_does_not_fail_the_append() {
        Recorder rec = new Recorder();
        MessageStore store = open(target, 512, rec.also(batch -> {
            throw new IllegalStateException("listener broke");
        }));
        assertThat(append(store, "alpha", "alice", "c1", "one").message().seq()).isEqualTo(1);
        assertThat(append(store, "alpha", "alice", "c2", "two").message().seq()).isEqualTo(2);
    }

    // --- idempotency ---

    @Test
    void a_retry_in_a_later_batch_returns_the_original_message() {
        MessageStore store = open(target, 512, new Recorder());
        MessageStore.Appended original = append(store, "alpha", "alice", "c1", "first try");
        append(store, "alpha", "bob", "x", "something else");
        MessageStore.Appended retry = append(store, "alpha", "alice", "c1", "second try");
        assertThat(retry.duplicate()).isTrue();
        assertSame(retry.message(), original.message());
        assertThat(store.lastSeq("alpha")).hasValue(2);
        assertThat(store.range("alpha", 0, 10)).extracting(Message::text).containsExactly("first try", "something else");
    }

    @Test
    void a_retry_in_the_same_batch_returns_the_original_message() throws Exception {
        Recorder rec = new Recorder();
        Gate gate = new Gate();
        MessageStore store = open(target, 512, rec.also(gate));
        CompletableFuture<MessageStore.Appended> first = store.append("alpha", "alice", "gate", "gate");
        gate.awaitEntered();
        var original = store.append("alpha", "alice", "c1", "first try");
        var retry = store.append("alpha", "alice", "c1", "second try");
        var retryAgain = store.append("alpha", "alice", "c1", "third try");
        gate.open();
        get(first);
        get(retryAgain);

        assertThat(rec.batchSizes()).containsExactly(1, 3);
        assertThat(get(original).duplicate()).isFalse();
        assertThat(get(retry).duplicate()).isTrue();
        assertThat(get(retryAgain).duplicate()).isTrue();
        assertSame(get(retry).message(), get(original).message());
        assertSame(get(retryAgain).message(), get(original).message());
        assertThat(store.range("alpha", 0, 10)).extracting(Message::text).containsExactly("gate", "first try");
        assertThat(store.lastSeq("alpha")).as("no seq taken for the retries").hasValue(2);
        assertThat(get(store.append("alpha", "alice", "c2", "next")).message().seq()).isEqualTo(3);
    }

    @Test
    void a_retry_after_the_database_is_closed_and_reopened_returns_the_original_message() {
        Database db = track(target.open());
        MessageStore store = target.store(db, 512, batch -> {}, MessageStore.BatchObserver.NONE);
        MessageStore.Appended original = append(store, "alpha", "alice", "c1", "before the restart");
        store.close();
        db.close();

        MessageStore reopened = open(target, 512, new Recorder());
        MessageStore.Appended retry = append(reopened, "alpha", "alice", "c1", "after the restart");
        assertThat(retry.duplicate()).isTrue();
        assertSame(retry.message(), original.message());
        assertThat(append(reopened, "alpha", "alice", "c2", "new").message().seq()).isEqualTo(2);
    }

    @Test
    void the_same_client_id_from_another_sender_or_in_another_room_is_a_new_message() throws Exception {
        MessageStore store = open(target, 512, new Recorder());
        MessageStore.Appended alice = append(store, "alpha", "alice", "same", "alice in alpha");
        assertThat(append(store, "alpha", "bob", "same", "bob in alpha").duplicate()).isFalse();
        assertThat(append(store, "beta", "alice", "same", "alice in beta").duplicate()).isFalse();

        // And within one batch.
        Gate second = new Gate();
        MessageStore other = open(target, 512, new Recorder().also(second));
        var gateMessage = other.append("gamma", "carol", "gate", "gate");
        second.awaitEntered();
        var a = other.append("delta", "alice", "same", "alice in delta");
        var b = other.append("delta", "bob", "same", "bob in delta");
        var c = other.append("epsilon", "alice", "same", "alice in epsilon");
        second.open();
        get(gateMessage);
        assertThat(List.of(get(a), get(b), get(c))).allSatisfy(x -> assertThat(x.duplicate()).isFalse());
        assertThat(get(a).message().id()).isNotEqualTo(get(b).message().id());
        assertThat(store.range("alpha", 0, 10)).extracting(Message::text).containsExactly("alice in alpha", "bob in alpha");
        assertThat(store.range("delta", 0, 10)).extracting(Message::text).containsExactly("alice in delta", "bob in delta");
        assertThat(store.range("epsilon", 0, 10)).extracting(Message::seq).containsExactly(1L);
        assertThat(alice.duplicate()).isFalse();
    }

    // --- reading ---

    @Test
    void page_without_a_cursor_is_the_newest_messages_ascending() {
        MessageStore store = open(target, 512, new Recorder());
        appendN(store, "alpha", 7);
        assertPage(store.page("alpha", null, null, 3), List.of(5L, 6L, 7L), true);
        assertPage(store.page("alpha", null, null, 6), List.of(2L, 3L, 4L, 5L, 6L, 7L), true);
        assertPage(store.page("alpha", null, null, 7), oneTo(7), false);
        assertPage(store.page("alpha", null, null, 100), oneTo(7), false);
    }

    @Test
    void page_before_a_seq_is_the_newest_messages_below_it_and_has_more_is_exact() {
        MessageStore store = open(target, 512, new Recorder());
        appendN(store, "alpha", 7);
        assertPage(store.page("alpha", 5L, null, 3), List.of(2L, 3L, 4L), true);
        assertPage(store.page("alpha", 4L, null, 3), List.of(1L, 2L, 3L), false);
        assertPage(store.page("alpha", 3L, null, 3), List.of(1L, 2L), false);
        assertPage(store.page("alpha", 1L, null, 3), List.of(), false);
        assertPage(store.page("alpha", 100L, null, 7), oneTo(7), false);
        assertPage(store.page("alpha", 8L, null, 6), List.of(2L, 3L, 4L, 5L, 6L, 7L), true);
    }

    @Test
    void page_after_a_seq_is_the_oldest_messages_above_it_and_has_more_is_exact() {
        MessageStore store = open(target, 512, new Recorder());
        appendN(store, "alpha", 7);
        assertPage(store.page("alpha", null, 0L, 3), List.of(1L, 2L, 3L), true);
        assertPage(store.page("alpha", null, 3L, 3), List.of(4L, 5L, 6L), true);
        assertPage(store.page("alpha", null, 4L, 3), List.of(5L, 6L, 7L), false);
        assertPage(store.page("alpha", null, 5L, 3), List.of(6L, 7L), false);
        assertPage(store.page("alpha", null, 7L, 3), List.of(), false);
        assertPage(store.page("alpha", null, 0L, 7), oneTo(7), false);
    }

    /**
     * A page backwards reads a window of seqs first and the whole range only when the window falls
     * short (MessageReads.page): in a room longer than the window, every page is still exact.
     */
    @Test
    void paging_backwards_through_a_long_room_from_the_newest_reads_it_all_in_order() {
        MessageStore store = open(target, 512, new Recorder());
        appendN(store, "alpha", 30);
        appendN(store, "beta", 5);
        assertPage(store.page("alpha", null, null, 3), List.of(28L, 29L, 30L), true);
        assertPage(store.page("alpha", 20L, null, 4), List.of(16L, 17L, 18L, 19L), true);
        assertPage(store.page("alpha", 1_000L, null, 4), List.of(27L, 28L, 29L, 30L), true); // the window above the room is empty
        assertPage(store.page("alpha", 6L, null, 4), List.of(2L, 3L, 4L, 5L), true);
        assertPage(store.page("alpha", 5L, null, 4), List.of(1L, 2L, 3L, 4L), false);

        List<Long> read = new ArrayList<>();
        Long before = null;
        MessageStore.Page page;
        do {
            page = store.page("alpha", before, null, 4);
            read.addAll(0, seqs(page.messages()));
            before = page.messages().get(0).seq();
        } while (page.hasMore());
        assertThat(read).containsExactlyElementsOf(oneTo(30));
    }

    /** {@code after} 0 is the start of the room (seqs start at 1): paging forward from it reads the room from its first message. */
    @Test
    void page_after_0_is_the_first_messages_of_the_room_and_paging_on_reads_it_all_in_order() {
        MessageStore store = open(target, 512, new Recorder());
        List<Message> appended = appendN(store, "alpha", 10);
        appendN(store, "beta", 3);

        MessageStore.Page first = store.page("alpha", null, 0L, 4);
        assertPage(first, List.of(1L, 2L, 3L, 4L), true);
        for (int i = 0; i < 4; i++) assertSame(first.messages().get(i), appended.get(i));

        List<Long> read = new ArrayList<>(seqs(first.messages()));
        MessageStore.Page page = first;
        while (page.hasMore()) {
            page = store.page("alpha", null, read.get(read.size() - 1), 4);
            read.addAll(seqs(page.messages()));
        }
        assertThat(read).containsExactlyElementsOf(oneTo(10));
        assertPage(store.page("alpha", null, 0L, 10), oneTo(10), false);
        assertPage(store.page("alpha", null, 0L, 1), List.of(1L), true);
    }

    @Test
    void page_of_an_empty_or_unknown_room_is_empty() {
        MessageStore store = open(target, 512, new Recorder());
        store.ensureRoom("empty");
        appendN(store, "other", 3);
        assertPage(store.page("empty", null, null, 50), List.of(), false);
        assertPage(store.page("nowhere", null, null, 50), List.of(), false);
        assertPage(store.page("nowhere", 5L, null, 50), List.of(), false);
        assertPage(store.page("nowhere", null, 0L, 50), List.of(), false);
    }

    @Test
    void range_is_the_messages_after_one_seq_up_to_another_inclusive() {
        MessageStore store = open(target, 512, new Recorder());
        List<Message> appended = appendN(store, "alpha", 6);
        appendN(store, "beta", 2);
        assertThat(seqs(store.range("alpha", 2, 5))).containsExactly(3L, 4L, 5L);
        assertThat(seqs(store.range("alpha", 0, 100))).containsExactlyElementsOf(oneTo(6));
        assertThat(store.range("alpha", 5, 5)).isEmpty();
        assertThat(store.range("alpha", 6, 10)).isEmpty();
        assertThat(store.range("nowhere", 0, 10)).isEmpty();
        List<Message> read = store.range("alpha", 0, 6);
        for (int i = 0; i < 6; i++) assertSame(read.get(i), appended.get(i));
    }

    @Test
    void ensure_room_creates_a_room_once_and_reports_its_last_seq() {
        MessageStore store = open(target, 512, new Recorder());
        assertThat(store.lastSeq("alpha")).isEmpty();
        assertThat(store.ensureRoom("alpha")).isZero();
        assertThat(store.ensureRoom("alpha")).isZero();
        assertThat(store.lastSeq("alpha")).hasValue(0);
        appendN(store, "alpha", 4);
        assertThat(store.ensureRoom("alpha")).isEqualTo(4);
        appendN(store, "beta", 2);
        assertThat(store.ensureRoom("beta")).isEqualTo(2);
    }

    @Test
    void rooms_lists_every_room_by_name_with_its_last_seq() {
        MessageStore store = open(target, 512, new Recorder());
        assertThat(store.rooms()).isEmpty();
        appendN(store, "charlie", 3);
        store.ensureRoom("alpha");
        appendN(store, "bravo", 1);
        assertThat(store.rooms()).containsExactly(
                new MessageStore.RoomInfo("alpha", 0), new MessageStore.RoomInfo("bravo", 1), new MessageStore.RoomInfo("charlie", 3));
    }

    @Test
    void last_seqs_of_named_rooms_include_only_rooms_that_exist() {
        MessageStore store = open(target, 512, new Recorder());
        assertThat(store.lastSeqs(List.of())).isEmpty();
        appendN(store, "alpha", 2);
        store.ensureRoom("beta");
        assertThat(store.lastSeqs(List.of("alpha", "beta", "nowhere"))).containsExactlyInAnyOrderEntriesOf(Map.of("alpha", 2L, "beta", 0L));

        // More names than one query takes.
        List<String> many = IntStream.range(0, 250).mapToObj(i -> "many" + i).toList();
        for (int i = 0; i < 250; i += 2) store.ensureRoom(many.get(i));
        Map<String, Long> seqs = store.lastSeqs(many);
        assertThat(seqs).hasSize(125).containsKeys("many0", "many248").doesNotContainKey("many1");
    }

    // --- failures ---

    @Test
    void append_fails_with_a_store_exception_while_the_database_is_unreachable_and_works_again_when_it_is_back() throws Exception {
        try (Outage outage = newOutage()) {
            Recorder rec = new Recorder();
            MessageStore store = open(outage.target(), 512, rec);
            assertThat(append(store, "alpha", "alice", "c1", "before").message().seq()).isEqualTo(1);

            outage.stop();
            long start = System.nanoTime();
            CompletableFuture<MessageStore.Appended> during = store.append("alpha", "alice", "c2", "during");
            assertThatThrownBy(() -> during.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(StoreException.class);
            long failedAfterMs = (System.nanoTime() - start) / 1_000_000;
            assertThatThrownBy(() -> store.lastSeq("alpha")).isInstanceOf(StoreException.class);
            assertThatThrownBy(() -> store.page("alpha", null, null, 10)).isInstanceOf(StoreException.class);

            outage.start();
            // The same store, the same pool: it reconnects by itself. Old pooled connections may fail first.
            List<MessageStore.Appended> ok = new ArrayList<>();
            List<Throwable> failures = new ArrayList<>();
            try {
            Await.until("an append to succeed after the database is back", Duration.ofSeconds(60), () -> {
                try {
                    ok.add(store.append("alpha", "alice", "c2", "after").get(30, TimeUnit.SECONDS));
                    return true;
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof StoreException)) throw new AssertionError(e);
                    if (failures.size() < 3) failures.add(e.getCause().getCause());
                    return false;
                } catch (InterruptedException | TimeoutException e) {
                    throw new AssertionError(e);
                }
            });
            } catch (AssertionError e) {
                failures.forEach(f -> e.addSuppressed(f));
                throw e;
            }
            assertThat(ok.get(0).message().seq()).as("failed appends took no seq").isEqualTo(2);
            assertThat(store.range("alpha", 0, 10)).extracting(Message::text).containsExactly("before", "after");
            assertThat(rec.messages()).extracting(Message::text).containsExactly("before", "after");
            System.out.printf("[%s] an append failed %d ms after the database went away%n", getClass().getSimpleName(), failedAfterMs);
            store.close();
        }
    }

    @Test
    void append_after_close_fails_with_a_store_exception() {
        MessageStore store = open(target, 512, new Recorder());
        append(store, "alpha", "alice", "c1", "one");
        store.close();
        assertThatThrownBy(() -> store.append("alpha", "alice", "c2", "two").get(30, TimeUnit.SECONDS))
                .cause().isInstanceOf(StoreException.class);
    }

    @Test
    void close_commits_what_is_queued() throws Exception {
        Recorder rec = new Recorder();
        Gate gate = new Gate();
        MessageStore store = open(target, 512, rec.also(gate));
        CompletableFuture<MessageStore.Appended> first = store.append("alpha", "alice", "c0", "zero");
        gate.awaitEntered();
        List<CompletableFuture<MessageStore.Appended>> queued = new ArrayList<>();
        for (int i = 1; i <= 20; i++) queued.add(store.append("alpha", "alice", "c" + i, "text " + i));
        Thread closer = Thread.ofPlatform().start(store::close);
        gate.open();
        closer.join(30_000);
        get(first);
        for (var f : queued) assertThat(get(f).duplicate()).isFalse();
        MessageStore reader = open(target, 512, new Recorder());
        assertThat(seqs(reader.range("alpha", 0, 100))).containsExactlyElementsOf(oneTo(21));
    }

    @Test
    void a_message_that_reaches_the_store_after_its_room_was_deleted_is_refused_and_not_stored() throws Exception {
        Recorder rec = new Recorder();
        Database db = track(target.open());
        MessageStore store = track(target.store(db, 512, rec, rec));
        RoomStore rooms = new RoomStore(db);
        assertThat(rooms.accessOrCreate("gone", "alice", Names::key).room()).isNotNull();
        assertThat(append(store, "gone", "alice", "g1", "before").message().seq()).isEqualTo(1);
        rooms.change("gone", "alice", null, st -> new RoomStore.Plan<>(List.of(new RoomStore.Write.SetRetention(7, 1234L)), null));
        rooms.change("gone", "alice", null, st -> new RoomStore.Plan<>(List.of(new RoomStore.Write.DeleteRoom()), null));
        long deletedAt = store.lastSeq("gone").orElseThrow();

        // Alone (a batch of one room), and in batches with a room that is not deleted: only the
        // deleted room's sends fail, with the error a client is told as not_found.
        assertThatThrownBy(() -> get(store.append("gone", "bob", "g2", "after"))).hasCauseInstanceOf(MissingTargetException.class);
        for (int round = 0; round < 5; round++) {
            CompletableFuture<MessageStore.Appended> toGone = store.append("gone", "bob", "x" + round, "after");
            CompletableFuture<MessageStore.Appended> toLive = store.append("live", "bob", "y" + round, "fine");
            assertThat(get(toLive).message().seq()).isEqualTo(round + 1);
            assertThatThrownBy(() -> get(toGone)).hasCauseInstanceOf(MissingTargetException.class);
        }
        assertThat(store.lastSeq("gone")).as("the deleted room's last seq").hasValue(deletedAt);
        assertThat(rec.messages()).extracting(Message::clientId).as("what was committed and delivered")
                .containsExactly("g1", "y0", "y1", "y2", "y3", "y4");

        // Made again under its name, the room takes sends again, after the deletion's seq, and
        // has none of the old room's settings (its retention would have cut the new room's history).
        assertThat(rooms.accessOrCreate("gone", "carol", Names::key).room()).isNotNull();
        assertThat(append(store, "gone", "carol", "g3", "new room").message().seq()).isEqualTo(deletedAt + 1);
        try (Connection c = db.connection(); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT retention_days, retention_messages FROM rooms WHERE name = 'gone'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getObject(1)).as("retention days of the room made again").isNull();
            assertThat(rs.getObject(2)).as("retention messages of the room made again").isNull();
        }
    }

    /**
     * A send checked against its sender's seat in a room, queued, and committed after the room was
     * deleted and its name taken again (by someone else, private perhaps: another room) must not land
     * in the new room. Found against the jar with a cluster: a member on the other node, which had not
     * yet learnt of the deletion (Redis down: up to a reconcile later), posted into the private room
     * a stranger had made under the name, and was acked.
     */
    @Test
    void a_message_checked_before_its_room_was_deleted_is_refused_after_the_name_is_taken_again() throws Exception {
        Recorder rec = new Recorder();
        Database db = track(target.open());
        MessageStore store = track(target.store(db, 512, rec, rec));
        RoomStore rooms = new RoomStore(db);
        assertThat(rooms.accessOrCreate("reused", "alice", Names::key).room()).isNotNull();
        long seat = append(store, "reused", "alice", "r1", "before").message().seq(); // bob's seat: he joined here
        dev.parley.testing.RoomChanges.delete(rooms, "reused", "alice");
        long deletedAt = store.lastSeq("reused").orElseThrow();
        assertThat(rooms.accessOrCreate("reused", "carol", Names::key).room()).as("made again by carol").isNotNull();

        // Alone (one statement on PostgreSQL), two of one room in a batch, and beside another room.
        assertThatThrownBy(() -> get(store.append("reused", "bob", "b1", "for the old room", 0, false, seat)))
                .hasCauseInstanceOf(MissingTargetException.class);
        for (int round = 0; round < 5; round++) {
            CompletableFuture<MessageStore.Appended> stale = store.append("reused", "bob", "s" + round, "for the old room", 0, false, seat);
            CompletableFuture<MessageStore.Appended> fresh = store.append("reused", "carol", "f" + round, "new room", 0, false, deletedAt);
            CompletableFuture<MessageStore.Appended> other = store.append("elsewhere", "bob", "o" + round, "fine", 0, false, 0);
            assertThat(get(fresh).message().from()).isEqualTo("carol");
            assertThat(get(other).message().seq()).isEqualTo(round + 1);
            assertThatThrownBy(() -> get(stale)).hasCauseInstanceOf(MissingTargetException.class);
        }
        // A sender checked in the new room, and one not checked against the store at all, are stored.
        assertThat(get(store.append("reused", "dave", "d1", "new room", 0, false, deletedAt + 3)).message().seq()).isGreaterThan(deletedAt);
        assertThat(append(store, "reused", "erin", "e1", "new room").message().seq()).isGreaterThan(deletedAt);
        assertThat(store.range("reused", deletedAt, deletedAt + 100)).extracting(Message::from).as("the new room's messages")
                .doesNotContain("bob");
    }

    @Test
    void a_users_own_messages_are_not_unread_whatever_the_locale_and_whatever_the_letters_of_the_name() {
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.forLanguageTag("tr-TR")); // H2's LOWER follows it: "Ivan" lowered was "ıvan"
        try {
            MessageStore store = open(target, 512, new Recorder());
            long first = append(store, "read", "bob", "r1", "hello").message().seq();
            store.markRead("read", "Ivan", first);
            store.markRead("read", "Émile", first);
            append(store, "read", "Ivan", "r2", "mine");
            append(store, "read", "Émile", "r3", "à moi");
            long last = append(store, "read", "bob", "r4", "@Ivan @Émile yours").message().seq();

            assertThat(store.readStates("Ivan", Map.of("read", last)).get("read").unread()).as("unread for Ivan").isEqualTo(2);
            assertThat(store.readStates("Émile", Map.of("read", last)).get("read").unread()).as("unread for Émile").isEqualTo(2);
        } finally {
            Locale.setDefault(before);
        }
    }

    @Test
    void reactions_are_listed_in_the_order_of_their_events_whatever_the_clocks_of_the_nodes_that_made_them() throws Exception {
        Database db = track(target.open());
        MessageStore store = track(target.store(db, 512, new Recorder(), new Recorder()));
        MessageChanges changes = new MessageChanges(db);
        long seq = append(store, "emoji", "bob", "e1", "react to me").message().seq();
        changes.react("emoji", seq, "zed", "\uD83D\uDC4D", true, t -> { });
        changes.react("emoji", seq, "amy", "\u2764\uFE0F", true, t -> { });
        changes.react("emoji", seq, "amy", "\uD83D\uDC4D", true, t -> { });
        // Made on another node whose clock is a minute ahead: zed's reactions look the newest by time.
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE message_reactions SET reacted_at = reacted_at + 60000 WHERE user_key = 'zed'");
        }
        Message m = store.range("emoji", seq - 1, seq).get(0);
        assertThat(m.state().reactions()).extracting(Message.Reaction::emoji).as("emoji, by their first reaction's event")
                .containsExactly("\uD83D\uDC4D", "\u2764\uFE0F");
        assertThat(m.state().reactions().get(0).users()).as("users of the first emoji, by their events").containsExactly("zed", "amy");
    }

    @Test
    void an_unread_count_is_made_again_only_when_the_marker_or_the_rooms_last_seq_moved() throws Exception {
        Database db = track(target.open());
        MessageStore store = track(target.store(db, 512, new Recorder(), new Recorder()));
        long first = append(store, "count", "bob", "c1", "one").message().seq();
        store.markRead("count", "amy", first);
        append(store, "count", "bob", "c2", "two");
        long last = append(store, "count", "bob", "c3", "three").message().seq();
        assertThat(store.readStates("amy", Map.of("count", last)).get("count").unread()).isEqualTo(2);

        // Taken out behind the store's back: a count made again would see one fewer.
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM messages WHERE room = 'count' AND client_id = 'c2'");
        }
        assertThat(store.readStates("amy", Map.of("count", last)).get("count").unread()).as("the same marker and last seq: the count kept").isEqualTo(2);
        long newer = append(store, "count", "bob", "c4", "four").message().seq();
        assertThat(store.readStates("amy", Map.of("count", newer)).get("count").unread()).as("a new last seq: counted again").isEqualTo(2);
        store.markRead("count", "amy", last);
        assertThat(store.readStates("amy", Map.of("count", newer)).get("count").unread()).as("a new marker: counted again").isEqualTo(1);
    }

    @Test
    void a_room_made_again_under_a_deleted_rooms_name_has_no_reader_a_late_marker_of_the_old_one_would_give() throws Exception {
        Database db = track(target.open());
        MessageStore store = track(target.store(db, 512, new Recorder(), new Recorder()));
        RoomStore rooms = new RoomStore(db);
        assertThat(rooms.accessOrCreate("again", "alice", Names::key).room()).isNotNull();
        long first = append(store, "again", "bob", "a1", "old room").message().seq();
        rooms.change("again", "alice", null, st -> new RoomStore.Plan<>(List.of(new RoomStore.Write.DeleteRoom()), null));
        // A read of the old room whose marker the writer raised after the deletion committed.
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO read_markers (user_key, room, seq) VALUES ('amy', 'again', " + first + ")");
        }
        assertThat(rooms.accessOrCreate("again", "carol", Names::key).room()).isNotNull();
        long last = append(store, "again", "bob", "a2", "new room").message().seq();
        ReadState amy = store.readStateOnJoin("again", "amy", last);
        assertThat(amy.unread()).as("unread for amy, who never joined the new room").isZero();
        assertThat(amy.seq()).isEqualTo(last);
    }

    // --- users ---

    @Test
    void a_user_is_created_once_and_found_in_any_case() {
        Database db = track(target.open());
        UserStore users = new UserStore(db);
        assertThat(users.find("Alice")).isEmpty();
        assertThat(users.create("Alice", Names.key("Alice"), "hash-1")).isTrue();
        assertThat(users.create("alice", Names.key("alice"), "hash-2")).as("the same name in another case").isFalse();
        assertThat(users.create("ALICE", Names.key("ALICE"), "hash-3")).isFalse();
        assertThat(users.create("Alice", Names.key("Alice"), "hash-4")).isFalse();
        assertThat(users.create("bob", Names.key("bob"), "hash-5")).isTrue();

        assertThat(users.find("alice")).hasValue(new UserStore.User("Alice", "hash-1", false, false, 0));
        assertThat(users.find("ALICE")).hasValue(new UserStore.User("Alice", "hash-1", false, false, 0));
        assertThat(users.find("Bob")).hasValue(new UserStore.User("bob", "hash-5", false, false, 0));
        assertThat(users.find("carol")).isEmpty();
    }

    @Test
    void a_name_that_looks_like_a_taken_one_is_refused_by_the_database_and_names_taken_before_get_their_key() throws Exception {
        Database db = track(target.open());
        UserStore users = new UserStore(db);
        RoomStore rooms = new RoomStore(db);
        assertThat(users.create("alice", Names.key("alice"), "h")).isTrue();
        assertThatThrownBy(() -> users.create("aIice", Names.key("aIice"), "h")).isInstanceOfSatisfying(LookAlikeException.class,
                e -> assertThat(e.taken()).isEqualTo("alice"));
        assertThat(users.find("aIice")).isEmpty();

        assertThat(rooms.accessOrCreate("ops", "alice", Names::key).room()).isNotNull();
        assertThat(rooms.accessOrCreate("ops", "bob", name -> { throw new AssertionError("ops is made already"); }).room()).isNotNull();
        assertThatThrownBy(() -> rooms.accessOrCreate("0ps", "bob", Names::key)).isInstanceOf(LookAlikeException.class);
        assertThatThrownBy(() -> rooms.change("0PS", "bob", null, st -> new RoomStore.Plan<>(List.of(
                new RoomStore.Write.CreateRoom("private", null, null, Names.key("0PS"))), null))).isInstanceOf(LookAlikeException.class);
        assertThat(rooms.access("0ps", "bob").room()).isNull();
        assertThat(rooms.access("0PS", "bob").room()).isNull();
        // Deleted, a room keeps its name and its key: made again under its name, it is the same room.
        rooms.change("ops", "alice", null, st -> new RoomStore.Plan<>(List.of(new RoomStore.Write.DeleteRoom()), null));
        assertThat(rooms.access("ops", "alice").room()).isNull();
        assertThatThrownBy(() -> rooms.accessOrCreate("0ps", "bob", Names::key)).isInstanceOf(LookAlikeException.class);
        assertThat(rooms.accessOrCreate("ops", "bob", Names::key).room()).isNotNull();

        // Names taken before keys were kept (or rooms a fallback made): no key, until a start fills them.
        try (Connection c = db.connection(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO users (username, username_lower, password_hash, created_at) VALUES ('carol', 'carol', 'h', 0)");
            st.executeUpdate("INSERT INTO users (username, username_lower, password_hash, created_at) VALUES ('caroI', 'caroi', 'h', 0)");
            st.executeUpdate("INSERT INTO rooms (name, last_seq, created_at) VALUES ('legacy', 0, 0)");
        }
        assertThat(users.create("caro1", Names.key("caro1"), "h")).as("no key to collide with yet").isTrue();
        assertThat(users.fillKeys(Names::key)).as("carol and caroI look alike, and like caro1: none can have the key").isZero();
        assertThat(rooms.fillKeys(Names::key)).isEqualTo(1);
        assertThat(rooms.fillKeys(Names::key)).as("once filled, done").isZero();
        assertThatThrownBy(() -> rooms.accessOrCreate("1egacy", "bob", Names::key)).isInstanceOf(LookAlikeException.class);
        assertThatThrownBy(() -> users.create("car0l", Names.key("car0l"), "h")).isInstanceOfSatisfying(LookAlikeException.class,
                e -> assertThat(e.taken()).isEqualTo("caro1"));
        assertThat(users.create("dave", Names.key("dave"), "h")).isTrue();
    }

    // --- helpers ---

    private MessageStore open(Target t, int batchMax, Recorder rec) {
        Database db = track(t.open());
        return track(t.store(db, batchMax, rec, rec));
    }

    private <T extends AutoCloseable> T track(T closeable) {
        opened.add(closeable);
        return closeable;
    }

    private static MessageStore.Appended append(MessageStore store, String room, String sender, String clientId, String text) {
        return get(store.append(room, sender, clientId, text));
    }

    private static List<Message> appendN(MessageStore store, String room, int n) {
        List<Message> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) out.add(append(store, room, "alice", room + "-" + i, "message " + i).message());
        return out;
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("append failed", e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("append did not complete within " + WAIT, e);
        }
    }

    private static List<Long> seqs(List<Message> messages) {
        return messages.stream().map(Message::seq).toList();
    }

    private static List<Long> oneTo(int n) {
        return LongStream.rangeClosed(1, n).boxed().toList();
    }

    private static void assertPage(MessageStore.Page page, List<Long> seqs, boolean hasMore) {
        assertThat(seqs(page.messages())).containsExactlyElementsOf(seqs);
        assertThat(page.hasMore()).as("hasMore of page %s", seqs).isEqualTo(hasMore);
    }

    private static void assertSame(Message actual, Message expected) {
        assertThat(actual).usingRecursiveComparison().ignoringFields("encoded", "mentions").isEqualTo(expected); // both derived, computed on first use
        assertThat(actual.mentions()).isEqualTo(expected.mentions());
    }

    /** The commit listener and batch observer of a store: keeps what they were told. */
    static final class Recorder implements Consumer<List<Message>>, MessageStore.BatchObserver {
        private final List<Message> messages = Collections.synchronizedList(new ArrayList<>());
        private final List<Integer> batches = Collections.synchronizedList(new ArrayList<>());
        private final List<Consumer<List<Message>>> more = new ArrayList<>();

        /** Also calls {@code listener}, after recording. */
        Recorder also(Consumer<List<Message>> listener) {
            more.add(listener);
            return this;
        }

        @Override
        public void accept(List<Message> committed) {
            Set<String> ids = new HashSet<>();
            for (Message m : committed) if (!ids.add(m.id())) fail("the listener got " + m + " twice in one batch");
            messages.addAll(committed);
            for (Consumer<List<Message>> c : more) c.accept(committed);
        }

        @Override
        public void batchCommitted(int size, long nanos) {
            batches.add(size);
        }

        List<Message> messages() {
            synchronized (messages) {
                return new ArrayList<>(messages);
            }
        }

        List<Integer> batchSizes() {
            synchronized (batches) {
                return new ArrayList<>(batches);
            }
        }
    }

    /**
     * Holds the writer inside the commit listener of its first batch, so that a test can queue appends
     * behind it and know they will be committed together once the gate opens.
     */
    static final class Gate implements Consumer<List<Message>> {
        private final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch open = new CountDownLatch(1);

        @Override
        public void accept(List<Message> committed) {
            if (entered.getCount() == 0) return;
            entered.countDown();
            try {
                if (!open.await(60, TimeUnit.SECONDS)) throw new AssertionError("the gate was never opened");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void awaitEntered() throws InterruptedException {
            if (!entered.await(30, TimeUnit.SECONDS)) throw new AssertionError("the first commit never reached the listener");
        }

        void open() {
            open.countDown();
        }
    }
}
