package dev.parley.presence;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The room list's online counts in a cluster: one ask of Redis per room per two seconds per node, whatever the clients. */
class CountCacheTest {
    private final AtomicLong clock = new AtomicLong(1_000);
    private final Map<String, AtomicInteger> asked = new ConcurrentHashMap<>();
    private final Map<String, Integer> online = new ConcurrentHashMap<>(Map.of("a", 3, "b", 1));

    private CountCache cache() {
        return new CountCache(Duration.ofSeconds(2), room -> {
            asked.computeIfAbsent(room, r -> new AtomicInteger()).incrementAndGet();
            return CompletableFuture.completedFuture(online.getOrDefault(room, 0));
        }, clock::get);
    }

    private static Map<String, Integer> get(java.util.concurrent.CompletionStage<Map<String, Integer>> s) {
        return s.toCompletableFuture().join();
    }

    @Test
    void a_thousand_lists_within_the_ttl_ask_once_per_room() {
        CountCache cache = cache();
        for (int i = 0; i < 1_000; i++) {
            assertThat(get(cache.counts(List.of("a", "b", "c")))).isEqualTo(Map.of("a", 3, "b", 1));
            clock.addAndGet(1_000_000); // 1 ms apart: a second in all
        }
        assertThat(asked.get("a")).hasValue(1);
        assertThat(asked.get("c")).hasValue(1);
    }

    @Test
    void a_count_is_asked_again_once_it_is_older_than_the_ttl() {
        CountCache cache = cache();
        get(cache.counts(List.of("a")));
        online.put("a", 7);
        assertThat(get(cache.counts(List.of("a")))).as("cached").containsEntry("a", 3);

        clock.addAndGet(Duration.ofSeconds(2).toNanos());

        assertThat(get(cache.counts(List.of("a")))).containsEntry("a", 7);
        assertThat(asked.get("a")).hasValue(2);
    }

    @Test
    void lists_that_come_while_an_ask_is_under_way_share_it() {
        CompletableFuture<Integer> slow = new CompletableFuture<>();
        AtomicInteger calls = new AtomicInteger();
        CountCache cache = new CountCache(Duration.ofSeconds(2), room -> {
            calls.incrementAndGet();
            return slow;
        }, clock::get);

        var first = cache.counts(List.of("a"));
        var second = cache.counts(List.of("a"));
        slow.complete(4);

        assertThat(get(first)).containsEntry("a", 4);
        assertThat(get(second)).containsEntry("a", 4);
        assertThat(calls).hasValue(1);
    }

    @Test
    void a_failed_ask_is_not_kept() {
        AtomicInteger calls = new AtomicInteger();
        CountCache cache = new CountCache(Duration.ofSeconds(2), room -> calls.incrementAndGet() == 1
                ? CompletableFuture.failedFuture(new IllegalStateException("redis away"))
                : CompletableFuture.completedFuture(2), clock::get);

        assertThat(cache.counts(List.of("a")).toCompletableFuture()).isCompletedExceptionally();
        assertThat(get(cache.counts(List.of("a")))).containsEntry("a", 2);
    }
}
