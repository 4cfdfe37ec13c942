package dev.parley.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench query}: the read side's latency on a loaded store ({@code bench load}): searches for a
 * rare and a common word across every room and within one, the newest page of a room's history and
 * a page near its start, and a WebSocket join that resumes some seqs back. Each kind runs on its
 * own: warm-up requests, then a fixed number measured, at most {@code --concurrency} at once (a
 * closed loop: each worker sends its next request when its last one is answered).
 */
@Command(name = "query", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Read-side latency on a loaded store (bench load): search, history pages, join with since.",
                "Kinds, one after the other, each --warmup-requests then --requests measured at --concurrency: search for --rare-word and --common-word",
                "across every room and in one room, the newest history page, a page near a room's start (before = historyStart + --limit),",
                "and a join with since = lastSeq - --since-back (until the replay reaches lastSeq; then a leave, not measured).",
                "Rooms are <room-prefix>N for N below --rooms, --sample-rooms of them picked with --seed.",
                "Searches are limited per user (1 a second, 10 at once) and API requests too: the requests are spread over --users users (default 100),",
                "and a 429 or 503 is waited out and retried (counted, the retried attempt not measured). Start the server with --api-rate 0 for large runs.",
                "Exit status 1 if a request failed."})
final class QueryCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> KINDS = List.of("searchRareEveryRoom", "searchCommonEveryRoom", "searchRareOneRoom",
            "searchCommonOneRoom", "historyNewest", "historyDeep", "joinSince");

    @Mixin
    CommonOptions common;

    @Option(names = "--rooms", paramLabel = "<n>", defaultValue = "10000", description = "rooms the store has (bench load --rooms). Default: ${DEFAULT-VALUE}")
    int rooms;

    @Option(names = "--room-prefix", paramLabel = "<prefix>", defaultValue = "load", description = "bench load --room-prefix. Default: ${DEFAULT-VALUE}")
    String roomPrefix;

    @Option(names = "--sample-rooms", paramLabel = "<n>", defaultValue = "100", description = "rooms the requests go to. Default: ${DEFAULT-VALUE}")
    int sampleRooms;

    @Option(names = "--requests", paramLabel = "<n>", defaultValue = "200", description = "measured requests of each kind. Default: ${DEFAULT-VALUE}")
    int requests;

    @Option(names = "--warmup-requests", paramLabel = "<n>", defaultValue = "20", description = "requests of each kind before those measured. Default: ${DEFAULT-VALUE}")
    int warmupRequests;

    @Option(names = "--concurrency", paramLabel = "<n>", defaultValue = "4",
            description = "requests in flight (a node runs 4 searches at once, and answers more with 503). Default: ${DEFAULT-VALUE}")
    int concurrency;

    @Option(names = "--rare-word", paramLabel = "<word>", defaultValue = "quokka", description = "Default: ${DEFAULT-VALUE} (1 message in 100,000)")
    String rareWord;

    @Option(names = "--common-word", paramLabel = "<word>", defaultValue = "quasar", description = "Default: ${DEFAULT-VALUE} (1 message in 10)")
    String commonWord;

    @Option(names = "--limit", paramLabel = "<n>", defaultValue = "50", description = "page size of searches and history. Default: ${DEFAULT-VALUE}")
    int limit;

    @Option(names = "--since-back", paramLabel = "<n>", defaultValue = "100", description = "a join's since: this many seqs below the room's last. Default: ${DEFAULT-VALUE}")
    int sinceBack;

    @Option(names = "--seed", paramLabel = "<n>", defaultValue = "1", description = "picks the rooms. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--kinds", paramLabel = "<kind>", split = ",",
            description = "only these kinds, in this order: searchRareEveryRoom, searchCommonEveryRoom, searchRareOneRoom, searchCommonOneRoom,"
                    + " historyNewest, historyDeep, joinSince (a search of every room on H2 scans the store: seconds a million messages). Default: all")
    List<String> only;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    private final AtomicInteger nextUser = new AtomicInteger();
    private List<String> tokens;
    private Target target;

    /** A room of the sample, as the server described it. */
    private record Room(String name, long lastSeq, long historyStart) {}

    /** One kind's outcome. {@code items}: search results, history messages or replayed messages, summed. */
    private static final class Outcome {
        final Histogram latency = new Histogram(120_000_000L, 3);
        final AtomicLong errors = new AtomicLong(), retries = new AtomicLong(), items = new AtomicLong();
        volatile String firstError;
    }

    /** One request: returns how many items it got; throws if it failed. */
    private interface Request {
        long run(Room room, int user, Outcome o) throws Exception;
    }

    @Override
    public Integer call() throws Exception {
        if (common.urls.size() != 1) throw new IllegalArgumentException("query measures one node: give --url once");
        if (requests < 1 || warmupRequests < 0 || concurrency < 1 || sampleRooms < 1 || rooms < 1) {
            throw new IllegalArgumentException("--requests, --concurrency, --sample-rooms and --rooms must be positive, --warmup-requests not negative");
        }
        List<String> selected = only == null ? KINDS : only;
        for (String k : selected) {
            if (!KINDS.contains(k)) throw new IllegalArgumentException("--kinds: unknown kind " + k + "; known: " + String.join(", ", KINDS));
        }
        target = common.targets().get(0);
        int users = common.users > 0 ? common.users : 100;
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("urls", common.urls);
        config.put("rooms", rooms);
        config.put("roomPrefix", roomPrefix);
        config.put("sampleRooms", sampleRooms);
        config.put("requests", requests);
        config.put("warmupRequests", warmupRequests);
        config.put("concurrency", concurrency);
        config.put("users", users);
        config.put("rareWord", rareWord);
        config.put("commonWord", commonWord);
        config.put("limit", limit);
        config.put("sinceBack", sinceBack);
        config.put("kinds", selected);
        log("query: registering " + users + " users");
        tokens = new Registrar(common.registerConcurrency).tokens(common.targets(), common.runId(), users);
        List<Room> sample = sample(users);
        log("query: " + sample.size() + " rooms, " + sample.stream().mapToLong(Room::lastSeq).sum() + " messages in them");

        Map<String, Request> kinds = new LinkedHashMap<>();
        kinds.put("searchRareEveryRoom", (room, u, o) -> search(u, rareWord, null, o));
        kinds.put("searchCommonEveryRoom", (room, u, o) -> search(u, commonWord, null, o));
        kinds.put("searchRareOneRoom", (room, u, o) -> search(u, rareWord, room.name(), o));
        kinds.put("searchCommonOneRoom", (room, u, o) -> search(u, commonWord, room.name(), o));
        kinds.put("historyNewest", (room, u, o) -> history(u, room, "limit=" + limit, o));
        kinds.put("historyDeep", (room, u, o) -> history(u, room, "before=" + (room.historyStart() + limit) + "&limit=" + limit, o));
        Map<String, Object> out = FanoutCommand.header("query", common, config);
        ProcStats serverStats = common.serverPids.isEmpty() ? null : ProcStats.start(common.serverPids);
        boolean failed = false;
        for (String kind : selected) {
            Outcome o = kind.equals("joinSince") ? runJoins(sample, users) : run(kind, sample, kinds.get(kind));
            out.put(kind, report(o));
            failed |= o.errors.get() > 0;
        }
        if (serverStats != null) out.put("server", Report.usage(serverStats.usage()));
        out.put("correct", !failed);
        Report.print(System.out, out, common.json);
        return failed ? 1 : 0;
    }

    /** Up to --sample-rooms rooms of the store, picked with the seed, each as GET /api/rooms/{room} answers. */
    private List<Room> sample(int users) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        List<Room> out = new ArrayList<>();
        java.util.Set<Integer> picked = new java.util.LinkedHashSet<>();
        while (picked.size() < Math.min(sampleRooms, rooms)) picked.add(r.nextInt(rooms));
        for (int i : picked) {
            String name = roomPrefix + i;
            HttpResponse<String> resp = get(nextUser.getAndIncrement() % users, "/api/rooms/" + name, new Outcome());
            if (resp.statusCode() == 404) continue;
            if (resp.statusCode() != 200) throw new IllegalStateException("GET /api/rooms/" + name + ": HTTP " + resp.statusCode() + " " + resp.body());
            JsonNode room = JSON.readTree(resp.body());
            out.add(new Room(name, room.path("lastSeq").asLong(), Math.max(1, room.path("historyStart").asLong(1))));
        }
        if (out.isEmpty()) throw new IllegalStateException("none of the rooms " + roomPrefix + "0.." + roomPrefix + (rooms - 1) + " exists: load the store first (bench load)");
        return out;
    }

    private Outcome run(String name, List<Room> sample, Request request) throws Exception {
        log("query: " + name);
        Outcome o = new Outcome();
        SplittableRandom rooms = new SplittableRandom(seed ^ name.hashCode());
        AtomicInteger next = new AtomicInteger();
        int total = warmupRequests + requests;
        Room[] plan = new Room[total];
        for (int i = 0; i < total; i++) plan[i] = sample.get(rooms.nextInt(sample.size()));
        try (ExecutorService workers = Executors.newFixedThreadPool(concurrency)) {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < concurrency; w++) {
                done.add(workers.submit(() -> {
                    for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                        int user = nextUser.getAndIncrement() % tokens.size();
                        try {
                            // A warm-up request's latency and retries go to an outcome nobody reads.
                            long items = request.run(plan[i], user, i >= warmupRequests ? o : new Outcome());
                            if (i >= warmupRequests) o.items.addAndGet(items);
                        } catch (Exception e) {
                            fail(o, e);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        }
        return o;
    }

    /** The joins: each worker has WebSockets of its own, one per user it was dealt. */
    private Outcome runJoins(List<Room> sample, int users) throws Exception {
        log("query: joinSince");
        Outcome o = new Outcome();
        List<Room> joinable = sample.stream().filter(r -> r.lastSeq() > 0).toList();
        if (joinable.isEmpty()) throw new IllegalStateException("no room of the sample has messages");
        int total = warmupRequests + requests;
        int sessions = Math.min(users, total);
        BlockingQueue<JoinSession> free = new ArrayBlockingQueue<>(sessions);
        try {
            for (int u = 0; u < sessions; u++) free.add(new JoinSession(http, target, tokens.get(u)));
            SplittableRandom rooms = new SplittableRandom(seed ^ 0x10105L);
            Room[] plan = new Room[total];
            for (int i = 0; i < total; i++) plan[i] = joinable.get(rooms.nextInt(joinable.size()));
            AtomicInteger next = new AtomicInteger();
            try (ExecutorService workers = Executors.newFixedThreadPool(concurrency)) {
                List<Future<?>> done = new ArrayList<>();
                for (int w = 0; w < concurrency; w++) {
                    done.add(workers.submit(() -> {
                        for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                            Room room = plan[i];
                            long since = Math.max(0, room.lastSeq() - sinceBack);
                            JoinSession s = free.take();
                            try {
                                long start = System.nanoTime();
                                JoinSession.Replay replay = s.joinSince(room.name(), since);
                                if (i >= warmupRequests) {
                                    record(o, start);
                                    o.items.addAndGet(replay.messages());
                                }
                                s.leave(room.name());
                            } catch (Exception e) {
                                fail(o, e);
                            } finally {
                                free.add(s);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) f.get();
            }
        } finally {
            for (JoinSession s : free) s.close();
        }
        return o;
    }

    private long search(int user, String word, String room, Outcome o) throws Exception {
        String path = "/api/search?q=" + URLEncoder.encode(word, StandardCharsets.UTF_8) + "&limit=" + limit
                + (room == null ? "" : "&room=" + URLEncoder.encode(room, StandardCharsets.UTF_8));
        return ok(path, get(user, path, o)).path("results").size();
    }

    private long history(int user, Room room, String query, Outcome o) throws Exception {
        String path = "/api/rooms/" + room.name() + "/messages?" + query;
        return ok(path, get(user, path, o)).path("messages").size();
    }

    private static JsonNode ok(String path, HttpResponse<String> r) throws IOException {
        if (r.statusCode() != 200) throw new IllegalStateException("GET " + path + ": HTTP " + r.statusCode() + " " + r.body());
        return JSON.readTree(r.body());
    }

    /**
     * GET as the user; a 429 or 503 is waited out (its Retry-After) and tried again, up to 60 times,
     * counted in {@code o}. The latency of the last attempt goes to {@code o} if it was a 200.
     */
    private HttpResponse<String> get(int user, String path, Outcome o) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(target.url() + path)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + tokens.get(user)).GET().build();
        for (int attempt = 0; ; attempt++) {
            long start = System.nanoTime();
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            if ((r.statusCode() != 429 && r.statusCode() != 503) || attempt == 60) {
                if (r.statusCode() == 200) record(o, start);
                return r;
            }
            o.retries.incrementAndGet();
            Thread.sleep(1000L * Math.max(1, r.headers().firstValueAsLong("Retry-After").orElse(1)));
        }
    }

    private static void record(Outcome o, long startNanos) {
        long micros = Math.max(1, (System.nanoTime() - startNanos) / 1000);
        synchronized (o.latency) {
            o.latency.recordValue(Math.min(micros, o.latency.getHighestTrackableValue()));
        }
    }

    private void fail(Outcome o, Exception e) {
        if (o.errors.getAndIncrement() == 0) {
            o.firstError = e.getMessage();
            System.err.println("query: " + e);
        }
    }

    private Map<String, Object> report(Outcome o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("latency", Report.latency(o.latency));
        m.put("errors", o.errors.get());
        m.put("retries", o.retries.get());
        long n = o.latency.getTotalCount();
        m.put("itemsPerRequest", n == 0 ? 0.0 : Report.round((double) o.items.get() / n));
        if (o.firstError != null) m.put("firstError", o.firstError);
        return m;
    }

    private void log(String line) {
        if (!common.quiet) System.err.println(line);
    }
}
