package dev.parley.bench;

import dev.parley.client.Connection;
import dev.parley.client.Event;
import dev.parley.client.ParleyClient;
import dev.parley.client.TokenSource;

import java.net.http.HttpClient;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One user's WebSocket for {@code bench query}'s joins with {@code since}: a join, the wait for its
 * {@code joined} and for the replay up to the room's last seq, then a leave (so that the next join
 * of the room replays again). Used by one thread at a time. This is the client library's
 * {@link Connection} (the JDK's WebSocket and Jackson), not {@link BenchConnection}'s raw frames: a
 * few hundred joins need no allocation-free path, and their frames are read whole.
 */
final class JoinSession implements AutoCloseable {
    private static final long TIMEOUT_SECONDS = 30;

    private final BlockingQueue<Event.Message> replayed = new LinkedBlockingQueue<>();
    private final Connection ws;

    /** What a join with since got: {@code messages} replayed, the lowest and highest of their seqs. */
    record Replay(long lastSeq, boolean recovered, long messages, long firstSeq, long highestSeq) {}

    JoinSession(HttpClient http, Target target, String token) {
        this.ws = new ParleyClient(target.url(), http).connect(TokenSource.fixed(token), e -> {
            if (e instanceof Event.Message m) replayed.add(m);
        });
        try {
            await(ws.connected(), "the WebSocket to open");
        } catch (IllegalStateException e) {
            ws.close(); // or it would go on trying
            throw e;
        }
    }

    /**
     * Joins {@code room} with {@code since} and returns once its {@code joined} came and the replay
     * reached the {@code lastSeq} it gave (or at once when there is nothing to replay).
     *
     * @throws IllegalStateException on a refused join, a closed socket, or 30 s without the end
     */
    Replay joinSince(String room, long since) throws InterruptedException {
        replayed.clear();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        Event.Joined joined = await(ws.join(room, since), "the joined frame of " + room);
        long count = 0, first = 0, highest = since;
        while (highest < joined.lastSeq()) {
            Event.Message m = replayed.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (m == null) throw new IllegalStateException("timed out waiting for the replay of " + room);
            if (!room.equals(m.room())) continue;
            if (count++ == 0) first = m.seq();
            highest = Math.max(highest, m.seq());
        }
        return new Replay(joined.lastSeq(), joined.recovered(), count, first, highest);
    }

    /** Sends a message to a room this session has joined and returns the seq of its {@code ack}. */
    long send(String room, String text, String clientId) {
        return await(ws.send(room, text, clientId), "the ack in " + room).seq();
    }

    /** Leaves the room and waits for {@code left}. */
    void leave(String room) {
        await(ws.leave(room), "left " + room);
    }

    private static <T> T await(Future<T> f, String what) {
        try {
            return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out waiting for " + what);
        } catch (ExecutionException e) {
            throw new IllegalStateException(what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for " + what, e);
        }
    }

    @Override
    public void close() {
        ws.close();
    }
}
