package dev.parley.bench;

import dev.parley.client.ParleyClient;
import dev.parley.client.ParleyException;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Registers the run's users over HTTP ({@code POST /api/auth/register}, through the client library's
 * {@link ParleyClient}) and returns their tokens.
 * Names carry the run id, so runs against the same database never collide; a name that is taken
 * anyway is logged in instead. User {@code i} registers on node {@code i % nodes}.
 */
final class Registrar {
    static final String PASSWORD = "bench-password-0";

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final int concurrency;

    Registrar(int concurrency) {
        this.concurrency = Math.max(1, concurrency);
    }

    static String username(String runId, int i) {
        return "b" + runId + "u" + i;
    }

    List<String> tokens(List<Target> nodes, String runId, int users) throws InterruptedException {
        Semaphore inFlight = new Semaphore(concurrency);
        List<Future<String>> results = new ArrayList<>(users);
        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < users; i++) {
                Target node = nodes.get(i % nodes.size());
                String name = username(runId, i);
                inFlight.acquire();
                results.add(exec.submit(() -> {
                    try {
                        return token(node, name);
                    } finally {
                        inFlight.release();
                    }
                }));
            }
        }
        List<String> tokens = new ArrayList<>(users);
        for (Future<String> f : results) {
            try {
                tokens.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
            }
        }
        return tokens;
    }

    private String token(Target node, String name) throws Exception {
        try {
            return new ParleyClient(node.url(), http).registerOrLogin(name, PASSWORD).token();
        } catch (ParleyException e) {
            throw new IllegalStateException("register " + name + " at " + node.url() + ": HTTP " + e.status() + " " + e.code() + ": " + e.getMessage(), e);
        }
    }
}
