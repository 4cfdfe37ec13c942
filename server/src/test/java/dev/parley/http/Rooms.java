package dev.parley.http;

import dev.parley.testing.WsClient;

import java.util.concurrent.atomic.AtomicInteger;

/** Room names and messages for the HTTP tests, made through the WebSocket as a client would. */
final class Rooms {
    private static final AtomicInteger N = new AtomicInteger();

    private Rooms() {}

    /** A room name no other test uses. */
    static String unique(String base) {
        return base + "-" + N.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    /** Joins {@code room} on the open connection. */
    static void join(WsClient c, String room) {
        String ref = "join-" + room;
        c.send("type", "join", "room", room, "ref", ref);
        c.await("joined", ref);
    }

    /** Sends {@code n} messages "m1".."mn" and waits for each ack (under the default burst of 40). */
    static void post(WsClient c, String room, int n) {
        for (int i = 1; i <= n; i++) c.send("type", "send", "room", room, "text", "m" + i, "clientId", room + "-" + i, "ref", room + "-s" + i);
        for (int i = 1; i <= n; i++) c.await("ack", room + "-s" + i);
    }
}
