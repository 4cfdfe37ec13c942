package dev.parley.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A real Redis server (the binary shipped in the embedded-redis jar) on a free port. Fault tests
 * {@link #stop()} it and {@link #start()} it again on the same port.
 */
public final class Redis implements AutoCloseable {
    private final int port;
    private final String[] settings;
    private RedisServer server;
    private long paused; // the pid of a paused server, else 0

    private Redis(int port, String... settings) {
        this.port = port;
        this.settings = settings;
    }

    /** @param settings extra lines of redis.conf, such as {@code requirepass secret} */
    public static Redis startNew(String... settings) {
        Redis r = new Redis(Ports.free(), settings);
        r.start();
        return r;
    }

    public synchronized void start() {
        if (server != null) return;
        try {
            var builder = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                    .setting("save \"\"").setting("appendonly no").onShutdownForceStop(true);
            for (String setting : settings) builder.setting(setting);
            server = builder.build();
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Redis did not start", e);
        }
    }

    public synchronized void stop() {
        resume();
        if (server == null) return;
        try {
            server.stop();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            server = null;
        }
    }

    /**
     * Freezes the server (SIGSTOP): its connections stay open and it takes nothing from them, as a
     * hung Redis does. {@link #resume()} undoes it.
     */
    public synchronized void pause() {
        paused = pid();
        signal("-STOP", paused);
    }

    public synchronized void resume() {
        if (paused == 0) return;
        signal("-CONT", paused);
        paused = 0;
    }

    private long pid() {
        try (RedisClient client = RedisClient.create(url()); StatefulRedisConnection<String, String> c = client.connect()) {
            String info = c.sync().info("server");
            return info.lines().filter(l -> l.startsWith("process_id:")).mapToLong(l -> Long.parseLong(l.substring("process_id:".length()).strip()))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no process_id in INFO server"));
        }
    }

    private static void signal(String signal, long pid) {
        try {
            int exit = new ProcessBuilder("kill", signal, Long.toString(pid)).inheritIO().start().waitFor();
            if (exit != 0) throw new IllegalStateException("kill " + signal + " " + pid + " exited with " + exit);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        stop();
    }
}
