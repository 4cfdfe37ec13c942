package dev.parley.client.example;

import dev.parley.client.Connection;
import dev.parley.client.Event;
import dev.parley.client.ParleyClient;
import dev.parley.client.ParleyException;
import dev.parley.client.Session;
import dev.parley.client.TokenSource;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An example bot on the client library: in one room it answers {@code !help} and says back the text
 * of {@code !echo <text>}. It runs either way a program can talk to Parley:
 *
 * <ul>
 *   <li>as a user, on the WebSocket ({@link #asUser}): it logs in, joins the room and answers each
 *       message as it arrives; after a drop the library resumes the room, so a command sent
 *       meanwhile is answered too, once;</li>
 *   <li>as a bot account, with its API key ({@link #withKey}): the WebSocket does not take keys, so it
 *       reads the room over HTTP every second ({@code after} the last seq it saw, scope {@code read})
 *       and posts its answers (scope {@code post}); its messages carry {@code "bot": true}.</li>
 * </ul>
 *
 * Each answer's clientId is made from the command's message id, so an answer given twice (the bot
 * restarted, a post retried) is stored once. It never answers a bot, itself included, nor a room
 * event. From the server's jar, which holds the library:
 *
 * <pre>
 * PARLEY_PASSWORD=... java -cp server/target/parley.jar dev.parley.client.example.EchoBot http://localhost:8080 lobby echo
 * PARLEY_BOT_KEY=pk_... java -cp server/target/parley.jar dev.parley.client.example.EchoBot http://localhost:8080 lobby
 * </pre>
 */
public final class EchoBot implements AutoCloseable {
    public static final String HELP = "I answer !help (this) and !echo <text> (I say <text> back).";

    private final String room;
    private final String self; // the user it runs as; null with a key (its messages are a bot's)
    private volatile Connection connection;
    private volatile Thread poller;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    private EchoBot(String room, String self) {
        this.room = room;
        this.self = self;
    }

    /** The answer to a line of the room, or null when it is no command. */
    public static String answer(String text) {
        String t = text.strip();
        if (t.equals("!help")) return HELP;
        if (t.startsWith("!echo ") && !t.substring(6).isBlank()) return t.substring(6).strip();
        return null;
    }

    /** Logs in as {@code user} and answers in {@code room} over the WebSocket; returns once the room is joined. */
    public static EchoBot asUser(ParleyClient parley, String room, String user, String password) throws Exception {
        Session session = parley.login(user, password);
        EchoBot bot = new EchoBot(room, session.username());
        bot.connection = parley.connect(TokenSource.relogin(parley, session, password), bot::onEvent);
        bot.connection.closed().whenComplete((code, e) -> bot.stopped.complete(null));
        bot.connection.join(room).get(30, TimeUnit.SECONDS);
        return bot;
    }

    private void onEvent(Event e) {
        if (e instanceof Event.Message m && room.equals(m.room()) && wantsAnswer(m)) {
            connection.send(room, answer(m.text()), "echo-" + m.id())
                    .exceptionally(failed -> {
                        System.err.println("echo: could not answer " + m.seq() + ": " + failed.getMessage());
                        return null;
                    });
        } else if (e instanceof Event.Disconnected d) {
            System.err.println("echo: disconnected (" + d.code() + " " + d.reason() + ")"
                    + (d.willReconnect() ? ", again in " + d.reconnectInMillis() + " ms" : ""));
        }
    }

    private boolean wantsAnswer(Event.Message m) {
        return !m.isRoomEvent() && !m.bot() && !m.from().equalsIgnoreCase(self == null ? "" : self) && answer(m.text()) != null;
    }

    /**
     * Answers in {@code room} as the bot whose API key {@code key} is (scopes {@code read} and
     * {@code post} on the room), reading the room every second; starts from what is there now.
     */
    public static EchoBot withKey(ParleyClient parley, String room, String key) throws IOException, InterruptedException {
        EchoBot bot = new EchoBot(room, null);
        Event.History newest = parley.messagesBefore(key, room, 0, 1);
        long from = newest.messages().isEmpty() ? 0 : newest.messages().getLast().seq();
        bot.poller = Thread.ofPlatform().name("echo-bot-poll").daemon(true).start(() -> bot.poll(parley, key, from));
        return bot;
    }

    private void poll(ParleyClient parley, String key, long from) {
        long after = from;
        try {
            while (!Thread.currentThread().isInterrupted()) {
                long waitMillis = 1_000;
                try {
                    Event.History page = parley.messagesAfter(key, room, after, 100);
                    for (Event.Message m : page.messages()) {
                        after = Math.max(after, m.seq());
                        if (wantsAnswer(m)) parley.post(key, room, answer(m.text()), "echo-" + m.id());
                    }
                    if (page.hasMore()) waitMillis = 0;
                } catch (ParleyException e) {
                    if (e.status() == 401 || e.status() == 403 || e.status() == 404) {
                        System.err.println("echo: " + e.code() + ": " + e.getMessage() + "; stopping");
                        return;
                    }
                    waitMillis = Math.max(1_000, e.retryAfterSeconds() * 1_000); // 429, 503: wait, then read again from the same seq
                } catch (IOException e) {
                    waitMillis = 2_000; // the server is away: try again
                }
                if (waitMillis > 0) Thread.sleep(waitMillis);
            }
        } catch (InterruptedException e) {
            // closed
        } finally {
            stopped.complete(null);
        }
    }

    /** Completes when the bot stopped: closed, or refused for good. */
    public CompletableFuture<Void> stopped() {
        return stopped.copy();
    }

    @Override
    public void close() {
        if (connection != null) connection.close();
        if (poller != null) poller.interrupt();
    }

    public static void main(String[] args) throws Exception {
        String key = System.getenv("PARLEY_BOT_KEY");
        String password = System.getenv("PARLEY_PASSWORD");
        if (args.length < 2 || (key == null && (args.length < 3 || password == null))) {
            System.err.println("usage: PARLEY_PASSWORD=... EchoBot <url> <room> <user>   (as a user, on the WebSocket)");
            System.err.println("       PARLEY_BOT_KEY=pk_... EchoBot <url> <room>      (as a bot, with its API key)");
            System.exit(2);
        }
        ParleyClient parley = new ParleyClient(args[0]);
        EchoBot bot = key != null ? withKey(parley, args[1], key) : asUser(parley, args[1], args[2], password);
        Runtime.getRuntime().addShutdownHook(new Thread(bot::close));
        System.err.println("echo: answering in " + args[1] + "; Ctrl-C to stop");
        bot.stopped().join();
    }
}
