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

/**
 * {@code client}: chat from a terminal. Logs in (or registers), joins a room, prints its messages
 * and sends each line typed. A plain PROTOCOL.md client on the JDK's own WebSocket.
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
        ObjectNode creds = JSON.createObjectNode().put("username", user).put("password", pw);
        HttpResponse<String> auth = http.send(HttpRequest.newBuilder(URI.create(base + (register ? "/api/auth/register" : "/api/auth/login")))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(creds.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(auth.body());
        if (auth.statusCode() / 100 != 2) {
            System.err.println("login failed: " + body.path("message").asText(auth.body()));
            return 1;
        }
        String token = body.get("token").asText();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        URI ws = URI.create(base.replaceFirst("^http", "ws") + "/ws");
        Printer printer = new Printer(out, closed);
        WebSocket socket = http.newWebSocketBuilder().header("Authorization", "Bearer " + token)
                .buildAsync(ws, printer).join();
        if (history > 0) {
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/api/rooms/" + room + "/messages?limit=" + Math.min(100, history)))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            if (page.statusCode() == 200) for (JsonNode m : JSON.readTree(page.body()).path("messages")) print(out, m);
        }
        socket.sendText(JSON.createObjectNode().put("type", "join").put("room", room).put("ref", "join").toString(), true).join();
        // Typed lines go out once the join is done: a send committed while the join is read counts
        // as history (at or below joined's lastSeq) and would not come back to be printed.
        try {
            CompletableFuture.anyOf(printer.joined, closed).get(15, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            System.err.println("no answer to the join within 15 s");
            return 1;
        } catch (ExecutionException e) {
            return 1; // the join was refused; the printer showed the error
        }
        if (!printer.joined.isDone()) return 1; // closed, or refused: the printer said why
        out.println("-- joined #" + room + " as " + user + "; type a message and press Enter, Ctrl-D to quit");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        int sent = 0;
        for (String line; !closed.isDone() && (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            String clientId = UUID.randomUUID().toString();
            printer.sentIds.add(clientId);
            ObjectNode send = JSON.createObjectNode().put("type", "send").put("room", room).put("text", line).put("clientId", clientId);
            socket.sendText(send.toString(), true).join();
            sent++;
        }
        // Input ended (Ctrl-D or a pipe): wait until what was sent is acked and shown, then leave.
        // (An ack may overtake its message: the message waits for the join's replay to go first.)
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!closed.isDone() && (printer.acked.get() < sent || printer.echoed.get() < sent) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (!closed.isDone()) socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        return 0;
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

    private static final class Printer implements WebSocket.Listener {
        private final PrintStream out;
        private final CompletableFuture<Integer> closed;
        private final StringBuilder partial = new StringBuilder();
        final java.util.concurrent.atomic.AtomicInteger acked = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger echoed = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.Set<String> sentIds = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final CompletableFuture<Void> joined = new CompletableFuture<>();

        Printer(PrintStream out, CompletableFuture<Integer> closed) {
            this.out = out;
            this.closed = closed;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode f = JSON.readTree(partial.toString());
                    switch (f.path("type").asText()) {
                        case "message" -> {
                            print(out, f);
                            if (sentIds.remove(f.path("clientId").asText())) echoed.incrementAndGet();
                        }
                        case "ack" -> acked.incrementAndGet();
                        case "presence" -> out.println("-- " + shown(f.path("user").asText()) + " is " + shown(f.path("status").asText()));
                        case "left" -> {
                            // Unasked (no ref): a change made elsewhere took this connection out of the room.
                            if (f.has("reason")) out.println("-- you are out of " + shown(f.path("room").asText()) + ": " + shown(f.path("reason").asText().replace('_', ' ')));
                        }
                        case "error" -> {
                            out.println("-- error " + shown(f.path("code").asText()) + ": " + shown(f.path("message").asText()));
                            if ("join".equals(f.path("ref").asText())) joined.completeExceptionally(new IllegalStateException(f.path("code").asText()));
                        }
                        case "joined" -> {
                            out.println("-- " + f.path("online").asInt() + " online: " + shown(f.path("members").toString()));
                            joined.complete(null);
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
            out.println("-- connection closed: " + code + " " + shown(reason));
            closed.complete(code);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            out.println("-- connection failed: " + error.getMessage());
            closed.complete(-1);
        }
    }
}
