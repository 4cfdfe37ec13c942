package dev.parley.bench;

import io.netty.channel.EventLoop;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Wakes senders at their send times. Netty's NIO event loop waits for a timer with a select
 * timeout rounded to the nearest millisecond, so sends scheduled there leave up to about half a
 * millisecond late (and sub-millisecond waits spin), and the bench would charge its own lateness
 * to the server. This one thread parks until the
 * earliest due time (Linux wakes it within about 50 us) and hands the due senders to their event
 * loops, one task per loop. It never wakes more often than every {@value #QUANTUM_MICROS} us, so
 * high rates batch instead of costing a wake-up per message.
 */
final class Pacer implements AutoCloseable {
    private static final long QUANTUM_MICROS = 100;

    private record Wake(long due, Sender sender) implements Comparable<Wake> {
        @Override
        public int compareTo(Wake o) {
            return Long.compare(due, o.due);
        }
    }

    private final RunClock clock;
    private final PriorityBlockingQueue<Wake> wakes = new PriorityBlockingQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    Pacer(RunClock clock) {
        this.clock = clock;
        this.thread = Thread.ofPlatform().name("bench-pacer").daemon(true).start(this::run);
    }

    /** Calls {@code sender.tick()} on its event loop at {@code due} (run-clock nanoseconds) or just after. Any thread. */
    void at(long due, Sender sender) {
        Wake w = new Wake(due, sender);
        wakes.add(w);
        if (wakes.peek() == w) LockSupport.unpark(thread);
    }

    private void run() {
        long quantum = TimeUnit.MICROSECONDS.toNanos(QUANTUM_MICROS);
        long lastRound = Long.MIN_VALUE / 2;
        while (running) {
            Wake first = wakes.peek();
            long now = clock.now();
            if (first == null) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                continue;
            }
            long wait = Math.max(first.due - now, lastRound + quantum - now);
            if (wait > 0) {
                LockSupport.parkNanos(wait);
                continue;
            }
            lastRound = now;
            Map<EventLoop, List<Sender>> due = new IdentityHashMap<>();
            for (Wake w; (w = wakes.peek()) != null && w.due <= now; ) {
                wakes.poll();
                due.computeIfAbsent(w.sender.loop(), l -> new ArrayList<>()).add(w.sender);
            }
            due.forEach((loop, senders) -> loop.execute(() -> {
                for (Sender s : senders) s.tick();
            }));
        }
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
    }
}
