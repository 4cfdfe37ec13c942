package dev.parley.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A master, its replica and one Sentinel watching them (quorum 1, down after a second), each a
 * {@code redis-server} process of this machine on free ports, in a directory of its own. Killing
 * the master ({@link #killMaster()}) makes the Sentinel promote the replica within a few seconds.
 */
public final class RedisSentinel implements AutoCloseable {
    public static final String MASTER_NAME = "mymaster";

    private final Path dir;
    private final ClientResources resources = ClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1).build();
    private final List<Process> processes = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();
    private int sentinelPort;

    private RedisSentinel(Path dir) {
        this.dir = dir;
    }

    public static RedisSentinel start() {
        RedisSentinel s;
        try {
            s = new RedisSentinel(Files.createTempDirectory("parley-redis-sentinel"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            int master = s.server(List.of());
            s.server(List.of("replicaof 127.0.0.1 " + master));
            s.sentinelPort = Ports.free();
            s.start(s.sentinelPort, List.of(
                    "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master + " 1",
                    "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
                    "sentinel failover-timeout " + MASTER_NAME + " 5000"), true);
            Await.until("the replica in sync and known to the Sentinel", Duration.ofSeconds(30),
                    () -> s.info(s.ports.get(1), "replication").contains("master_link_status:up")
                            && s.info(s.sentinelPort, "sentinel").contains("slaves=1"));
            return s;
        } catch (RuntimeException | Error e) { // an Await's AssertionError too: no server is left running
            s.close();
            throw e;
        }
    }

    private int server(List<String> extra) {
        int port = Ports.free();
        start(port, extra, false);
        return port;
    }

    private void start(int port, List<String> extra, boolean sentinel) {
        Path home = dir.resolve(Integer.toString(port));
        try {
            Files.createDirectories(home);
            List<String> conf = new ArrayList<>(List.of("port " + port, "bind 127.0.0.1", "dir " + home, "logfile " + home.resolve("redis.log")));
            if (!sentinel) conf.addAll(List.of("save \"\"", "appendonly no"));
            conf.addAll(extra);
            Path file = home.resolve(sentinel ? "sentinel.conf" : "redis.conf"); // a Sentinel rewrites its file: it must be writable
            Files.writeString(file, String.join("\n", conf) + "\n");
            List<String> command = new ArrayList<>(List.of("redis-server", file.toString()));
            if (sentinel) command.add("--sentinel");
            processes.add(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(home.resolve("stdout.log").toFile()).start());
            ports.add(port);
            Await.until("redis-server on port " + port, Duration.ofSeconds(10), () -> !info(port, "server").isEmpty());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The URL a node is given: the Sentinel, and the master's name after '#'. */
    public String url() {
        return "redis-sentinel://127.0.0.1:" + sentinelPort + "#" + MASTER_NAME;
    }

    /** The port of the master the Sentinel names now. */
    public int masterPort() {
        try (RedisClient client = RedisClient.create(resources, RedisURI.create("redis://127.0.0.1:" + sentinelPort));
             var sentinel = client.connectSentinel()) {
            SocketAddress address = sentinel.sync().getMasterAddrByName(MASTER_NAME);
            return ((java.net.InetSocketAddress) address).getPort();
        }
    }

    /** Kills the master with SIGKILL; returns its port. */
    public int killMaster() {
        int port = masterPort();
        Process p = processes.get(ports.indexOf(port));
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return port;
    }

    private String info(int port, String section) {
        try (RedisClient client = RedisClient.create(resources, RedisURI.builder().withHost("127.0.0.1").withPort(port).withTimeout(Duration.ofSeconds(2)).build());
             StatefulRedisConnection<String, String> c = client.connect()) {
            return c.sync().info(section);
        } catch (RuntimeException e) {
            return "";
        }
    }

    @Override
    public void close() {
        resources.shutdown(0, 1, TimeUnit.SECONDS);
        for (Process p : processes) p.destroyForcibly();
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind
        }
    }
}
