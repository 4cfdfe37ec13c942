package dev.parley.testing;

import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A real Redis server (the binary shipped in the embedded-redis jar) on a free port. Fault tests
 * {@link #stop()} it and {@link #start()} it again on the same port.
 */
public final class Redis implements AutoCloseable {
    private final int port;
    private RedisServer server;

    private Redis(int port) {
        this.port = port;
    }

    public static Redis startNew() {
        Redis r = new Redis(Ports.free());
        r.start();
        return r;
    }

    public synchronized void start() {
        if (server != null) return;
        try {
            server = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                    .setting("save \"\"").setting("appendonly no").onShutdownForceStop(true).build();
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Redis did not start", e);
        }
    }

    public synchronized void stop() {
        if (server == null) return;
        try {
            server.stop();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            server = null;
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
