package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.WsClient;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A client that behaves as PROTOCOL.md asks of one: when its connection closes it reconnects (here
 * through the load balancer, so to any node), rejoins its room with {@code since} = the last seq it
 * received, and re-sends every send not yet acked with the same clientId. It keeps every connection
 * it had, so a test can check the whole stream it received.
 */
final class ResumingClient implements AutoCloseable {
    private final URI url;
    private final Map<String, String> headers;
    private final String room;
    private final List<WsClient> connections = new ArrayList<>();
    private final Map<String, String> sent = new LinkedHashMap<>();
    private final Set<String> acked = ConcurrentHashMap.newKeySet();
    private final List<Integer> closeCodes = new ArrayList<>();
    private volatile boolean closed;

    ResumingClient(URI url, Map<String, String> headers, String room) {
        this.url = url;
        this.headers = headers;
        this.room = room;
        connect(null);
    }

    private synchronized void connect(Long since) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                WsClient ws = WsClient.connect(url, headers);
                String ref = "join-" + connections.size();
                if (since == null) ws.send("type", "join", "room", room, "ref", ref);
                else ws.send("type", "join", "room", room, "since", since, "ref", ref);
                ws.await("joined", ref);
                connections.add(ws);
                return;
            } catch (RuntimeException | AssertionError e) {
                // the node behind the balancer is going away or the balancer has not noticed yet
                if (System.nanoTime() > deadline) throw new AssertionError("could not reconnect within 60 s", e);
                try {
                    Thread.sleep(100 + (long) (Math.random() * 200));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(ie);
                }
            }
        }
    }

    private synchronized WsClient current() {
        return connections.get(connections.size() - 1);
    }

    /** Reconnects and resumes if the connection closed; re-sends what was not acked. */
    synchronized void heal() {
        if (closed) return;
        WsClient ws = current();
        collectAcks(ws);
        if (ws.isOpen()) return;
        Integer code;
        try {
            code = ws.awaitClose(Duration.ofSeconds(2)); // the JDK marks input closed before it reports the code
        } catch (AssertionError noCloseFrame) {
            code = -1;
        }
        closeCodes.add(code);
        connect(lastSeq());
        for (Map.Entry<String, String> e : sent.entrySet()) {
            if (!acked.contains(e.getKey())) current().send("type", "send", "room", room, "text", e.getValue(), "clientId", e.getKey());
        }
    }

    synchronized void send(String clientId, String text) {
        sent.put(clientId, text);
        try {
            current().send("type", "send", "room", room, "text", text, "clientId", clientId);
        } catch (RuntimeException e) {
            // the connection is going down: heal() re-sends it with the same clientId
        }
    }

    private void collectAcks(WsClient ws) {
        for (JsonNode a : ws.frames("ack")) acked.add(a.get("clientId").asText());
    }

    synchronized int unacked() {
        for (WsClient ws : connections) collectAcks(ws);
        return (int) sent.keySet().stream().filter(id -> !acked.contains(id)).count();
    }

    /** Every message received, over all connections, in arrival order. */
    synchronized List<Long> seqs() {
        List<Long> out = new ArrayList<>();
        for (WsClient ws : connections) for (JsonNode m : ws.messages(room)) out.add(m.get("seq").asLong());
        return out;
    }

    synchronized long lastSeq() {
        List<Long> s = seqs();
        return s.isEmpty() ? 0 : s.get(s.size() - 1);
    }

    synchronized List<Integer> closeCodes() {
        return List.copyOf(closeCodes);
    }

    synchronized int connectionCount() {
        return connections.size();
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (WsClient ws : connections) ws.close();
    }
}
