package dev.parley.cli;

import dev.parley.client.Connection;
import dev.parley.client.Event;
import dev.parley.client.ParleyClient;
import dev.parley.client.ParleyException;
import dev.parley.client.Session;
import dev.parley.client.TokenSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code client}: chat from a terminal. Logs in (or registers), joins a room, prints its messages
 * and sends each line typed. A terminal over the client library ({@link dev.parley.client}), which
 * does the protocol: it reconnects and resumes when the connection drops, re-sending what was typed
 * and not yet acknowledged; this class reads lines and prints events.
 */
@Command(name = "client", mixinStandardHelpOptions = true,
        description = "Chat from the terminal: join a room, print its messages, send each line you type.")
public final class ClientCommand implements Callable<Integer> {
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
        ParleyClient parley;
        Session session;
        try {
            parley = new ParleyClient(url);
            session = register ? parley.register(user, pw) : parley.login(user, pw);
        } catch (ParleyException | IllegalArgumentException e) {
            System.err.println("login failed: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            System.err.println("login failed: cannot reach " + url + ": " + e);
            return 1;
        }
        if (history > 0) {
            try {
                for (Event.Message m : parley.messagesBefore(session.token(), room, 0, Math.min(100, history)).messages()) print(out, m);
            } catch (ParleyException e) {
                // a room not made yet (404): the join makes it
            }
        }
        // The lines typed, not yet shown back as the room's messages (an ack may overtake its message).
        Set<String> unshown = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<Event.Ack>> sent = new ArrayList<>();
        Connection link = parley.connect(TokenSource.relogin(parley, session, pw), e -> show(out, e, unshown));
        // Typed lines go out once the join is done (the library holds them until then): a send committed
        // while the join is read would count as history (at or below joined's lastSeq) and not be printed.
        try {
            link.join(room).get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            System.err.println("not joined within 60 s");
            link.close();
            return 1;
        } catch (ExecutionException e) {
            link.close();
            return 1; // refused, or closed for good: the listener printed why
        }
        out.println("-- joined #" + room + " as " + user + "; type a message and press Enter, Ctrl-D to quit");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; !link.closed().isDone() && (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            String clientId = UUID.randomUUID().toString();
            unshown.add(clientId);
            sent.add(link.send(room, line, clientId).whenComplete((ack, failed) -> {
                if (failed != null) unshown.remove(clientId); // refused: the listener printed the error
            }));
        }
        // Input ended (Ctrl-D or a pipe): wait until what was sent is acked and shown, then leave.
        // Long enough for a reconnect: the back-off's longest wait is 30 s.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        while (!link.closed().isDone() && !(allDone(sent) && unshown.isEmpty()) && System.nanoTime() < deadline) Thread.sleep(20);
        boolean settled = allDone(sent) && unshown.isEmpty() && sent.stream().noneMatch(CompletableFuture::isCompletedExceptionally);
        link.close();
        if (!settled) System.err.println("some lines were not acknowledged by the server: they may not have been sent");
        return settled ? 0 : 1;
    }

    private static boolean allDone(List<CompletableFuture<Event.Ack>> sent) {
        return sent.stream().allMatch(CompletableFuture::isDone);
    }

    /** One event of the connection, as a line of the terminal (on the connection's thread). */
    static void show(PrintStream out, Event event, Set<String> unshown) {
        switch (event) {
            case Event.Message m -> {
                print(out, m);
                if (m.clientId() != null) unshown.remove(m.clientId());
            }
            case Event.Presence p -> out.println("-- " + shown(p.user()) + " is " + (p.online() ? "online" : "offline"));
            // Unasked (with a reason): a change made elsewhere took this connection out of the room.
            case Event.Left l -> {
                if (l.reason() != null) out.println("-- you are out of " + shown(l.room()) + ": " + shown(l.reason().replace('_', ' ')));
            }
            case Event.Error e -> out.println("-- error " + shown(e.code()) + ": " + shown(e.message()));
            case Event.Joined j -> out.println("-- " + j.online() + " online: " + shown(String.join(", ", j.members())));
            case Event.Disconnected d -> {
                out.println("-- connection closed: " + d.code() + " " + shown(String.valueOf(d.reason())));
                if (d.willReconnect()) out.printf("-- reconnecting in %.1f s%n", d.reconnectInMillis() / 1000.0);
            }
            default -> { }
        }
    }

    static void print(PrintStream out, Event.Message m) {
        String time = TIME.format(m.ts() != null ? m.ts() : Instant.now());
        // A room event (someone added, removed, banned...) is the room's news, not a line of its sender's.
        if (m.isRoomEvent()) out.println("[" + time + "] -- " + shown(m.text()));
        // A bot's message is marked after its name, where no name can put it: [BOT] has a space and brackets.
        else out.println("[" + time + "] " + shown(m.from()) + (m.bot() ? " [BOT]" : "") + ": " + shown(m.text()));
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
}
