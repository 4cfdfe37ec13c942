package dev.parley.bench;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Sends on one connection at a fixed rate, open loop: message {@code k} of a phase is due at
 * {@code first + k * period} whatever happened to the ones before, and carries that intended time
 * in its text, so a server that stalls is charged for the whole stall (no coordinated omission).
 * When the loop wakes late it sends everything that is due at once.
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
    private final int payload;
    private final byte[] head;

    private long nextId = 1;
    private long phaseFirstId;
    private long firstNanos;
    private double periodNanos;
    private long dueInPhase;
    private long sentInPhase;
    private ScheduledFuture<?> timer;
    private CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
    /** Acks received, over all phases. */
    long acked;
    /** Sends written, over all phases. */
    long sent;

    Sender(BenchConnection conn, RunClock clock, int payload) {
        this.conn = requireNonNull(conn, "conn");
        this.clock = requireNonNull(clock, "clock");
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
            tick();
        });
        return finished;
    }

    private long dueAt(long k) {
        return firstNanos + (long) (k * periodNanos);
    }

    private void tick() {
        timer = null;
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
            LoopStats.record(conn.stats.sendLag, now - due);
            sentInPhase++;
            n++;
        }
        if (n > 0) conn.flush();
        if (sentInPhase < dueInPhase) {
            long delay = dueAt(sentInPhase) - clock.now();
            timer = conn.channel.eventLoop().schedule(this::tick, Math.max(0, delay), TimeUnit.NANOSECONDS);
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
        if (clock.phase().measured(intended)) LoopStats.record(conn.stats.ackLatency, now - intended);
    }

    /** The connection is gone: nothing more will be sent. */
    void stop() {
        if (timer != null) timer.cancel(false);
        done.complete(null);
    }
}
