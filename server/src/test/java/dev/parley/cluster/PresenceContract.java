package dev.parley.cluster;

import dev.parley.presence.Presence;
import dev.parley.testing.Futures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every {@link Presence} promises, run against each implementation. Cross-node tests run only
 * when nodes share presence; each test uses rooms of its own.
 */
interface PresenceContract {
    /** A presence of a new node of one cluster (the same for every call in a test), closed after the test. */
    Presence newNode();

    /** True if the nodes of {@link #newNode()} share presence. */
    boolean shared();

    static String room(String base) {
        return base + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    }

    private static <T> T get(Future<T> f) {
        return Futures.await(f);
    }

    @Test
    default void the_first_join_of_a_user_in_a_room_is_reported_and_further_ones_are_not() {
        Presence p = newNode();
        String room = room("first");
        assertThat(get(p.join(room, "alice"))).isTrue();
        assertThat(get(p.join(room, "alice"))).isFalse();
        assertThat(get(p.join(room, "bob"))).isTrue();
        assertThat(get(p.join(room("other"), "alice"))).as("another room").isTrue();
    }

    @Test
    default void only_the_last_leave_of_a_user_is_reported() {
        Presence p = newNode();
        String room = room("last");
        get(p.join(room, "alice"));
        get(p.join(room, "alice"));
        assertThat(get(p.leave(room, "alice"))).isFalse();
        assertThat(get(p.members(room))).containsExactly("alice");
        assertThat(get(p.leave(room, "alice"))).isTrue();
        assertThat(get(p.members(room))).isEmpty();
        assertThat(get(p.join(room, "alice"))).as("online again").isTrue();
    }

    @Test
    default void a_leave_without_a_join_reports_nothing() {
        Presence p = newNode();
        String room = room("nojoin");
        assertThat(get(p.leave(room, "ghost"))).isFalse();
        get(p.join(room, "alice"));
        assertThat(get(p.leave(room, "ghost"))).isFalse();
        assertThat(get(p.members(room))).containsExactly("alice");
    }

    @Test
    default void members_are_sorted_and_counts_leave_out_rooms_with_nobody() {
        Presence p = newNode();
        String room = room("sorted"), empty = room("empty"), left = room("left");
        for (String u : List.of("carol", "alice", "bob", "alice")) get(p.join(room, u));
        get(p.join(left, "dave"));
        get(p.leave(left, "dave"));
        assertThat(get(p.members(room))).containsExactly("alice", "bob", "carol");
        assertThat(get(p.members(empty))).isEmpty();
        assertThat(get(p.counts(List.of(room, empty, left)))).isEqualTo(Map.of(room, 3));
    }

    @Test
    default void answers_come_back_on_the_callers_vertx_context() throws Exception {
        Presence p = newNode();
        String room = room("context");
        Vertx vertx = Vertx.vertx();
        try {
            Context ctx = vertx.getOrCreateContext();
            List<Boolean> onContext = new ArrayList<>();
            CountDownLatch done = new CountDownLatch(1);
            ctx.runOnContext(x -> p.join(room, "alice")
                    .compose(first -> {
                        onContext.add(Vertx.currentContext() == ctx);
                        return p.members(room);
                    })
                    .compose(members -> {
                        onContext.add(Vertx.currentContext() == ctx);
                        return p.counts(List.of(room));
                    })
                    .compose(counts -> {
                        onContext.add(Vertx.currentContext() == ctx);
                        return p.leave(room, "alice");
                    })
                    .onComplete(ar -> {
                        onContext.add(ar.succeeded() && Vertx.currentContext() == ctx);
                        done.countDown();
                    }));
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(onContext).containsExactly(true, true, true, true);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    default void a_user_on_two_nodes_is_online_from_the_first_join_anywhere_to_the_last_leave_anywhere() {
        assumeTrue(shared(), "nodes do not share presence");
        Presence a = newNode(), b = newNode();
        String room = room("two");
        assertThat(get(a.join(room, "alice"))).isTrue();
        assertThat(get(b.join(room, "alice"))).as("already online through a").isFalse();
        assertThat(get(b.members(room))).containsExactly("alice");
        assertThat(get(a.leave(room, "alice"))).as("still online through b").isFalse();
        assertThat(get(a.members(room))).containsExactly("alice");
        assertThat(get(b.leave(room, "alice"))).isTrue();
        assertThat(get(a.members(room))).isEmpty();
    }

    @Test
    default void every_node_sees_the_same_members_and_counts() {
        assumeTrue(shared(), "nodes do not share presence");
        Presence a = newNode(), b = newNode(), c = newNode();
        String room = room("same"), other = room("same-other");
        get(a.join(room, "alice"));
        get(b.join(room, "bob"));
        get(c.join(room, "carol"));
        get(c.join(other, "alice"));
        for (Presence p : List.of(a, b, c)) {
            assertThat(get(p.members(room))).containsExactly("alice", "bob", "carol");
            assertThat(get(p.counts(List.of(room, other, room("none"))))).isEqualTo(Map.of(room, 3, other, 1));
        }
    }

    @Test
    default void concurrent_joins_and_leaves_of_one_user_on_several_nodes_report_exactly_one_first_and_one_last() {
        assumeTrue(shared(), "nodes do not share presence");
        List<Presence> nodes = List.of(newNode(), newNode(), newNode());
        for (int round = 0; round < 20; round++) {
            String room = room("race");
            List<CompletableFuture<Boolean>> joins = nodes.stream()
                    .map(p -> CompletableFuture.supplyAsync(() -> get(p.join(room, "alice")))).toList();
            assertThat(joins.stream().filter(CompletableFuture::join).count()).as("firsts in round " + round).isEqualTo(1);
            List<CompletableFuture<Boolean>> leaves = nodes.stream()
                    .map(p -> CompletableFuture.supplyAsync(() -> get(p.leave(room, "alice")))).toList();
            assertThat(leaves.stream().filter(CompletableFuture::join).count()).as("lasts in round " + round).isEqualTo(1);
            assertThat(Set.copyOf(get(nodes.get(0).members(room)))).isEmpty();
        }
    }
}
