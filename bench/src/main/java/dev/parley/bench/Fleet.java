package dev.parley.bench;

import java.io.PrintStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The connections of a run: {@code rooms x members} WebSockets, each joined to its room, the first
 * {@code senders} members of each room also sending. Opening it registers the users and connects
 * with a bounded number of attempts in flight; closing it closes every socket. A reconnecting fleet
 * (bench storm) gives each connection a {@link Reconnect}: a refused or dropped socket comes back as
 * PROTOCOL.md 10 says, from the first connect on.
 */
final class Fleet implements AutoCloseable {
    final Client client;
    final List<Room> rooms = new ArrayList<>();
    final List<BenchConnection> connections = new ArrayList<>();
    final List<Sender> senders = new ArrayList<>();
    final int failed;
    final double connectSeconds;
    /** What the connections of a reconnecting fleet share; null in the others. */
    final Reconnect.Policy reconnect;

    record Room(String name, List<BenchConnection> members, List<Sender> senders) {
        long acked() {
            long a = 0;
            for (Sender s : senders) a += s.acked;
            return a;
        }
    }

    /** A fleet where every connection is a member and none sends (the capacity scenario), calling {@code beforeConnect} once the users are registered and before the first connection. */
    static Fleet idle(CommonOptions o, int connections, int roomCount, PrintStream err, Runnable beforeConnect) throws InterruptedException {
        int perRoom = (connections + roomCount - 1) / roomCount;
        return new Fleet(o, connections, roomCount, perRoom, 0, 16, err, true, false, beforeConnect);
    }

    static Fleet open(CommonOptions o, int roomCount, int members, int sendersPerRoom, int payload, PrintStream err) throws InterruptedException {
        return new Fleet(o, roomCount * members, roomCount, members, sendersPerRoom, payload, err, false, false, () -> {});
    }

    /** The same, each connection coming back after a drop (bench storm). */
    static Fleet reconnecting(CommonOptions o, int roomCount, int members, int sendersPerRoom, int payload, PrintStream err) throws InterruptedException {
        return new Fleet(o, roomCount * members, roomCount, members, sendersPerRoom, payload, err, false, true, () -> {});
    }

    private Fleet(CommonOptions o, int total, int roomCount, int perRoom, int sendersPerRoom, int payload, PrintStream err,
                  boolean tolerateFailures, boolean reconnecting, Runnable beforeConnect) throws InterruptedException {
        String runId = o.runId();
        List<Target> targets = o.targets();
        List<InetAddress> sources = o.sources(total);
        int users = o.users > 0 ? Math.min(o.users, total) : tolerateFailures ? Math.min(total, 1000) : total;
        if (!o.quiet) err.printf("run %s: registering %d users on %d node(s)%n", runId, users, targets.size());
        long t0 = System.nanoTime();
        List<String> tokens = new Registrar(o.registerConcurrency).tokens(targets, runId, users);
        if (!o.quiet) err.printf("registered in %.1f s; connecting %d WebSockets (%d rooms, %d client threads%s)%n",
                (System.nanoTime() - t0) / 1e9, total, roomCount, o.threads,
                sources.isEmpty() ? "" : ", from " + sources.size() + " source addresses");
        client = new Client(o.threads, new RunClock(), o.readEvery == null ? 0 : o.readEvery.toNanos());
        reconnect = reconnecting ? new Reconnect.Policy(client::open, Reconnect.Policy.THREAD_LOCAL) : null;
        // A reconnecting fleet's first connects may be refused (the node's rate of upgrades) and come back on their turn.
        long joinTimeoutSeconds = reconnecting ? Math.max(120, total / 100) : 30;
        beforeConnect.run();
        for (int r = 0; r < roomCount; r++) rooms.add(new Room(runId + "-r" + r, new ArrayList<>(), new ArrayList<>()));
        Semaphore inFlight = new Semaphore(Math.max(1, o.connectConcurrency));
        List<CompletableFuture<BenchConnection>> joins = new ArrayList<>(total);
        long c0 = System.nanoTime();
        for (int i = 0; i < total; i++) {
            Room room = rooms.get(i / perRoom);
            // User i % users: with fewer users than connections, each still appears in many rooms.
            Target target = targets.get(i % targets.size());
            InetAddress source = sources.isEmpty() ? null : sources.get(i % sources.size());
            inFlight.acquire();
            BenchConnection c = client.connect(i, target, source, tokens.get(i % users), room.name(), reconnect);
            CompletableFuture<BenchConnection> j = c.joined.orTimeout(joinTimeoutSeconds, TimeUnit.SECONDS);
            j.whenComplete((x, e) -> inFlight.release());
            joins.add(j);
            connections.add(c);
            room.members().add(c);
            if (room.members().size() <= sendersPerRoom) {
                Sender s = new Sender(c, client.clock, client.pacer, payload);
                c.sender = s;
                room.senders().add(s);
                senders.add(s);
            }
        }
        int failures = 0;
        Throwable first = null;
        for (CompletableFuture<BenchConnection> j : joins) {
            try {
                j.join();
            } catch (RuntimeException e) {
                failures++;
                if (first == null) first = e.getCause() == null ? e : e.getCause();
            }
        }
        connectSeconds = (System.nanoTime() - c0) / 1e9;
        failed = failures;
        if (failures > 0) {
            err.printf("%d of %d connections failed; the first: %s%n", failures, total, first);
            if (reconnecting) {
                err.printf("how sockets ended: %s; error frames: %s%n", client.onEachLoop(s -> new TreeMap<>(s.reconnects)),
                        client.onEachLoop(s -> new TreeMap<>(s.errors)));
            }
            if (!tolerateFailures) {
                close();
                throw new IllegalStateException(failures + " of " + total + " connections failed: " + first, first);
            }
        }
        if (!o.quiet) err.printf("%d connections joined in %.2f s (%.0f/s)%n", total - failures, connectSeconds, (total - failures) / connectSeconds);
    }

    /** Messages the room's members should have received and did not, over the whole run. Call after a loop sync. */
    long losses() {
        return shortfall(c -> true);
    }

    /**
     * Of {@link #losses}, what the members that are not joined at the end lack: a member that did not
     * come back (a storm's client still away, or one that gave up) has not been given what its room
     * stored meanwhile, which its resume would replay. Call after a loop sync.
     */
    long lossesOfAbsent() {
        return shortfall(c -> !c.isJoined());
    }

    /** What the members that {@code counted} lack of what their room's senders had acknowledged. */
    private long shortfall(java.util.function.Predicate<BenchConnection> counted) {
        long lost = 0;
        for (Room r : rooms) {
            long acked = r.acked();
            for (BenchConnection c : r.members()) if (counted.test(c)) lost += Math.max(0, acked - c.distinct());
        }
        return lost;
    }

    /**
     * Messages members received beyond what the room's senders had acknowledged, over the whole run:
     * with only the bench sending, a message stored twice (a retry that was not recognised) or one
     * never acknowledged. Call after a loop sync.
     */
    long extra() {
        long extra = 0;
        for (Room r : rooms) {
            long acked = r.acked();
            for (BenchConnection c : r.members()) extra += Math.max(0, c.distinct() - acked);
        }
        return extra;
    }

    long resent() {
        return senders.stream().mapToLong(s -> s.resent).sum();
    }

    long skipped() {
        return senders.stream().mapToLong(s -> s.skipped).sum();
    }

    long repeatedAcks() {
        return senders.stream().mapToLong(s -> s.repeatedAcks).sum();
    }

    /** Deliveries the acks so far promise: each acked message to every member of its room. */
    long expected() {
        long e = 0;
        for (Room r : rooms) e += r.acked() * r.members().size();
        return e;
    }

    long distinct() {
        long d = 0;
        for (BenchConnection c : connections) d += c.distinct();
        return d;
    }

    long sent() {
        long s = 0;
        for (Sender x : senders) s += x.sent;
        return s;
    }

    long acked() {
        long a = 0;
        for (Sender x : senders) a += x.acked;
        return a;
    }

    long open() {
        return connections.stream().filter(BenchConnection::isOpen).count();
    }

    @Override
    public void close() {
        for (BenchConnection c : connections) c.close();
        client.close();
    }
}
