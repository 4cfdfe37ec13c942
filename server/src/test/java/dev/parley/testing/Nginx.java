package dev.parley.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's nginx running {@code deploy/nginx.conf} as shipped, except for the two listen ports (TLS,
 * and plain HTTP, which only redirects), the certificate (the test's own, {@link TestTls}) and the
 * upstream servers, which point at nodes of the test. Its pid file, logs and temp files stay in a
 * temp directory. Clients reach it over https and wss and trust the test's certificate.
 */
public final class Nginx implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final int plainPort;
    private Process process;

    private Nginx(Path dir, int port, int plainPort) {
        this.dir = dir;
        this.port = port;
        this.plainPort = plainPort;
    }

    public static boolean available() {
        return Files.isExecutable(Path.of("/usr/sbin/nginx"));
    }

    public static Nginx start(List<Integer> upstreamPorts) {
        try {
            Path dir = Files.createTempDirectory("parley-nginx");
            int port = Ports.free();
            int plainPort = Ports.free();
            TestTls tls = TestTls.get();
            String conf = Files.readString(Path.of("deploy/nginx.conf"));
            Matcher upstream = Pattern.compile("(upstream parley \\{.*?)(\\s+server [^;]+;)+", Pattern.DOTALL).matcher(conf);
            if (!upstream.find()) throw new IllegalStateException("deploy/nginx.conf has no upstream parley block");
            StringBuilder servers = new StringBuilder();
            for (int p : upstreamPorts) servers.append("\n        server 127.0.0.1:").append(p).append(" max_fails=1 fail_timeout=5s;");
            conf = conf.substring(0, upstream.start()) + upstream.group(1) + servers + conf.substring(upstream.end());
            conf = replaceOnce(conf, "listen 443 ssl;", "listen 127.0.0.1:" + port + " ssl;");
            conf = replaceOnce(conf, "listen 80;", "listen 127.0.0.1:" + plainPort + ";");
            conf = replaceOnce(conf, "/etc/nginx/tls/fullchain.pem", tls.certificate().toString());
            conf = replaceOnce(conf, "/etc/nginx/tls/privkey.pem", tls.privateKey().toString());
            conf = conf.replaceFirst("worker_processes auto;", "worker_processes 1;\npid " + dir.resolve("nginx.pid") + ";\nerror_log "
                    + dir.resolve("error.log") + " warn;");
            conf = conf.replace("access_log /var/log/nginx/access.log parley;", "access_log " + dir.resolve("access.log") + " parley;");
            conf = conf.replaceFirst("http \\{", "http {\n    client_body_temp_path " + dir.resolve("body") + ";\n    proxy_temp_path "
                    + dir.resolve("proxy") + ";");
            Path file = dir.resolve("nginx.conf");
            Files.writeString(file, conf);
            Nginx n = new Nginx(dir, port, plainPort);
            n.process = new ProcessBuilder("/usr/sbin/nginx", "-p", dir.toString(), "-c", file.toString(), "-g", "daemon off;")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
            Await.until("nginx to listen on " + port + " and " + plainPort, () -> {
                if (!n.process.isAlive()) throw new AssertionError("nginx exited: " + n.log() + n.stdout());
                try (Socket s = new Socket("127.0.0.1", port); Socket p = new Socket("127.0.0.1", plainPort)) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A directive the test rewrites must be in deploy/nginx.conf exactly once, or the test would run another configuration. */
    private static String replaceOnce(String conf, String what, String with) {
        int at = conf.indexOf(what);
        if (at < 0 || conf.indexOf(what, at + 1) >= 0) throw new IllegalStateException("deploy/nginx.conf must have `" + what + "` once");
        return conf.substring(0, at) + with + conf.substring(at + what.length());
    }

    /** The TLS port. */
    public int port() {
        return port;
    }

    /** https on the TLS port. */
    public String baseUrl() {
        return "https://127.0.0.1:" + port;
    }

    /** The WebSocket endpoint, over TLS. */
    public String wsUrl() {
        return "wss://127.0.0.1:" + port + "/ws";
    }

    /** Plain HTTP, which redirects to https. */
    public String plainUrl() {
        return "http://127.0.0.1:" + plainPort;
    }

    public String accessLog() {
        try {
            return Files.readString(dir.resolve("access.log"));
        } catch (IOException e) {
            return "";
        }
    }

    private String stdout() {
        try {
            return Files.readString(dir.resolve("stdout.log"));
        } catch (IOException e) {
            return "";
        }
    }

    public String log() {
        try {
            return Files.readString(dir.resolve("error.log"));
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        if (process == null) return;
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
