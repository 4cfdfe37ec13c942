package dev.parley.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real Redis Cluster of {@code masters} primaries with {@code replicas} replicas each, every one a
 * {@code redis-server} process of this machine (Debian's {@code redis-server} package: sharded
 * Pub/Sub needs Redis 7, and the embedded-redis jar's binary is 6.2) on free ports, in a directory of
 * its own, made a cluster by {@code redis-cli --cluster create}. The node timeout is a second, so a
 * replica takes over a killed primary within a few seconds. {@link #close()} kills everything.
 */
public final class RedisCluster implements AutoCloseable {
    /** How long a node may be unreachable before the cluster fails it over (cluster-node-timeout). */
    public static final Duration NODE_TIMEOUT = Duration.ofSeconds(1);

    /** One node as {@code CLUSTER NODES} tells it. */
    public record Node(String id, int port, List<String> flags, String masterId, List<int[]> slots) {
        public boolean master() {
            return flags.contains("master");
        }

        public boolean failed() {
            return flags.contains("fail") || flags.contains("fail?");
        }

        public boolean owns(int slot) {
            return slots.stream().anyMatch(r -> r[0] <= slot && slot <= r[1]);
        }
    }

    private final Path dir;
    private final ClientResources resources = ClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1).build();
    private final List<Integer> ports = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    private RedisCluster(Path dir) {
        this.dir = dir;
    }

    /** Starts the servers and makes them a cluster; returns once every slot is served and every replica has its primary's data. */
    public static RedisCluster start(int masters, int replicas) {
        requireRedis7();
        RedisCluster c;
        try {
            c = new RedisCluster(Files.createTempDirectory("parley-redis-cluster"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            for (int i = 0; i < masters * (1 + replicas); i++) c.startServer();
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            for (int port : c.ports) create.add("127.0.0.1:" + port);
            create.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
            String out = run(create, Duration.ofSeconds(30));
            if (!out.contains("All 16384 slots covered")) throw new IllegalStateException("redis-cli --cluster create failed:\n" + out);
            c.awaitHealthy(masters, replicas, Duration.ofSeconds(30));
            return c;
        } catch (RuntimeException | Error e) { // an Await's AssertionError too: no server is left running
            c.close();
            throw e;
        }
    }

    private void startServer() {
        int port = Ports.free(), bus = Ports.free();
        Path home = dir.resolve(Integer.toString(port));
        try {
            Files.createDirectories(home);
            Files.writeString(home.resolve("redis.conf"), String.join("\n",
                    "port " + port,
                    "bind 127.0.0.1",
                    "cluster-enabled yes",
                    "cluster-port " + bus,
                    "cluster-config-file nodes.conf",
                    "cluster-node-timeout " + NODE_TIMEOUT.toMillis(),
                    // The other shards serve on while one fails over (the default stops the whole cluster).
                    "cluster-require-full-coverage no",
                    "save \"\"",
                    "appendonly no",
                    "dir " + home,
                    "logfile " + home.resolve("redis.log"),
                    ""));
            Process p = new ProcessBuilder("redis-server", home.resolve("redis.conf").toString())
                    .redirectErrorStream(true).redirectOutput(home.resolve("stdout.log").toFile()).start();
            processes.add(p);
            ports.add(port);
            Await.until("redis-server on port " + port, Duration.ofSeconds(10), () -> ping(port));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitHealthy(int masters, int replicas, Duration timeout) {
        try {
            awaitHealthy0(masters, replicas, timeout);
        } catch (AssertionError e) {
            StringBuilder state = new StringBuilder();
            for (int port : livePorts()) state.append(port).append(": ").append(clusterInfo(port).lines().filter(l -> l.startsWith("cluster_state")).findFirst().orElse("(no cluster_state)"))
                    .append('\n').append(nodesText(port));
            throw new AssertionError(e.getMessage() + "\n" + state, e);
        }
    }

    private String nodesText(int port) {
        try (var c = connect(port)) {
            return c.sync().clusterNodes();
        } catch (RuntimeException e) {
            return e.toString() + "\n";
        }
    }

    private void awaitHealthy0(int masters, int replicas, Duration timeout) {
        Await.until("the cluster to be ok on every node, with " + masters + " primaries and their replicas in sync", timeout, () -> {
            for (int port : livePorts()) {
                if (!clusterInfo(port).contains("cluster_state:ok")) return false;
                List<Node> nodes = nodes(port);
                if (nodes.stream().filter(n -> n.master() && !n.slots().isEmpty()).count() != masters) return false;
                if (nodes.stream().filter(n -> !n.master()).count() != (long) masters * replicas) return false;
            }
            for (Node n : nodes()) {
                if (!n.master() && !info(n.port(), "replication").contains("master_link_status:up")) return false;
            }
            return true;
        });
    }

    /** {@code redis-cluster://} with every node as a seed, as a Parley node is given it. */
    public String url() {
        return "redis-cluster://" + ports.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    /** The topology as a live node sees it. */
    public List<Node> nodes() {
        return nodes(livePorts().getFirst());
    }

    /** The primary serving {@code slot} now, as a live node sees it. */
    public Node ownerOf(int slot) {
        return nodes().stream().filter(n -> n.master() && n.owns(slot) && !n.failed()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no live primary serves slot " + slot));
    }

    /**
     * Kills the server on {@code port} with SIGKILL: no goodbye to the cluster or to its clients. Its
     * replica takes over after the node timeout.
     */
    public void kill(int port) {
        Process p = processes.get(ports.indexOf(port));
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until every live node agrees that a live primary other than {@code port} serves {@code slot}. */
    public Node awaitFailover(int slot, int port, Duration timeout) {
        Await.until("a replica to serve slot " + slot + " in place of port " + port, timeout, () -> {
            for (int p : livePorts()) {
                Optional<Node> owner = nodes(p).stream().filter(n -> n.master() && n.owns(slot) && !n.failed()).findFirst();
                if (owner.isEmpty() || owner.get().port() == port || !clusterInfo(p).contains("cluster_state:ok")) return false;
            }
            return true;
        });
        return ownerOf(slot);
    }

    /** How many subscribers the shard channel has at the primary serving it (PUBSUB SHARDNUMSUB). */
    public long shardSubscribers(String channel, int slot) {
        try (var c = connect(ownerOf(slot).port())) {
            return c.sync().pubsubShardNumsub(channel).getOrDefault(channel, 0L);
        }
    }

    private List<Integer> livePorts() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < ports.size(); i++) {
            if (processes.get(i).isAlive()) out.add(ports.get(i));
        }
        if (out.isEmpty()) throw new IllegalStateException("no Redis of the cluster runs");
        return out;
    }

    private List<Node> nodes(int port) {
        try (var c = connect(port)) {
            return c.sync().clusterNodes().lines().filter(l -> !l.isBlank()).map(RedisCluster::node)
                    .sorted(Comparator.comparingInt(Node::port)).toList();
        }
    }

    /** {@code <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot or range>...} */
    private static Node node(String line) {
        String[] f = line.strip().split(" ");
        String address = f[1].split("@")[0];
        int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        List<int[]> slots = new ArrayList<>();
        for (int i = 8; i < f.length; i++) {
            if (f[i].startsWith("[")) continue; // a slot being migrated
            String[] r = f[i].split("-");
            slots.add(new int[] {Integer.parseInt(r[0]), Integer.parseInt(r[r.length - 1])});
        }
        return new Node(f[0], port, List.of(f[2].split(",")), f[3], slots);
    }

    /** CLUSTER INFO (INFO's cluster section says only whether cluster mode is on). */
    private String clusterInfo(int port) {
        try (var c = connect(port)) {
            return c.sync().clusterInfo();
        } catch (RuntimeException e) {
            return "";
        }
    }

    private String info(int port, String section) {
        try (var c = connect(port)) {
            return c.sync().info(section);
        } catch (RuntimeException e) {
            return "";
        }
    }

    private boolean ping(int port) {
        try (var c = connect(port)) {
            return "PONG".equals(c.sync().ping());
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** A plain connection to one node (closing it shuts its client down). */
    private Conn connect(int port) {
        RedisClient client = RedisClient.create(resources, RedisURI.builder().withHost("127.0.0.1").withPort(port).withTimeout(Duration.ofSeconds(2)).build());
        try {
            return new Conn(client, client.connect());
        } catch (RuntimeException e) {
            client.shutdown(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    private record Conn(RedisClient client, StatefulRedisConnection<String, String> connection) implements AutoCloseable {
        io.lettuce.core.api.sync.RedisCommands<String, String> sync() {
            return connection.sync();
        }

        @Override
        public void close() {
            connection.close();
            client.shutdown(0, 0, TimeUnit.MILLISECONDS);
        }
    }

    private static void requireRedis7() {
        String version;
        try {
            version = run(List.of("redis-server", "--version"), Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            throw new IllegalStateException("no redis-server on the PATH: apt-get install redis-server (7 or newer; .ci/run installs it)", e);
        }
        var m = java.util.regex.Pattern.compile("v=(\\d+)\\.").matcher(version);
        if (!m.find() || Integer.parseInt(m.group(1)) < 7) {
            throw new IllegalStateException("sharded Pub/Sub needs Redis 7 or newer; this redis-server is " + version.strip());
        }
    }

    private static String run(List<String> command, Duration timeout) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
            }
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command) + " could not run", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The servers' logs, for a failing test. */
    public String logs() {
        StringBuilder out = new StringBuilder();
        for (int port : ports) {
            try {
                out.append("----- redis ").append(port).append(" -----\n").append(Files.readString(dir.resolve(port + "/redis.log")));
            } catch (IOException e) {
                out.append("(no log for ").append(port).append(")\n");
            }
        }
        return out.toString();
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
