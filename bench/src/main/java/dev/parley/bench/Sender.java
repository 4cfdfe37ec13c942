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
 */
final class Sender {
    private static final int MAX_PER_TICK = 4096;
    private static final byte[] TEXT_FIELD = Scan.ascii("\",\"text\":\"");

    private final BenchConnection conn;
    private final RunClock clock;
    private final Pacer pacer;
    private final int payload;
    private final byte[] head;

    private long nextId = 1;
    private long phaseFirstId;
    private long firstNanos;
    private double periodNanos;
    private long dueInPhase;
    private long sentInPhase;
    private boolean stopped;
    private CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
    /** Acks received, over all phases. */
    long acked;
    /** Sends written, over all phases. */
    long sent;

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
            phaseFirstId = nextId;
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
        if (!conn.isOpen()) {
            done.complete(null);
            return;
        }
        long now = clock.now();
        int n = 0;
        while (sentInPhase < dueInPhase && n < MAX_PER_TICK) {
            long due = dueAt(sentInPhase);
            if (due > now) break;
            send(nextId++, due);
            conn.stats.sendLag.record(now - due);
            sentInPhase++;
            n++;
        }
        if (n > 0) conn.flush();
        if (sentInPhase < dueInPhase) {
            pacer.at(dueAt(sentInPhase), this);
        } else {
            done.complete(null);
        }
    }

    private void send(long id, long intendedNanos) {
        ByteBuf p = conn.alloc().heapBuffer(head.length + payload + 40);
        p.writeBytes(head);
        Scan.writeDecimal(p, id);
        p.writeBytes(TEXT_FIELD);
        Scan.writeFixed(p, intendedNanos, Scan.STAMP_DIGITS);
        for (int i = Scan.STAMP_DIGITS; i < payload; i++) p.writeByte('x');
        p.writeByte('"').writeByte('}');
        conn.writeFrame(0x1, p);
        conn.stats.sent++;
        sent++;
    }

    /** An ack for clientId {@code id}. */
    void acked(long id, long now) {
        acked++;
        if (id < phaseFirstId || id >= phaseFirstId + dueInPhase) return; // an earlier phase's
        long intended = dueAt(id - phaseFirstId);
        if (clock.phase().measured(intended)) conn.stats.ackLatency.record(now - intended);
    }

    /** The connection is gone: nothing more will be sent. */
    void stop() {
        stopped = true;
        done.complete(null);
    }
}
