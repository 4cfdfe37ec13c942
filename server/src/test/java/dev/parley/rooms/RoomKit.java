package dev.parley.rooms;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The vocabulary of the room-kind tests (PROTOCOL.md 3.3, issue 19), spoken only through HTTP and the
 * WebSocket as a client would: nothing here reaches into the server.
 */
final class RoomKit {
    /** Generous: the machine is shared and slow at times. */
    static final Duration T = Duration.ofSeconds(20);
    /** How long a socket is watched for a frame that must not come (after everything that should have come did). */
    static final Duration QUIET = Duration.ofMillis(500);
    /** The error code PROTOCOL.md section 8 gives each HTTP status of these routes. */
    static final Map<Integer, String> CODE = Map.of(400, "bad_request", 403, "forbidden", 404, "not_found", 409, "conflict");

    private static final AtomicInteger N = new AtomicInteger();

    private final ParleyServer server;

    RoomKit(ParleyServer server) {
        this.server = server;
    }

    Http http() {
        return server.http();
    }

    /** A room name no other test uses. */
    static String room(String base) {
        return base + "-" + N.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    static String ref(String base) {
        return base + "-" + N.incrementAndGet();
    }

    static String json(Object... kv) {
        ObjectNode n = Http.JSON.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) n.set((String) kv[i], Http.JSON.valueToTree(kv[i + 1]));
        return n.toString();
    }

    /** A timestamp an hour (or {@code seconds}) from now, to the second, as PROTOCOL.md writes them. */
    static String inFuture(long seconds) {
        return Instant.now().plusSeconds(seconds).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** A registered user: name and token. */
    record User(String name, String token) {}

    User user(String base) {
        String name = ParleyServer.unique(base);
        return new User(name, http().register(name));
    }

    // --- routes ---

    Http.Response createRoom(User by, String name, String visibility) {
        return http().request("POST", "/api/rooms", by.token(), json("name", name, "visibility", visibility));
    }

    /** Makes the room and checks the 201. */
    String made(User owner, String name, String visibility) {
        Http.Response r = createRoom(owner, name, visibility);
        assertThat(r.status()).as("POST /api/rooms %s %s: %s", name, visibility, r.body()).isEqualTo(201);
        return name;
    }

    Http.Response dm(User by, String with) {
        return http().request("POST", "/api/dms", by.token(), json("user", with));
    }

    Http.Response putMember(User by, String room, String user, String body) {
        return http().request("PUT", "/api/rooms/" + room + "/members/" + user, by.token(), body);
    }

    Http.Response deleteMember(User by, String room, String user) {
        return http().request("DELETE", "/api/rooms/" + room + "/members/" + user, by.token(), null);
    }

    Http.Response putBan(User by, String room, String user, String body) {
        return http().request("PUT", "/api/rooms/" + room + "/bans/" + user, by.token(), body);
    }

    Http.Response deleteBan(User by, String room, String user) {
        return http().request("DELETE", "/api/rooms/" + room + "/bans/" + user, by.token(), null);
    }

    Http.Response get(User by, String path) {
        return http().get(path, by.token());
    }

    /** Adds {@code user} with {@code role} and checks the 201. */
    void add(User by, String room, User user, String role) {
        Http.Response r = putMember(by, room, user.name(), json("role", role));
        assertThat(r.status()).as("adding %s as %s to %s: %s", user.name(), role, room, r.body()).isEqualTo(201);
    }

    void ban(User by, String room, User user) {
        Http.Response r = putBan(by, room, user.name(), json("reason", "spam"));
        assertThat(r.status()).as("banning %s from %s: %s", user.name(), room, r.body()).isEqualTo(204);
    }

    void mute(User by, String room, User user) {
        Http.Response r = putMember(by, room, user.name(), json("mutedUntil", inFuture(3600)));
        assertThat(r.status()).as("muting %s in %s: %s", user.name(), room, r.body()).isEqualTo(200);
    }

    /** The room's lastSeq as {@code reader}, who may read it, sees it. */
    long lastSeq(User reader, String room) {
        Http.Response r = get(reader, "/api/rooms/" + room);
        assertThat(r.status()).as("GET /api/rooms/%s as %s: %s", room, reader.name(), r.body()).isEqualTo(200);
        return r.json().get("lastSeq").asLong();
    }

    /** Every message and event of the room after {@code after}, over HTTP, ascending. */
    List<JsonNode> messagesAfter(User reader, String room, long after) {
        List<JsonNode> out = new ArrayList<>();
        long from = after;
        while (true) {
            Http.Response r = get(reader, "/api/rooms/" + room + "/messages?limit=100&after=" + from);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            JsonNode page = r.json();
            page.get("messages").forEach(out::add);
            if (!page.get("hasMore").asBoolean() || page.get("messages").isEmpty()) return out;
            from = out.get(out.size() - 1).get("seq").asLong();
        }
    }

    /** The room's members as {@code reader} sees them: username to role. */
    Map<String, String> members(User reader, String room) {
        Http.Response r = get(reader, "/api/rooms/" + room + "/members?limit=500");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Map<String, String> out = new java.util.LinkedHashMap<>();
        r.json().get("members").forEach(m -> out.put(m.get("user").asText(), m.get("role").asText()));
        return out;
    }

    /** Asserts an error answer of PROTOCOL.md 3.1: this status, its code of section 8, and some message. */
    static void refused(Http.Response r, int status) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.json().path("error").asText()).as(r.body()).isEqualTo(CODE.get(status));
        assertThat(r.json().path("message").asText()).as(r.body()).isNotBlank();
    }

    // --- WebSocket ---

    WsClient connect(User user) {
        return server.connect(user.token());
    }

    static Predicate<JsonNode> is(String type, String ref) {
        return f -> type.equals(f.path("type").asText()) && ref.equals(f.path("ref").asText());
    }

    static Predicate<JsonNode> answerTo(String ref) {
        return f -> ref.equals(f.path("ref").asText());
    }

    /** Joins and returns the answer, {@code joined} or {@code error}. */
    static JsonNode tryJoin(WsClient c, String room) {
        String ref = ref("join");
        c.send("type", "join", "room", room, "ref", ref);
        return c.await(answerTo(ref), T, "an answer to the join of " + room);
    }

    static JsonNode join(WsClient c, String room) {
        JsonNode a = tryJoin(c, room);
        assertThat(a.path("type").asText()).as("join %s: %s", room, a).isEqualTo("joined");
        return a;
    }

    static JsonNode join(WsClient c, String room, long since) {
        String ref = ref("resume");
        c.send("type", "join", "room", room, "since", since, "ref", ref);
        JsonNode a = c.await(answerTo(ref), T, "an answer to the join of " + room + " since " + since);
        assertThat(a.path("type").asText()).as("join %s since %d: %s", room, since, a).isEqualTo("joined");
        return a;
    }

    /** Sends and returns the answer, {@code ack} or {@code error}. */
    static JsonNode trySend(WsClient c, String room, String text) {
        String ref = ref("send");
        c.send("type", "send", "room", room, "text", text, "clientId", ref, "ref", ref);
        return c.await(answerTo(ref), T, "an answer to the send " + ref);
    }

    static JsonNode send(WsClient c, String room, String text) {
        JsonNode a = trySend(c, room, text);
        assertThat(a.path("type").asText()).as("send to %s: %s", room, a).isEqualTo("ack");
        return a;
    }

    /** Waits for a frame matching {@code p} among those that arrived after the first {@code from}, and returns it. */
    static JsonNode awaitFrom(WsClient c, int from, Predicate<JsonNode> p, String what) {
        Await.until(what, T, () -> {
            List<JsonNode> f = c.frames();
            return f.subList(Math.min(from, f.size()), f.size()).stream().anyMatch(p);
        });
        List<JsonNode> f = c.frames();
        return f.subList(from, f.size()).stream().filter(p).findFirst().orElseThrow();
    }

    /** A ping answered: every frame this connection sent before it has been handled. */
    static void alive(WsClient c) {
        String ref = ref("ping");
        c.send("type", "ping", "ref", ref);
        c.await(is("pong", ref), T, "pong " + ref);
    }

    /** The frames of {@code room} this connection got, in order. */
    static List<JsonNode> ofRoom(WsClient c, String room) {
        return c.frames().stream().filter(f -> room.equals(f.path("room").asText())).toList();
    }

    static List<Long> seqs(List<JsonNode> messages) {
        return messages.stream().map(m -> m.get("seq").asLong()).toList();
    }

    /**
     * A bounded wait for absence: the connection gets no frame matching {@code unwanted} during
     * {@link #QUIET}. Call it after whatever should have arrived elsewhere did.
     */
    static void staysQuiet(WsClient c, Predicate<JsonNode> unwanted, String what) {
        stays(() -> c.frames().stream().filter(unwanted).toList(), what);
    }

    /** A bounded wait for absence: no more frames of {@code room} than the {@code count} it had. */
    static void noMoreOf(WsClient c, String room, int count, String what) {
        stays(() -> { List<JsonNode> f = ofRoom(c, room); return f.subList(Math.min(count, f.size()), f.size()); }, what);
    }

    private static void stays(java.util.function.Supplier<List<JsonNode>> unwanted, String what) {
        long until = System.nanoTime() + QUIET.toNanos();
        while (true) {
            assertThat(unwanted.get()).as(what).isEmpty();
            if (System.nanoTime() >= until) return;
            try {
                Thread.sleep(20); // watching for an absence for a bounded time, not synchronising
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** The event object of a message frame, or a missing node. */
    static JsonNode event(JsonNode message) {
        return message.path("event");
    }

    static boolean isEvent(JsonNode f, String room, String type) {
        return "message".equals(f.path("type").asText()) && room.equals(f.path("room").asText())
                && type.equals(f.path("event").path("type").asText());
    }
}
