package dev.parley.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import static java.util.Objects.requireNonNull;

/**
 * Sends on one connection at a fixed rate, open loop: message {@code k} of a phase is due at
 * {@code first + k * period} whatever happened to the ones before, and carries that intended time
 * in its text, so a server that stalls is charged for the whole stall (no coordinated omission).
 * A {@link Pacer} wakes it at each due time; when it wakes late it sends everything that is due.
 *
 * <p>The text is the intended time as {@value Scan#STAMP_DIGITS} digits, then {@code x} up to the
 * payload size. The {@code clientId} is a counter that keeps growing across phases, so a sender's
 * ack tells which message it answers without a lookup. Runs on its connection's event loop.
 *
 * <p>It keeps the intended time of each send until its ack, so that after a reconnect (bench storm)
 * it re-sends every unacknowledged one, in order, with the same {@code clientId} and text: the server
 * stores a retry once and answers it with the first ack (PROTOCOL.md 9.3). While its connection is
 * away, what falls due is not sent (counted as {@link #skipped}), as nobody types into a client that
 * is offline; sending resumes on the schedule once it has rejoined.
 */
final class Sender {
    private static final int MAX_PER_TICK = 4096;
    private static final byte[] TEXT_FIELD = Scan.ascii("\",\"text\":\"");
    private static final long ACKED = Long.MIN_VALUE;

    private final BenchConnection conn;
    private final RunClock clock;
    private final Pacer pacer;
    private final int payload;
    private final byte[] head;

    private long nextId = 1;
    /** The intended time of each id from {@link #lowUnacked} to nextId - 1, at {@code id & (length - 1)}; ACKED once acked. */
    private long[] window = new long[64];
    private long lowUnacked = 1;
    private long firstNanos;
    private double periodNanos;
    private long dueInPhase;
    private long sentInPhase;
    private boolean stopped;
    private CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
    /** Acks received, over all phases. */
    long acked;
    /** Sends written, over all phases (re-sends not counted). */
    long sent;
    /** Unacknowledged sends written again after a reconnect. */
    long resent;
    /** Sends that fell due while the connection was away, and were not sent. */
    long skipped;
    /** Acks for an id acked already, or never sent: the server answered something twice. */
    long repeatedAcks;

    Sender(BenchConnection conn, RunClock clock, Pacer pacer, int payload) {
        this.conn = requireNonNull(conn, "conn");
        this.clock = requireNonNull(clock, "clock");
        this.pacer = requireNonNull(pacer, "pacer");
        if (payload < Scan.STAMP_DIGITS + 1) throw new IllegalArgumentException("--payload must be at least " + (Scan.STAMP_DIGITS + 1));
        this.payload = payload;
        this.head = ("{\"type\":\"send\",\"room\":\"" + conn.room + "\",\"clientId\":\"").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Starts a phase: {@code rate} sends a second, the first at {@code phase.start() + offsetNanos},
     * the last before {@code phase.sendEnd()}. Completes when the last is written. Any thread.
     */
    CompletableFuture<Void> start(RunClock.Phase phase, double rate, long offsetNanos) {
        CompletableFuture<Void> finished = new CompletableFuture<>();
        conn.channel.eventLoop().execute(() -> {
            done = finished;
            periodNanos = 1e9 / rate;
            firstNanos = phase.start() + offsetNanos;
            dueInPhase = Math.max(0, (long) Math.ceil((phase.sendEnd() - firstNanos) / periodNanos));
            sentInPhase = 0;
            stopped = false;
            if (dueInPhase == 0) finished.complete(null);
            else pacer.at(dueAt(0), this);
        });
        return finished;
    }

    EventLoop loop() {
        return conn.channel.eventLoop();
    }

    private long dueAt(long k) {
        return firstNanos + (long) (k * periodNanos);
    }

    /** Sends what is due; the {@link Pacer} calls it on this sender's event loop. */
    void tick() {
        if (stopped || done.isDone()) return;
        long now = clock.now();
        if (!conn.isJoined()) {
            if (!conn.reconnects()) {
                done.complete(null);
                return;
            }
            while (sentInPhase < dueInPhase && dueAt(sentInPhase) <= now) { // away: what falls due is not sent
                sentInPhase++;
                skipped++;
            }
        } else {
            int n = 0;
            while (sentInPhase < dueInPhase && n < MAX_PER_TICK) {
                long due = dueAt(sentInPhase);
                if (due > now) break;
                long id = nextId++;
                remember(id, due);
                write(id, due);
                conn.stats.sent++;
                sent++;
                conn.stats.sendLag.record(now - due);
                sentInPhase++;
                n++;
            }
            if (n > 0) conn.flush();
        }
        if (sentInPhase < dueInPhase) {
            pacer.at(dueAt(sentInPhase), this);
        } else {
            done.complete(null);
        }
    }

    /** Keeps {@code id}'s intended time until its ack, growing the window when more are unacknowledged than it holds. */
    private void remember(long id, long intendedNanos) {
        if (id - lowUnacked >= window.length) {
            long[] wider = new long[window.length * 2];
            for (long i = lowUnacked; i < id; i++) wider[slot(i, wider)] = window[slot(i, window)];
            window = wider;
        }
        window[slot(id, window)] = intendedNanos;
    }

    private static int slot(long id, long[] w) {
        return (int) (id & (w.length - 1));
    }

    private void write(long id, long intendedNanos) {
        ByteBuf p = conn.alloc().heapBuffer(head.length + payload + 40);
        p.writeBytes(head);
        Scan.writeDecimal(p, id);
        p.writeBytes(TEXT_FIELD);
        Scan.writeFixed(p, intendedNanos, Scan.STAMP_DIGITS);
        for (int i = Scan.STAMP_DIGITS; i < payload; i++) p.writeByte('x');
        p.writeByte('"').writeByte('}');
        conn.writeFrame(0x1, p);
    }

    /** An ack for clientId {@code id}. */
    void acked(long id, long now) {
        if (id < lowUnacked || id >= nextId || window[slot(id, window)] == ACKED) {
            repeatedAcks++;
            return;
        }
        long intended = window[slot(id, window)];
        window[slot(id, window)] = ACKED;
        acked++;
        while (lowUnacked < nextId && window[slot(lowUnacked, window)] == ACKED) lowUnacked++;
        if (clock.phase().measured(intended)) conn.stats.ackLatency.record(now - intended);
    }

    /** The connection rejoined after a drop: writes every unacknowledged send again, in the order first sent, under its clientId. */
    void resend() {
        int n = 0;
        for (long id = lowUnacked; id < nextId; id++) {
            long intended = window[slot(id, window)];
            if (intended == ACKED) continue;
            write(id, intended);
            resent++;
            n++;
        }
        if (n > 0) conn.flush();
    }

    /** Ends the phase now: nothing more falls due. Any thread. */
    void finish() {
        loop().execute(() -> {
            dueInPhase = sentInPhase;
            done.complete(null);
        });
    }

    /** The connection is gone: nothing more will be sent. */
    void stop() {
        stopped = true;
        done.complete(null);
    }
}
