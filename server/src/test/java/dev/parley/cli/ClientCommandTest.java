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
    void a_room_event_prints_as_the_rooms_news_not_as_a_line_of_its_sender() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        ClientCommand.print(out, json.readTree("{\"type\":\"message\",\"from\":\"alice\",\"text\":\"alice banned bob\","
                + "\"ts\":\"2026-12-06T11:02:41.318Z\",\"event\":{\"type\":\"banned\",\"user\":\"bob\",\"by\":\"alice\"}}"));
        ClientCommand.print(out, json.readTree("{\"type\":\"message\",\"from\":\"alice\",\"text\":\"hi\",\"ts\":\"2026-12-06T11:02:41.318Z\"}"));
        String lines = printed.toString(StandardCharsets.UTF_8);
        assertThat(lines).contains("] -- alice banned bob").doesNotContain("alice: alice banned bob").contains("] alice: hi");
    }
}
