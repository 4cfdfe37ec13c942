package dev.parley.client;

import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/*
 * Over 400 lines: the reconnect, the rejoin with since and the outbox of unacknowledged sends are one
 * state machine on one thread; split, each part would need the others' state.
 */
/**
 * A WebSocket to a Parley server that stays up: made by {@link ParleyClient#connect}. It keeps the
 * rooms joined and, for each, the highest {@code seq} handed to the listener; when the socket drops
 * it waits as PROTOCOL.md 10 says ({@link Backoff}: full jitter, {@code Retry-After}, no retry after
 * 4003, 1002, 1008, 1009 or 1000), opens another, joins every room again with {@code since} that seq
 * and re-sends what was not acknowledged, in order, under the same {@code clientId}s. So the
 * listener gets each message of a room once, in order, across drops (PROTOCOL.md 9.1, 9.4), and a
 * send's future completes with its ack once it is stored, whatever the drops between (9.3).
 *
 * <p>Everything happens on the connection's own thread ({@code parley-client-N}): frames, the
 * listener's calls, the futures' completions. Methods may be called from any thread, the listener
 * included, and never block, except {@link #close()}. Waiting on a future of the connection on its
 * own thread (in the listener, or in a stage run by a future it completed) would wait for ever.
 */
public final class Connection implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    private static final long HANDSHAKE_SECONDS = 15;
    private static final long CLOSE_SECONDS = 5;
    /** Refusals of a join that say "not now": the join is asked again after a pause, on the same socket. */
    private static final Set<String> TRANSIENT = Set.of("rate_limited", "unavailable", "internal");
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final ParleyClient client;
    private final TokenSource tokens;
    private final Consumer<Event> listener;
    private final Thread thread;
    private final ScheduledThreadPoolExecutor loop;
    private final Random random = new Random();
    private final Backoff backoff = new Backoff(random);
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final CompletableFuture<Void> connected = new CompletableFuture<>();

    // Touched on the connection's thread only.
    private final Map<String, Room> rooms = new LinkedHashMap<>();
    private final Map<String, Pending> sends = new HashMap<>(); // by ref
    private final Map<String, CompletableFuture<Event>> requests = new HashMap<>(); // history, read, ping: by ref
    private WebSocket socket; // open, else null
    private CompletableFuture<?> writing = CompletableFuture.completedFuture(null); // the socket's sends, one after the other
    private int attempt;
    private long openedAt;
    private boolean renew; // the last token was refused: ask the source for a new one
    private boolean renewed; // asked since the last open: a second 401 ends the connection
    private boolean stopping;
    private long refs;

    /** A room this connection is in, or joining. */
    private static final class Room {
        final String name;
        final CompletableFuture<Event.Joined> joining = new CompletableFuture<>();
        /** Sends not acknowledged yet, by clientId, in the order they were asked. */
        final LinkedHashMap<String, Pending> unacked = new LinkedHashMap<>();
        long lastSeq; // the highest seq handed to the listener; -1 until the first joined
        boolean joined; // on the current socket
        String joinRef;
        String leaveRef;
        CompletableFuture<Event.Left> leaving;

        Room(String name, long since) {
            this.name = name;
            this.lastSeq = since;
        }
    }

    private record Pending(String room, String text, String clientId, String ref, CompletableFuture<Event.Ack> ack) {}

    Connection(ParleyClient client, TokenSource tokens, Consumer<Event> listener) {
        this.client = client;
        this.tokens = tokens;
        this.listener = listener;
        Thread[] made = new Thread[1];
        this.loop = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "parley-client-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            made[0] = t;
            return t;
        });
        loop.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        loop.prestartCoreThread();
        this.thread = made[0];
    }

    void start() {
        run(this::open);
    }

    // --- what a caller asks ---

    /** Joins {@code room} (making it, as a public room, if it does not exist): completes with the first {@code joined}. */
    public CompletableFuture<Event.Joined> join(String room) {
        return join(room, -1);
    }

    /**
     * Joins {@code room} and replays what came after {@code since} (a seq, as a resume from a copy
     * kept elsewhere); -1 for no replay. After a drop the room is joined again by itself, from
     * where the listener was. Completes with the first {@code joined}; fails with the join's
     * refusal ({@code forbidden}, {@code too_many_rooms}...), after which the room is not kept.
     */
    public CompletableFuture<Event.Joined> join(String room, long since) {
        return ask(() -> {
            Room r = rooms.get(room);
            if (r != null && r.leaving == null) return r.joining;
            if (r != null) return CompletableFuture.failedFuture(new ParleyException("conflict", "leaving " + room + ": join it once left"));
            r = new Room(room, since >= 0 ? since : -1);
            rooms.put(room, r);
            if (socket != null) writeJoin(r);
            return r.joining;
        });
    }

    /** Sends {@code text} to a joined room under a new random clientId: completes with the ack, once stored. */
    public CompletableFuture<Event.Ack> send(String room, String text) {
        return send(room, text, UUID.randomUUID().toString());
    }

    /**
     * Sends {@code text} to a joined room (or one being joined: it goes once joined) under
     * {@code clientId}, which must be new for every message (PROTOCOL.md {@code send}). Until its
     * ack it is sent again after each drop. Fails with the server's refusal ({@code rate_limited}:
     * not stored; {@code unavailable}: may be stored, send again with the same clientId), or with
     * {@code not_joined} if the room was never joined or was left (removed, banned) before the ack.
     */
    public CompletableFuture<Event.Ack> send(String room, String text, String clientId) {
        return ask(() -> {
            Room r = rooms.get(room);
            if (r == null || r.leaving != null) {
                return CompletableFuture.failedFuture(new ParleyException("not_joined", "join " + room + " before sending to it"));
            }
            Pending p = r.unacked.get(clientId);
            if (p != null) return p.ack();
            p = new Pending(room, text, clientId, "s" + ++refs, new CompletableFuture<>());
            r.unacked.put(clientId, p);
            sends.put(p.ref(), p);
            if (socket != null && r.joined) write(Frames.send(room, text, clientId, p.ref()));
            return p.ack();
        });
    }

    /** Leaves {@code room}: completes with {@code left}; what was sent there and not acknowledged fails with {@code not_joined}. */
    public CompletableFuture<Event.Left> leave(String room) {
        return ask(() -> {
            Room r = rooms.get(room);
            if (r == null) return CompletableFuture.completedFuture(new Event.Left(room, null, null));
            if (r.leaving != null) return r.leaving;
            r.leaving = new CompletableFuture<>();
            if (socket == null) {
                out(r, null);
                return CompletableFuture.completedFuture(new Event.Left(room, null, null));
            }
            r.leaveRef = "l" + ++refs;
            write(Frames.leave(room, r.leaveRef));
            return r.leaving;
        });
    }

    /** A page of older messages ({@code before} a seq, or the newest with 0), over the socket. Fails with {@code not_connected} while it is down. */
    public CompletableFuture<Event.History> history(String room, long before, int limit) {
        return request(ref -> Frames.history(room, before, limit, ref)).thenApply(Event.History.class::cast);
    }

    /** Marks {@code room} read up to {@code seq} for the user, on every device. */
    public CompletableFuture<Event.Read> read(String room, long seq) {
        return request(ref -> Frames.read(room, seq, ref)).thenApply(Event.Read.class::cast);
    }

    /** An application-level ping: completes with the pong. */
    public CompletableFuture<Event.Pong> ping() {
        return request(Frames::ping).thenApply(Event.Pong.class::cast);
    }

    /** Tells the room the user is typing; dropped while the socket is down or the room not joined. */
    public void typing(String room) {
        run(() -> {
            Room r = rooms.get(room);
            if (socket != null && r != null && r.joined) write(Frames.typing(room));
        });
    }

    /** Completes when a socket is open the first time. */
    public CompletableFuture<Void> connected() {
        return connected.copy();
    }

    /**
     * Completes when the connection ended for good: with 1000 after {@link #close()}, the close code
     * the server ended it with (4003: the session was revoked...), or 401 when no token was accepted.
     */
    public CompletableFuture<Integer> closed() {
        return closed.copy();
    }

    /** Closes the socket (1000) and stops reconnecting; waits up to 5 s for the server's close, unless called on the connection's thread. */
    @Override
    public void close() {
        run(() -> {
            stopping = true;
            WebSocket s = socket;
            if (s == null) {
                end(WebSocket.NORMAL_CLOSURE, "closed by the client");
                return;
            }
            s.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
            loop.schedule(() -> logged(() -> {
                s.abort();
                end(WebSocket.NORMAL_CLOSURE, "closed by the client; the server did not answer");
            }), CLOSE_SECONDS, TimeUnit.SECONDS);
        });
        if (Thread.currentThread() == thread) return;
        try {
            closed.get(CLOSE_SECONDS + 1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // closed as far as this side goes
        }
    }

    // --- the socket's life ---

    private void open() {
        if (stopping || socket != null) return;
        int mine = ++attempt;
        String token;
        try {
            token = tokens.token(renew);
        } catch (ParleyException e) {
            if (e.status() == 401 || e.status() == 403) {
                end(401, "cannot sign in again: " + e.getMessage());
            } else {
                again(e.status(), "cannot sign in: " + e.getMessage(), backoff.nextMillis(-1, e.retryAfterSeconds()));
            }
            return;
        } catch (Exception e) {
            again(-1, "cannot sign in: " + e, backoff.nextMillis(-1, 0));
            return;
        }
        if (token == null) {
            end(401, "the token was refused and there is no other");
            return;
        }
        if (renew) renewed = true;
        renew = false;
        // A deadline on the whole handshake: a node going down may take the TCP connection and never answer.
        client.http().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(HANDSHAKE_SECONDS))
                .header("Authorization", "Bearer " + token)
                .buildAsync(client.webSocketUri(), new SocketListener(this, mine))
                .orTimeout(HANDSHAKE_SECONDS, TimeUnit.SECONDS)
                .whenComplete((ws, failure) -> {
                    if (failure != null) run(() -> refused(mine, failure));
                });
    }

    /**
     * The socket of attempt {@code mine} is open. Told by the socket's listener, not by the future
     * of the handshake, so that it comes before the socket's first frame or close.
     */
    private void opened(int mine, WebSocket ws) {
        if (mine != attempt || stopping || socket != null) {
            ws.abort(); // an attempt given up on (past its deadline) that opened after all, or we are leaving
            return;
        }
        socket = ws;
        writing = CompletableFuture.completedFuture(null);
        openedAt = System.nanoTime();
        renewed = false;
        emit(new Event.Connected());
        connected.complete(null);
        for (Room r : rooms.values()) writeJoin(r);
    }

    /** Attempt {@code mine} failed: refused by the server, not answered in time, or no connection. */
    private void refused(int mine, Throwable failure) {
        if (mine != attempt || stopping || socket != null) return;
        attempt++; // should it open after all (past its deadline), it is no longer wanted
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof WebSocketHandshakeException h) {
            int status = h.getResponse().statusCode();
            if (status == 401) {
                if (renewed) {
                    end(401, "the server refused the token");
                } else {
                    renew = true;
                    again(401, "the token was refused: signing in again", 0);
                }
                return;
            }
            long retryAfter = h.getResponse().headers().firstValue("Retry-After").map(ParleyClient::seconds).orElse(0L);
            again(status, "the server refused the connection (HTTP " + status + ")", backoff.nextMillis(-1, retryAfter));
            return;
        }
        again(-1, cause instanceof TimeoutException ? "no answer to the handshake in " + HANDSHAKE_SECONDS + " s" : String.valueOf(cause),
                backoff.nextMillis(-1, 0));
    }

    private void again(int code, String reason, long waitMillis) {
        if (stopping) return;
        emit(new Event.Disconnected(code, reason, waitMillis));
        loop.schedule(() -> logged(this::open), waitMillis, TimeUnit.MILLISECONDS);
    }

    /** The socket closed ({@code code}) or broke (-1). */
    private void lost(WebSocket ws, int code, String reason) {
        if (ws != socket) return;
        socket = null;
        ParleyException down = new ParleyException("not_connected", "the connection dropped before the answer");
        for (CompletableFuture<Event> f : List.copyOf(requests.values())) f.completeExceptionally(down);
        requests.clear();
        for (Room r : List.copyOf(rooms.values())) {
            r.joined = false;
            if (r.leaving != null) out(r, null); // left with the socket
        }
        if (stopping || Backoff.FINAL_CODES.contains(code)) {
            end(code, reason);
            return;
        }
        backoff.wasUp(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedAt));
        if (code == 4001) renew = true; // the token expired
        again(code, reason, backoff.nextMillis(code, 0));
    }

    /** Ended for good: everything waiting fails with {@code closed}. */
    private void end(int code, String reason) {
        if (closed.isDone()) return;
        stopping = true;
        if (socket != null) socket.abort();
        socket = null;
        ParleyException gone = new ParleyException("closed", "the connection ended (" + code + (reason == null ? "" : ": " + reason) + ")");
        for (Room r : List.copyOf(rooms.values())) {
            r.joining.completeExceptionally(gone);
            if (r.leaving != null) r.leaving.complete(new Event.Left(r.name, null, r.leaveRef));
            for (Pending p : r.unacked.values()) p.ack().completeExceptionally(gone);
        }
        rooms.clear();
        sends.clear();
        for (CompletableFuture<Event> f : requests.values()) f.completeExceptionally(gone);
        requests.clear();
        connected.completeExceptionally(gone);
        emit(new Event.Disconnected(code, reason, -1));
        closed.complete(code);
        loop.shutdown();
    }

    // --- frames in ---

    private void frame(WebSocket ws, String text) {
        if (ws != socket) return;
        Event e = Frames.decode(text);
        switch (e) {
            case Event.Message m -> {
                Room r = rooms.get(m.room());
                if (r != null && m.seq() > 0) {
                    if (m.seq() <= r.lastSeq) return; // had it: a replay overlapping what came before the drop
                    r.lastSeq = m.seq();
                }
                emit(m);
            }
            case Event.Joined j -> joined(j);
            case Event.Ack a -> {
                Pending p = a.ref() == null ? null : sends.remove(a.ref());
                if (p != null) {
                    Room r = rooms.get(p.room());
                    if (r != null) r.unacked.remove(p.clientId());
                }
                emit(a);
                if (p != null) p.ack().complete(a);
            }
            case Event.Error err -> error(ws, err);
            case Event.Left l -> {
                emit(l);
                Room r = rooms.get(l.room());
                if (r != null && (l.reason() != null || (l.ref() != null && l.ref().equals(r.leaveRef)))) out(r, l);
            }
            case Event.History h -> answered(h.ref(), h);
            case Event.Read rd -> answered(rd.ref(), rd);
            case Event.Pong p -> answered(p.ref(), p);
            default -> emit(e);
        }
    }

    private void joined(Event.Joined j) {
        Room r = rooms.get(j.room());
        if (r == null || r.leaving != null) {
            emit(j);
            return;
        }
        r.joined = true;
        if (r.lastSeq < 0) r.lastSeq = j.lastSeq();
        emit(j);
        r.joining.complete(j);
        for (Pending p : r.unacked.values()) write(Frames.send(p.room(), p.text(), p.clientId(), p.ref()));
    }

    private void error(WebSocket ws, Event.Error err) {
        emit(err);
        String ref = err.ref();
        if (ref == null) return;
        ParleyException refused = new ParleyException(err.code(), err.message());
        Pending p = sends.remove(ref);
        if (p != null) {
            Room r = rooms.get(p.room());
            if (r != null) r.unacked.remove(p.clientId());
            p.ack().completeExceptionally(refused);
            return;
        }
        CompletableFuture<Event> f = requests.remove(ref);
        if (f != null) {
            f.completeExceptionally(refused);
            return;
        }
        for (Room r : rooms.values()) {
            if (ref.equals(r.leaveRef)) {
                out(r, null); // not in the room (not_joined): out of it all the same
                return;
            }
            if (!ref.equals(r.joinRef)) continue;
            if (TRANSIENT.contains(err.code())) {
                loop.schedule(() -> logged(() -> {
                    if (socket == ws && rooms.get(r.name) == r && !r.joined && r.leaving == null) writeJoin(r);
                }), 1_000 + random.nextInt(1_000), TimeUnit.MILLISECONDS);
            } else {
                rooms.remove(r.name);
                r.joining.completeExceptionally(refused);
                failSends(r, refused);
            }
            return;
        }
    }

    /** Out of the room: asked ({@code left} answered a leave), told ({@code left} with a reason), or the socket went while leaving. */
    private void out(Room r, Event.Left left) {
        rooms.remove(r.name);
        ParleyException gone = new ParleyException("not_joined", "out of " + r.name
                + (left != null && left.reason() != null ? ": " + left.reason() : ""));
        r.joining.completeExceptionally(gone);
        failSends(r, gone);
        if (r.leaving != null) r.leaving.complete(left != null ? left : new Event.Left(r.name, null, r.leaveRef));
    }

    private void failSends(Room r, ParleyException why) {
        List<Pending> failed = new ArrayList<>(r.unacked.values());
        r.unacked.clear();
        for (Pending p : failed) {
            sends.remove(p.ref());
            p.ack().completeExceptionally(why);
        }
    }

    private void answered(String ref, Event e) {
        emit(e);
        CompletableFuture<Event> f = ref == null ? null : requests.remove(ref);
        if (f != null) f.complete(e);
    }

    // --- frames out ---

    private void writeJoin(Room r) {
        r.joinRef = "j" + ++refs;
        write(Frames.join(r.name, r.lastSeq, r.joinRef));
    }

    /** Sends after the ones before on this socket: the JDK's WebSocket refuses a send while another is under way. */
    private void write(String frame) {
        WebSocket ws = socket;
        writing = writing.handle((v, e) -> null).thenCompose(v -> ws.sendText(frame, true));
    }

    private CompletableFuture<Event> request(Function<String, String> frame) {
        return ask(() -> {
            if (socket == null) return CompletableFuture.failedFuture(new ParleyException("not_connected", "not connected: try again once connected"));
            String ref = "r" + ++refs;
            CompletableFuture<Event> f = new CompletableFuture<>();
            requests.put(ref, f);
            write(frame.apply(ref));
            return f;
        });
    }

    // --- the connection's thread ---

    /** Runs {@code task} on the connection's thread; the answer completes there. */
    private <T> CompletableFuture<T> ask(Supplier<CompletableFuture<T>> task) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                try {
                    task.get().whenComplete((v, e) -> {
                        if (e != null) answer.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                        else answer.complete(v);
                    });
                } catch (RuntimeException e) {
                    answer.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            answer.completeExceptionally(new ParleyException("closed", "the connection has ended"));
        }
        return answer;
    }

    private void run(Runnable task) {
        run(task, null);
    }

    /** Runs {@code task} on the connection's thread; once it has ended, drops it (and aborts {@code orphan}, a socket nobody will use). */
    private void run(Runnable task, WebSocket orphan) {
        try {
            loop.execute(() -> logged(task));
        } catch (RejectedExecutionException e) {
            if (orphan != null) orphan.abort();
        }
    }

    /** Runs {@code task}, logging what it throws: the executor would keep it in a future nobody reads. */
    private static void logged(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException bug) {
            LOG.log(System.Logger.Level.ERROR, "parley client: a task of the connection failed", bug);
        }
    }

    private void emit(Event e) {
        try {
            listener.accept(e);
        } catch (RuntimeException bug) {
            LOG.log(System.Logger.Level.WARNING, "the listener failed on " + e.getClass().getSimpleName() + "; the connection goes on", bug);
        }
    }

    /** One socket's frames, handed to the connection's thread one at a time: the next is asked for once one is handled. */
    private static final class SocketListener implements WebSocket.Listener {
        private final Connection c;
        private final int attempt;
        private final StringBuilder partial = new StringBuilder();

        SocketListener(Connection c, int attempt) {
            this.c = c;
            this.attempt = attempt;
        }

        @Override
        public void onOpen(WebSocket ws) {
            c.run(() -> c.opened(attempt, ws), ws);
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (!last) {
                ws.request(1);
                return null;
            }
            String text = partial.toString();
            partial.setLength(0);
            c.run(() -> {
                try {
                    c.frame(ws, text);
                } finally {
                    ws.request(1);
                }
            }, ws);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            c.run(() -> c.lost(ws, code, reason), ws);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            c.run(() -> c.lost(ws, -1, String.valueOf(error)), ws);
        }
    }
}
