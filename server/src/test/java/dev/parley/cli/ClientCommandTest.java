package dev.parley.cli;

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
    void a_message_cannot_print_a_line_that_passes_for_someone_elses_nor_move_the_cursor_nor_reverse_the_text() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        // What the server lets through in a text (line feed, tab, bidi controls), and what it does not
        // (carriage return, escape) in case another server sends them.
        String text = "see you\n[12:00] alice: my password is hunter2\tok\r\u001b[2K\u202Eevil\u2069";
        ClientCommand.print(out, json.readTree(json.createObjectNode().put("type", "message").put("from", "mallory")
                .put("text", text).put("ts", "2026-12-06T11:02:41.318Z").toString()));
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
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        ClientCommand.print(out, json.readTree("{\"type\":\"message\",\"from\":\"alice\",\"text\":\"alice banned bob\","
                + "\"ts\":\"2026-12-06T11:02:41.318Z\",\"event\":{\"type\":\"banned\",\"user\":\"bob\",\"by\":\"alice\"}}"));
        ClientCommand.print(out, json.readTree("{\"type\":\"message\",\"from\":\"alice\",\"text\":\"hi\",\"ts\":\"2026-12-06T11:02:41.318Z\"}"));
        ClientCommand.print(out, json.readTree("{\"type\":\"message\",\"from\":\"deploybot\",\"text\":\"v1.2 is out\",\"ts\":\"2026-12-06T11:02:42.318Z\",\"bot\":true}"));
        String lines = printed.toString(StandardCharsets.UTF_8);
        assertThat(lines).contains("] -- alice banned bob").doesNotContain("alice: alice banned bob").contains("] alice: hi")
                .contains("] deploybot [BOT]: v1.2 is out").doesNotContain("alice [BOT]");
    }
}
