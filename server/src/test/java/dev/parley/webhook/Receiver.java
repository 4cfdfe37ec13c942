package dev.parley.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.parley.testing.Http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * A webhook receiver for a test: the JDK's HTTP server on 127.0.0.1, answering every delivery with
 * the status {@link #answer} gives at that moment, optionally holding each request until
 * {@link #release}. It records what it was sent, whatever it answered.
 */
final class Receiver implements AutoCloseable {
    /** One request as it arrived. */
    record Delivery(String signature, String event, String eventId, String webhook, byte[] body, int answered) {
        JsonNode json() {
            try {
                return Http.JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final HttpServer server;
    private final List<Delivery> received = new ArrayList<>();
    private volatile IntSupplier answer = () -> 204;
    private volatile CountDownLatch hold; // null: answer at once

    Receiver() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/hook", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            CountDownLatch h = hold;
            if (h != null) {
                synchronized (this) {
                    holding++;
                }
                try {
                    h.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            int status = answer.getAsInt();
            var headers = exchange.getRequestHeaders();
            synchronized (this) {
                received.add(new Delivery(headers.getFirst("X-Parley-Signature"), headers.getFirst("X-Parley-Event"),
                        headers.getFirst("X-Parley-Event-Id"), headers.getFirst("X-Parley-Webhook"), body, status));
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    private int holding;

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    void answer(IntSupplier status) {
        this.answer = status;
    }

    /** From now on every request waits (up to 30 s) until {@link #release}. */
    void hold() {
        hold = new CountDownLatch(1);
    }

    void release() {
        CountDownLatch h = hold;
        hold = null;
        if (h != null) h.countDown();
    }

    /** Requests that arrived while held (answered or not). */
    synchronized int held() {
        return holding;
    }

    synchronized List<Delivery> received() {
        return List.copyOf(received);
    }

    /** The deliveries answered with a 2xx, in the order they came. */
    synchronized List<Delivery> accepted() {
        return received.stream().filter(d -> d.answered() >= 200 && d.answered() < 300).toList();
    }

    @Override
    public void close() {
        release();
        server.stop(0);
    }
}
