package dev.parley.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.client.example.EchoBot;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The example bot of client/README.md on a real server: as a user on the WebSocket, and as a bot with its API key. */
class EchoBotTest {
    static final String ADMIN = "echo_admin";
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ADMINS, ADMIN);

    private static final Duration WAIT = Duration.ofSeconds(15);

    @Test
    void the_bot_knows_its_two_commands_and_nothing_else() {
        assertThat(EchoBot.answer("!help")).isEqualTo(EchoBot.HELP);
        assertThat(EchoBot.answer("  !echo  hello there ")).isEqualTo("hello there");
        assertThat(EchoBot.answer("!echo ")).isNull();
        assertThat(EchoBot.answer("hello")).isNull();
        assertThat(EchoBot.answer("!echoes")).isNull();
    }

    @Test
    void as_a_user_it_answers_help_and_echoes_in_its_room() throws Exception {
        String name = ParleyServer.unique("echo");
        server.http().register(name);
        String room = ParleyServer.unique("bots").replace("_", "-");
        try (EchoBot bot = EchoBot.asUser(new ParleyClient(server.baseUrl()), room, name, "password-" + name);
             WsClient carol = server.connect(server.newUser("carol"))) {
            carol.send("type", "join", "room", room, "ref", "j");
            carol.await("joined", "j");
            carol.send("type", "send", "room", room, "text", "!help", "clientId", "c-1");
            carol.send("type", "send", "room", room, "text", "just chatting", "clientId", "c-2");
            carol.send("type", "send", "room", room, "text", "!echo hello, bot", "clientId", "c-3");
            Await.until("two answers", WAIT, () -> from(carol.messages(room), name).size() >= 2);
            carol.send("type", "ping", "ref", "p");
            carol.await("pong", "p"); // a third answer, if any, would have come by now
            assertThat(from(carol.messages(room), name)).extracting(m -> m.get("text").asText()).containsExactly(EchoBot.HELP, "hello, bot");
        }
    }

    @Test
    void with_a_bots_api_key_it_reads_the_room_over_http_and_posts_its_answers_marked_as_a_bots() throws Exception {
        String admin = server.http().register(ADMIN);
        String room = ParleyServer.unique("keyed").replace("_", "-");
        String carol = server.newUser("carol");
        assertThat(server.http().request("POST", "/api/rooms", carol, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        String botName = ParleyServer.unique("echobot");
        var made = server.http().request("POST", "/api/admin/bots", admin,
                "{\"name\":\"" + botName + "\",\"rooms\":[\"" + room + "\"],\"actions\":[\"read\",\"post\"]}");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        String key = made.json().get("key").get("key").asText();
        try (EchoBot bot = EchoBot.withKey(new ParleyClient(server.baseUrl()), room, key);
             WsClient c = server.connect(carol)) {
            c.send("type", "join", "room", room, "ref", "j");
            c.await("joined", "j");
            c.send("type", "send", "room", room, "text", "!echo from a key", "clientId", "c-1");
            Await.until("the answer", WAIT, () -> !from(c.messages(room), botName).isEmpty());
            JsonNode answer = from(c.messages(room), botName).get(0);
            assertThat(answer.get("from").asText()).isEqualTo(botName);
            assertThat(answer.get("text").asText()).isEqualTo("from a key");
            assertThat(answer.get("bot").asBoolean()).isTrue();
        }
    }

    private static List<JsonNode> from(List<JsonNode> messages, String user) {
        return messages.stream().filter(m -> !m.has("event") && m.path("from").asText().equals(user)).toList();
    }
}
