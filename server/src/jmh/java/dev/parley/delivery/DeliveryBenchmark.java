package dev.parley.delivery;

import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.broker.LocalBroker;
import dev.parley.presence.LocalPresence;
import dev.parley.store.Database;
import dev.parley.store.MessageStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@link Delivery#committed}: one committed message handed, in seq order, to N local subscribers,
 * as the store's writer thread does after a commit. The subscribers fetch the shared encoding (as
 * connections do) and count; the cost measured is the delivery's: the room lock, the order check,
 * the queue of deliveries and the loop over members. Score is per message.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DeliveryBenchmark {
    private static final Function<Message, byte[]> ENCODE = m -> new byte[]{1};

    @Param({"1", "10", "100", "1000"})
    int subscribers;

    Vertx vertx;
    Database db;
    MessageStore store;
    Delivery delivery;
    Counting[] subs;
    long seq;
    String text = "x".repeat(100);

    static final class Counting implements Subscriber {
        long received;

        @Override
        public String user() {
            return "u";
        }

        @Override
        public boolean inRoom(String room) {
            return true;
        }

        @Override
        public void joined(Joined joined, HandOff handOff) {}

        @Override
        public void message(Message message, HandOff handOff) {
            message.encoded(ENCODE);
            received++;
        }

        @Override
        public void notice(Notice notice, HandOff handOff) {}

        @Override
        public Seat seat(String room) {
            return null;
        }

        @Override
        public void removed(String room, String reason, HandOff handOff) {}
    }

    @Setup(Level.Trial)
    public void setup() throws Exception {
        vertx = Vertx.vertx();
        db = new Database("jdbc:h2:mem:hub" + System.nanoTime() + ";DB_CLOSE_DELAY=-1;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE", "", "", 2);
        store = new MessageStore(db, 512, committed -> {}, MessageStore.BatchObserver.NONE);
        delivery = new Delivery(vertx, store, new LocalBroker(), new LocalPresence(), 1000, 100, Duration.ofSeconds(1), PresenceBatching.OFF, Delivery.Observer.NONE);
        delivery.start();
        store.start();
        subs = new Counting[subscribers];
        List<Future<Seat>> joins = new ArrayList<>();
        for (int i = 0; i < subscribers; i++) {
            subs[i] = new Counting();
            joins.add(delivery.join(subs[i], "lobby", null, null, new Seat(0, 0)));
        }
        Future.all(joins).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        store.close();
        db.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        for (Counting c : subs) if (c.received != seq) throw new IllegalStateException("a subscriber missed messages: " + c.received + " of " + seq);
    }

    @Benchmark
    public void offer() {
        delivery.committed(List.of(new Message("lobby", ++seq, "01JDQ3ZK5V8W0000000000000", "alice", text, 1_795_000_000_000L, "c-1")));
    }
}
