package dev.parley.presence;

import dev.parley.broker.RedisClients;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.resource.ClientResources;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.util.Objects.requireNonNull;

/**
 * Presence of a cluster, kept in Redis. Choose it with {@code RedisBroker}; a single node needs only
 * {@link LocalPresence}.
 *
 * <p>Each node counts its own connections per (room, user) in memory, and owns one entry per
 * (room, user) it has in Redis, which it refreshes every {@code refreshEvery}; an entry not refreshed
 * for {@code ttl} is dead. Per room, two keys (the braces keep them in one Redis Cluster slot; a
 * name with braces is escaped, see {@link #hashTag}):
 * <ul>
 *   <li>{@code parley:presence:{room}:entries}, a sorted set of {@code <node>|<user>} scored by the
 *       entry's expiry time (Redis's clock, so the nodes' clocks do not matter);</li>
 *   <li>{@code parley:presence:{room}:users}, a hash of user to the number of entries they have.</li>
 * </ul>
 * Both keys expire after twice the TTL without writes, so an abandoned room leaves nothing behind.
 * Every change runs as one Lua script, which first sweeps the room's dead entries and returns the
 * users it left with none: exactly one node (the one whose script removed them) announces those
 * users offline. So the users of a node that died without leaving go offline within about
 * {@code ttl + refreshEvery}, announced by a node that still has members in the room. A third key,
 * {@code parley:presence:{room}:offline}, remembers (for an hour) who was announced offline, so
 * that a node that was only cut off announces its users online again when its refresh writes them
 * back, while entries that Redis merely lost (a restart) come back without an announcement.
 *
 * <p>A join is the user's first (true) if they had no live entry on any node before; a leave is their
 * last if no live entry is left. While Redis is down, answers come from this node's counts (as
 * {@link LocalPresence} would give them), {@link #healthy()} is false, and the next refresh after
 * Redis is back writes this node's entries again and retries the leaves it could not write, and
 * tells the other nodes about the joins and leaves they missed.
 *
 * <p>Near 500 lines: the counts in memory, the scripts' keys and replies, the refresh and the
 * fallback while Redis is away all read and write the same per-(room, user) state under one lock;
 * the scripts themselves are files ({@code redis/presence-*.lua}).
 */
public final class RedisPresence implements Presence {
    private static final Logger log = LoggerFactory.getLogger(RedisPresence.class);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(3);

    /** Where presence changes that no caller asked for go: a dead node's users, users online again. */
    public interface Announcer {
        void announce(String room, String user, boolean online);
    }

    // The scripts, each one call to Redis, are in src/main/resources/redis with what their KEYS,
    // ARGV and results are. Those that change a room start with the same prelude, which sweeps the
    // room's dead entries first.
    private static final String PRELUDE = script("presence-prelude.lua");
    /** Returns {1 if first, gone}. */
    private static final String JOIN = PRELUDE + script("presence-join.lua");
    /** Returns {1 if last, gone}. */
    private static final String LEAVE = PRELUDE + script("presence-leave.lua");
    /** Returns {gone, back, quiet}. */
    private static final String REFRESH = PRELUDE + script("presence-refresh.lua");
    /** Returns the live entries. */
    private static final String LIVE = script("presence-live.lua");

    private final String url;
    private final String node;
    private final long ttlMillis;
    private final Announcer announcer;
    private final RedisClients.Commands connection;
    private final RedisClusterAsyncCommands<String, String> redis;
    private final ScheduledExecutorService refresher;
    private final long refreshMillis;
    private final Object lock = new Object();
    private final CountCache listed = new CountCache(LISTED_COUNTS_TTL, room -> live(room).thenApply(Set::size), System::nanoTime);
    private final Map<String, Map<String, Integer>> local = new HashMap<>(); // guarded by lock
    private final Set<Entry> unwrittenLeaves = new HashSet<>();               // guarded by lock
    private final Set<Entry> unannouncedJoins = new HashSet<>();             // guarded by lock: first joins answered without Redis
    private final AtomicBoolean closeRequested = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean connected = true;
    private volatile boolean failing;
    private boolean reportedUp = true; // guarded by this

    private record Entry(String room, String user) {}

    /**
     * Connects to Redis; fails if it cannot.
     *
     * @param ttl          how long an entry lives without a refresh: how late a dead node's users go offline
     * @param refreshEvery how often this node refreshes its entries and sweeps dead ones; well under ttl
     *                     (ChatServer takes a third of it); longer only to play a node that stopped
     */
    public RedisPresence(String url, String nodeId, ClientResources resources, Duration ttl, Duration refreshEvery, Announcer announcer) {
        this.url = RedisClients.masked(requireNonNull(url, "url"));
        // An entry is <node>|<user>, split at the first '|': a user name may hold one, a node id may
        // not (ChatConfig checks CHAT_NODE_ID; changing it here would hide the clash).
        if (requireNonNull(nodeId, "nodeId").indexOf('|') >= 0) {
            throw new IllegalArgumentException("node id " + nodeId + " holds '|', which ends the node id in a presence entry");
        }
        // The random suffix keeps two nodes given one name apart.
        this.node = nodeId + "#" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        this.ttlMillis = requireNonNull(ttl, "ttl").toMillis();
        this.announcer = requireNonNull(announcer, "announcer");
        this.connection = RedisClients.connect(requireNonNull(resources, "resources"), url, "parley-presence-" + nodeId, COMMAND_TIMEOUT,
                ClientOptions.DisconnectedBehavior.REJECT_COMMANDS, "for presence");
        this.redis = connection.async();
        this.refresher = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("parley-presence-refresh").daemon(true).factory());
        // On a cluster the connection's state is one node's (Lettuce's default connection), not that
        // of the shards the rooms' keys live on: there the commands' failures alone tell (see failed),
        // and the periodic refresh writes the entries again once they succeed.
        if (!connection.cluster()) connection.connection().addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> c, SocketAddress address) {
                connected = true;
                healthChanged();
                submit(RedisPresence.this::refresh); // entries may have been lost with Redis: write them now
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                connected = false;
                healthChanged();
            }
        });
        this.refreshMillis = refreshEvery.toMillis();
    }

    /** Refreshes this node's entries every {@code refreshEvery} from now on, until {@link #close}. */
    @Override
    public void start() {
        refresher.scheduleWithFixedDelay(this::refresh, refreshMillis, refreshMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public Future<Boolean> join(String room, String user) {
        Context ctx = Vertx.currentContext();
        CompletionStage<List<Object>> call;
        synchronized (lock) {
            if (local.computeIfAbsent(room, r -> new HashMap<>()).merge(user, 1, Integer::sum) > 1) return Future.succeededFuture(false);
            Entry entry = new Entry(room, user);
            unwrittenLeaves.remove(entry);
            if (!usable()) {
                // The caller announces this on this node only (the broker is down too); the refresh
                // that writes the entry once Redis is back tells the other nodes.
                unannouncedJoins.add(entry);
                return Future.succeededFuture(true);
            }
            // Dispatched under the lock, so Redis sees this node's joins and leaves in the order they happened.
            call = eval(JOIN, room, user);
        }
        return on(ctx, call.handle((result, err) -> {
            if (err != null) {
                failed("join", err);
                synchronized (lock) {
                    if (isLocal(new Entry(room, user))) unannouncedJoins.add(new Entry(room, user));
                }
                return true;
            }
            succeeded();
            announceGone(room, result.get(1));
            return ((Long) result.get(0)) == 1;
        }));
    }

    @Override
    public Future<Boolean> leave(String room, String user) {
        Context ctx = Vertx.currentContext();
        Entry entry = new Entry(room, user);
        CompletionStage<List<Object>> call;
        synchronized (lock) {
            Map<String, Integer> users = local.get(room);
            Integer n = users == null ? null : users.get(user);
            if (n == null) return Future.succeededFuture(false);
            if (n > 1) {
                users.put(user, n - 1);
                return Future.succeededFuture(false);
            }
            users.remove(user);
            if (users.isEmpty()) local.remove(room);
            unannouncedJoins.remove(entry);
            if (!usable()) {
                unwrittenLeaves.add(entry);
                return Future.succeededFuture(true);
            }
            call = eval(LEAVE, room, user);
        }
        return on(ctx, call.handle((result, err) -> {
            if (err != null) {
                failed("leave", err);
                synchronized (lock) {
                    if (!isLocal(entry)) unwrittenLeaves.add(entry);
                }
                return true;
            }
            succeeded();
            announceGone(room, result.get(1));
            return ((Long) result.get(0)) == 1;
        }));
    }

    @Override
    public Future<List<String>> members(String room) {
        return on(Vertx.currentContext(), live(room).thenApply(ArrayList::new));
    }

    /**
     * Two seconds: the room list's online counts are that old at most, and each listed room costs
     * Redis one script per two seconds per node, whatever the number of clients listing it.
     */
    static final Duration LISTED_COUNTS_TTL = Duration.ofSeconds(2);

    @Override
    public Future<Map<String, Integer>> listedCounts(Collection<String> rooms) {
        return on(Vertx.currentContext(), listed.counts(rooms));
    }

    @Override
    public Future<Map<String, Integer>> counts(Collection<String> rooms) {
        List<String> names = List.copyOf(rooms);
        List<CompletableFuture<TreeSet<String>>> calls = names.stream().map(r -> live(r).toCompletableFuture()).toList();
        CompletionStage<Map<String, Integer>> all = CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(x -> {
            Map<String, Integer> out = new HashMap<>();
            for (int i = 0; i < names.size(); i++) {
                int n = calls.get(i).join().size();
                if (n > 0) out.put(names.get(i), n);
            }
            return out;
        });
        return on(Vertx.currentContext(), all);
    }

    /** The room's users with a live entry, and this node's own (whose entries may not be written yet). */
    private CompletionStage<TreeSet<String>> live(String room) {
        TreeSet<String> mine = new TreeSet<>();
        synchronized (lock) {
            Map<String, Integer> users = local.get(room);
            if (users != null) mine.addAll(users.keySet());
        }
        if (!usable()) return CompletableFuture.completedFuture(mine);
        CompletionStage<List<Object>> call;
        try {
            call = redis.eval(LIVE, ScriptOutputType.MULTI, entriesKey(room));
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((entries, err) -> {
            if (err != null) {
                failed("members", err);
                return mine;
            }
            succeeded();
            for (Object e : entries) mine.add(userOf((String) e));
            return mine;
        });
    }

    // --- refresh ---

    /** On the refresh thread: rewrites this node's entries, sweeps dead ones, retries unwritten leaves. */
    private void refresh() {
        if (!usable()) return;
        List<String> rooms;
        synchronized (lock) {
            rooms = new ArrayList<>(local.keySet());
        }
        // One room at a time under the lock: event loops wait for one dispatch at most, never for all.
        for (String room : rooms) {
            CompletionStage<List<Object>> call;
            String[] written;
            synchronized (lock) {
                Map<String, Integer> users = local.get(room);
                if (users == null || !usable()) continue;
                written = users.keySet().toArray(String[]::new);
                call = eval(REFRESH, room, written);
            }
            call.whenComplete((result, err) -> {
                if (err != null) {
                    failed("refresh", err);
                    return;
                }
                succeeded();
                announceGone(room, result.get(0));
                // Online again after an offline announcement: everyone is told.
                for (Object user : (List<?>) result.get(1)) announce(room, (String) user, true);
                // New without one (Redis lost its data): only joins the other nodes never heard of are told.
                Set<Object> quiet = new HashSet<>((List<?>) result.get(2));
                List<String> tell = new ArrayList<>();
                synchronized (lock) {
                    for (String user : written) {
                        if (unannouncedJoins.remove(new Entry(room, user)) && quiet.contains(user)) tell.add(user);
                    }
                }
                for (String user : tell) announce(room, user, true);
            });
        }
        List<Entry> leaves;
        synchronized (lock) {
            leaves = new ArrayList<>(unwrittenLeaves);
        }
        for (Entry e : leaves) {
            CompletionStage<List<Object>> call;
            synchronized (lock) {
                if (!unwrittenLeaves.contains(e) || !usable()) continue;
                call = eval(LEAVE, e.room(), e.user());
            }
            call.whenComplete((result, err) -> {
                if (err != null) {
                    failed("leave", err);
                    return;
                }
                synchronized (lock) {
                    unwrittenLeaves.remove(e);
                }
                succeeded();
                announceGone(e.room(), result.get(1));
                // Announced offline on this node when it left; the other nodes learn it now.
                if (((Long) result.get(0)) == 1) announce(e.room(), e.user(), false);
            });
        }
    }

    // --- Redis ---

    private boolean usable() {
        return connected && !closing.get();
    }

    private CompletionStage<List<Object>> eval(String script, String room, String... args) {
        String[] argv = new String[2 + args.length];
        argv[0] = node;
        argv[1] = Long.toString(ttlMillis);
        System.arraycopy(args, 0, argv, 2, args.length);
        try {
            return redis.eval(script, ScriptOutputType.MULTI, new String[]{entriesKey(room), usersKey(room), offlineKey(room)}, argv);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e); // a closed connection throws instead of failing the future
        }
    }

    static String entriesKey(String room) {
        return "parley:presence:{" + hashTag(room) + "}:entries";
    }

    static String usersKey(String room) {
        return "parley:presence:{" + hashTag(room) + "}:users";
    }

    static String offlineKey(String room) {
        return "parley:presence:{" + hashTag(room) + "}:offline";
    }

    /**
     * The room as it goes between braces: Redis Cluster hashes a key by what lies between its first
     * '{' and the next '}', if that is not empty, so a '}' in the name or an empty name would put a
     * room's keys in different slots (and its scripts fail with CROSSSLOT). Braces and '%' are
     * escaped, so that two names never make one tag; the names Limits allows are left as they are,
     * which keeps the keys of nodes running an older version. A lone '%' is no escaped name.
     */
    static String hashTag(String room) {
        if (room.isEmpty()) return "%";
        if (room.indexOf('{') < 0 && room.indexOf('}') < 0 && room.indexOf('%') < 0) return room;
        return room.replace("%", "%25").replace("{", "%7B").replace("}", "%7D");
    }

    private static String userOf(String entry) {
        return entry.substring(entry.indexOf('|') + 1);
    }

    private boolean isLocal(Entry e) {
        Map<String, Integer> users = local.get(e.room());
        return users != null && users.containsKey(e.user());
    }

    private void announceGone(String room, Object gone) {
        for (Object user : (List<?>) gone) announce(room, (String) user, false);
    }

    private void announce(String room, String user, boolean online) {
        try {
            announcer.announce(room, user, online);
        } catch (RuntimeException e) {
            log.error("announcing {} {} in room {} failed", user, online ? "online" : "offline", room, e);
        }
    }

    /** A script of the jar, read once, when this class is loaded. */
    private static String script(String name) {
        try (InputStream in = RedisPresence.class.getResourceAsStream("/redis/" + name)) {
            if (in == null) throw new IllegalStateException("the script redis/" + name + " is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the script redis/" + name, e);
        }
    }

    private static <T> Future<T> on(Context ctx, CompletionStage<T> stage) {
        return ctx == null ? Future.fromCompletionStage(stage) : Future.fromCompletionStage(stage, ctx);
    }

    private void submit(Runnable task) {
        try {
            refresher.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    // --- health ---

    private void failed(String what, Throwable err) {
        if (closing.get()) return;
        if (!failing) log.debug("presence {} failed: {}", what, err.toString());
        failing = true;
        healthChanged();
    }

    private void succeeded() {
        if (failing) {
            failing = false;
            healthChanged();
        }
    }

    private void healthChanged() {
        boolean up = healthy();
        synchronized (this) {
            if (closing.get() || up == reportedUp) return;
            reportedUp = up;
        }
        if (up) log.info("presence is back on Redis at {}; this node's entries are written again", url);
        else log.warn("presence cannot reach Redis at {}: answering from this node's connections until it is back", url);
    }

    @Override
    public boolean healthy() {
        return connected && !failing && !closing.get();
    }

    /**
     * Removes the entries this node still holds (announcing users who leave with them), waits up to
     * about 2 s for Redis to answer everything sent before, then disconnects.
     */
    @Override
    public Future<Void> close() {
        if (!closeRequested.compareAndSet(false, true)) return Future.succeededFuture();
        CompletableFuture<Void> done = new CompletableFuture<>();
        refresher.execute(() -> {
            List<CompletionStage<?>> leaves = new ArrayList<>();
            synchronized (lock) {
                closing.set(true);
                if (connected) {
                    local.forEach((room, users) -> users.keySet().forEach(user -> leaves.add(eval(LEAVE, room, user).thenAccept(result -> {
                        announceGone(room, result.get(1));
                        if (((Long) result.get(0)) == 1) announce(room, user, false);
                    }))));
                }
                local.clear();
            }
            refresher.shutdown();
            CompletionStage<?> ping;
            try {
                ping = connected ? redis.ping() : CompletableFuture.completedFuture(null); // answered after everything sent before it
            } catch (RuntimeException e) {
                ping = CompletableFuture.completedFuture(null);
            }
            leaves.add(ping);
            CompletableFuture.allOf(leaves.stream().map(CompletionStage::toCompletableFuture).toArray(CompletableFuture[]::new))
                    .orTimeout(2, TimeUnit.SECONDS)
                    .handle((x, err) -> null)
                    .thenCompose(x -> connection.closeAsync())
                    .whenComplete((x, err) -> done.complete(null));
        });
        return Future.fromCompletionStage(done);
    }
}
