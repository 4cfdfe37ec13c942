package dev.parley.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/*
 * Over 400 lines: the reconnecting connection (Link) and its frames (Printer) are the client itself, and
 * read best beside the command that drives them.
 */
/**
 * {@code client}: chat from a terminal. Logs in (or registers), joins a room, prints its messages
 * and sends each line typed; reconnects and resumes when the connection drops ({@link Backoff}). A
 * plain PROTOCOL.md client on the JDK's own WebSocket.
 */
@Command(name = "client", mixinStandardHelpOptions = true,
        description = "Chat from the terminal: join a room, print its messages, send each line you type.")
public final class ClientCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneId.systemDefault());

    @Option(names = "--url", defaultValue = "http://localhost:8080", description = "server URL (default: ${DEFAULT-VALUE})")
    String url;

    @Option(names = {"-u", "--user"}, required = true, description = "username")
    String user;

    @Option(names = {"-p", "--password"}, description = "password (default: the PARLEY_PASSWORD variable, else asked)")
    String password;

    @Option(names = {"-r", "--room"}, defaultValue = "lobby", description = "room to join (default: ${DEFAULT-VALUE})")
    String room;

    @Option(names = "--register", description = "create the account first")
    boolean register;

    @Option(names = "--history", defaultValue = "20", description = "messages of history to show on join (default: ${DEFAULT-VALUE})")
    int history;

    @Override
    public Integer call() throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        String pw = password != null ? password : System.getenv("PARLEY_PASSWORD");
        if (pw == null && System.console() != null) pw = new String(System.console().readPassword("password: "));
        if (pw == null) {
            System.err.println("no password: use --password, PARLEY_PASSWORD, or a terminal");
            return 2;
        }
        HttpClient http = HttpClient.newHttpClient();
        String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        String token = logIn(http, base, pw, register);
        if (token == null) return 1;
        if (history > 0) {
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/api/rooms/" + room + "/messages?limit=" + Math.min(100, history)))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            if (page.statusCode() == 200) for (JsonNode m : JSON.readTree(page.body()).path("messages")) print(out, m);
        }
        String password = pw;
        Link link = new Link(out, http, URI.create(base.replaceFirst("^http", "ws") + "/ws"), token, () -> logIn(http, base, password, false));
        link.open();
        // Typed lines go out once the join is done: a send committed while the join is read counts
        // as history (at or below joined's lastSeq) and would not come back to be printed.
        try {
            CompletableFuture.anyOf(link.firstJoin, link.closed).get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            System.err.println("not joined within 60 s");
            link.stop();
            return 1;
        } catch (ExecutionException e) {
            link.stop();
            return 1; // the join was refused; the printer showed the error
        }
        if (!link.firstJoin.isDone()) return 1; // closed for good: the printer said why
        out.println("-- joined #" + room + " as " + user + "; type a message and press Enter, Ctrl-D to quit");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; !link.closed.isDone() && (line = in.readLine()) != null; ) {
            if (!line.isBlank()) link.send(line);
        }
        // Input ended (Ctrl-D or a pipe): wait until what was sent is acked and shown, then leave.
        // (An ack may overtake its message: the message waits for the join's replay to go first.)
        // Long enough for a reconnect: the back-off's longest wait is 30 s.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        while (!link.closed.isDone() && !link.settled() && System.nanoTime() < deadline) Thread.sleep(20);
        boolean settled = link.settled();
        link.stop();
        if (!settled) System.err.println("some lines were not acknowledged by the server: they may not have been sent");
        return settled ? 0 : 1;
    }

    /** Logs in (or registers) and returns the token; null after saying why it could not. */
    private String logIn(HttpClient http, String base, String pw, boolean signUp) throws Exception {
        ObjectNode creds = JSON.createObjectNode().put("username", user).put("password", pw);
        HttpResponse<String> auth = http.send(HttpRequest.newBuilder(URI.create(base + (signUp ? "/api/auth/register" : "/api/auth/login")))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(creds.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(auth.body());
        if (auth.statusCode() / 100 != 2) {
            System.err.println("login failed: " + body.path("message").asText(auth.body()));
            return null;
        }
        return body.get("token").asText();
    }

    /**
     * The connection to the room, made again when it drops (PROTOCOL.md 10, {@link Backoff}): each new
     * one joins with {@code since} the last seq printed, so nothing is missed or printed twice, and sends
     * what was typed and not yet acknowledged again, in order, under the same clientIds (a copy the
     * server stored already is not stored again).
     */
    private final class Link {
        private static final long HANDSHAKE_SECONDS = 15;
        private final PrintStream out;
        private final HttpClient http;
        private final URI ws;
        private final Callable<String> relogin;
        private final Backoff backoff = new Backoff(java.util.concurrent.ThreadLocalRandom.current());
        private final java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parley-client-reconnect");
            t.setDaemon(true);
            return t;
        });
        /** clientId -> text, in the order typed: sent, not yet acknowledged. */
        private final java.util.LinkedHashMap<String, String> unacked = new java.util.LinkedHashMap<>();
        private final java.util.Set<String> unechoed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final CompletableFuture<Void> firstJoin = new CompletableFuture<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private volatile String token;
        private WebSocket socket; // the one joined, else null; guarded by this
        private long lastSeq = -1; // the last seq printed; -1 until the first join; guarded by this
        private volatile long openedAt;
        private volatile WebSocket current; // the connection of the latest attempt that opened
        private volatile boolean stopping;

        Link(PrintStream out, HttpClient http, URI ws, String token, Callable<String> relogin) {
            this.out = out;
            this.http = http;
            this.ws = ws;
            this.token = token;
            this.relogin = relogin;
        }

        void open() {
            if (stopping) return;
            // A deadline on the whole handshake: a node going down may take the TCP connection and never answer.
            http.newWebSocketBuilder().connectTimeout(java.time.Duration.ofSeconds(HANDSHAKE_SECONDS))
                    .header("Authorization", "Bearer " + token).buildAsync(ws, new Printer(this))
                    .orTimeout(HANDSHAKE_SECONDS, TimeUnit.SECONDS)
                    .whenComplete((socket, failure) -> {
                        if (failure == null) opened(socket);
                        else refused(failure);
                    });
        }

        private void opened(WebSocket s) {
            current = s;
            openedAt = System.nanoTime();
            ObjectNode join = JSON.createObjectNode().put("type", "join").put("room", room).put("ref", "join");
            synchronized (this) {
                if (lastSeq >= 0) join.put("since", lastSeq);
            }
            write(s, join.toString());
        }

        /**
         * Sends one frame after the ones before it on {@code s}: the JDK's WebSocket takes one send at a
         * time, and refuses (in the returned future) one made while another is under way.
         */
        private synchronized void write(WebSocket s, String frame) {
            if (s != writingTo) {
                writingTo = s;
                writing = CompletableFuture.completedFuture(null);
            }
            writing = writing.handle((ok, failed) -> null).thenCompose(v -> s.sendText(frame, true));
        }

        private WebSocket writingTo; // guarded by this
        private CompletableFuture<?> writing = CompletableFuture.completedFuture(null); // guarded by this

        /** The upgrade failed: a refusal's Retry-After is honoured; a 401 logs in again, once. */
        private void refused(Throwable failure) {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            long retryAfter = 0;
            if (cause instanceof java.net.http.WebSocketHandshakeException h) {
                HttpResponse<?> r = h.getResponse();
                if (r.statusCode() == 401 && !relogged) {
                    relogged = true;
                    out.println("-- the session ended; logging in again");
                    try {
                        token = relogin.call();
                    } catch (Exception e) {
                        token = null;
                    }
                    if (token == null) {
                        closed.complete(401);
                        return;
                    }
                    timer.execute(this::open);
                    return;
                }
                if (r.statusCode() == 401) {
                    out.println("-- refused: not signed in");
                    closed.complete(401);
                    return;
                }
                retryAfter = r.headers().firstValue("Retry-After").map(Link::seconds).orElse(0L);
                out.println("-- the server refused the connection (" + r.statusCode() + ")");
            } else {
                out.println("-- could not connect: " + cause);
            }
            again(-1, retryAfter);
        }

        private boolean relogged;

        private static long seconds(String retryAfter) {
            try {
                return Math.max(0, Math.min(3_600, Long.parseLong(retryAfter.trim())));
            } catch (NumberFormatException e) {
                return 0; // an HTTP date: the back-off decides
            }
        }

        /** The connection ended with {@code code}: reconnect, unless it cannot help or we are leaving. */
        void lost(WebSocket ws, int code) {
            if (ws != current) { // an attempt given up on (its handshake ran past the deadline) that opened after all
                ws.abort();
                return;
            }
            synchronized (this) {
                socket = null;
            }
            if (stopping) {
                closed.complete(code);
                return;
            }
            if (Backoff.FINAL_CODES.contains(code)) {
                closed.complete(code);
                return;
            }
            synchronized (backoff) {
                backoff.wasUp(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedAt));
            }
            if (code == 4001) relogged = false; // the token expired: log in again on the 401 that follows
            again(code, 0);
        }

        private void again(int code, long retryAfter) {
            if (stopping) return;
            long wait;
            synchronized (backoff) { // asked from the HTTP client's threads
                wait = backoff.nextMillis(code, retryAfter);
            }
            out.printf("-- reconnecting in %.1f s%n", wait / 1000.0);
            timer.schedule(this::open, wait, TimeUnit.MILLISECONDS);
        }

        /** Joined (again): what was typed and not acknowledged goes (again), in order. */
        void joined(WebSocket s, long roomLastSeq) {
            relogged = false;
            synchronized (this) {
                if (lastSeq < 0) lastSeq = roomLastSeq;
                socket = s;
                for (var e : unacked.entrySet()) write(s, sendFrame(e.getKey(), e.getValue()));
            }
            firstJoin.complete(null);
        }

        void send(String text) {
            String clientId = UUID.randomUUID().toString();
            unechoed.add(clientId);
            synchronized (this) {
                unacked.put(clientId, text);
                if (socket != null) write(socket, sendFrame(clientId, text));
            }
        }

        private String sendFrame(String clientId, String text) {
            return JSON.createObjectNode().put("type", "send").put("room", room).put("text", text).put("clientId", clientId).toString();
        }

        /** A message of the room: printed once, whichever connection brought it. */
        void message(JsonNode f) {
            long seq = f.path("seq").asLong(-1);
            synchronized (this) {
                if (seq >= 0 && seq <= lastSeq) return; // printed already (a replay overlapping what came live)
                if (seq >= 0) lastSeq = seq;
            }
            print(out, f);
            unechoed.remove(f.path("clientId").asText());
        }

        synchronized void acked(String clientId) {
            unacked.remove(clientId);
        }

        synchronized boolean settled() {
            return unacked.isEmpty() && unechoed.isEmpty();
        }

        void stop() {
            stopping = true;
            timer.shutdownNow();
            WebSocket s;
            synchronized (this) {
                s = socket;
            }
            if (s != null && !closed.isDone()) s.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
            closed.complete(WebSocket.NORMAL_CLOSURE);
        }
    }

    static void print(PrintStream out, JsonNode m) {
        String time = TIME.format(Instant.parse(m.path("ts").asText(Instant.now().toString())));
        // A room event (someone added, removed, banned...) is the room's news, not a line of its sender's.
        if (m.has("event")) out.println("[" + time + "] -- " + shown(m.path("text").asText()));
        // A bot's message is marked after its name, where no name can put it: [BOT] has a space and brackets.
        else out.println("[" + time + "] " + shown(m.path("from").asText()) + (m.path("bot").asBoolean(false) ? " [BOT]" : "") + ": "
                + shown(m.path("text").asText()));
    }

    /**
     * What others wrote, made safe to print on one line of a terminal: every line break, tab and
     * other control character (escape sequences that move the cursor or recolour), bidi control
     * (which reorders what follows it in a terminal that does bidi) and line or paragraph separator
     * is written out as an escape ({@code \n}, {@code \t}, {@code <U+202E>}). So a message cannot
     * print a line that looks like another person's ({@code "hi\n[12:00] bob: ..."}), rewrite the
     * screen, or reverse the name before it. A backslash is printed as it is: a typed "\n" may look
     * like an escaped line break, but it cannot start a line.
     */
    static String shown(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int next = i + Character.charCount(c);
            if (unsafe(c)) {
                if (out == null) out = new StringBuilder(s.length() + 16).append(s, 0, i);
                out.append(switch (c) {
                    case '\n' -> "\\n";
                    case '\t' -> "\\t";
                    case '\r' -> "\\r";
                    default -> String.format("<U+%04X>", c);
                });
            } else if (out != null) {
                out.append(s, i, next);
            }
            i = next;
        }
        return out == null ? s : out.toString();
    }

    private static boolean unsafe(int c) {
        int type = Character.getType(c);
        return type == Character.CONTROL || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR
                || c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
    }

    /** The frames of one connection, handed to its {@link Link}. */
    private static final class Printer implements WebSocket.Listener {
        private final Link link;
        private final StringBuilder partial = new StringBuilder();

        Printer(Link link) {
            this.link = link;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                PrintStream out = link.out;
                try {
                    JsonNode f = JSON.readTree(partial.toString());
                    switch (f.path("type").asText()) {
                        case "message" -> link.message(f);
                        case "ack" -> link.acked(f.path("clientId").asText());
                        case "presence" -> out.println("-- " + shown(f.path("user").asText()) + " is " + shown(f.path("status").asText()));
                        case "left" -> {
                            // Unasked (no ref): a change made elsewhere took this connection out of the room.
                            if (f.has("reason")) out.println("-- you are out of " + shown(f.path("room").asText()) + ": " + shown(f.path("reason").asText().replace('_', ' ')));
                        }
                        case "error" -> {
                            out.println("-- error " + shown(f.path("code").asText()) + ": " + shown(f.path("message").asText()));
                            if ("join".equals(f.path("ref").asText())) link.firstJoin.completeExceptionally(new IllegalStateException(f.path("code").asText()));
                        }
                        case "joined" -> {
                            out.println("-- " + f.path("online").asInt() + " online: " + shown(f.path("members").toString()));
                            link.joined(ws, f.path("lastSeq").asLong(0));
                        }
                        default -> { }
                    }
                } catch (Exception e) {
                    out.println("-- unreadable frame");
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            link.out.println("-- connection closed: " + code + " " + shown(reason));
            link.lost(ws, code);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            link.out.println("-- connection failed: " + error.getMessage());
            link.lost(ws, -1);
        }
    }
}
