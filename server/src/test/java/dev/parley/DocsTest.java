package dev.parley;

import dev.parley.chat.ErrorCode;
import dev.parley.config.Setting;
import dev.parley.ws.CloseCode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The documentation a user reads says what the code does. */
class DocsTest {
    @Test
    void every_setting_is_documented_in_CONFIG_md_with_its_flag_and_default() throws Exception {
        String config = Files.readString(Path.of("docs/CONFIG.md"));
        for (Setting s : Setting.values()) {
            String row = config.lines().filter(l -> l.startsWith("| `" + s.env + "` ")).findFirst()
                    .orElseThrow(() -> new AssertionError(s.env + " is not in docs/CONFIG.md"));
            assertThat(row).as(s.env).contains("`" + s.flag + "`");
            if (!s.defaultValue.isEmpty()) assertThat(row).as(s.env).contains("`" + s.defaultValue.replace("|", "\\|") + "`");
        }
    }

    @Test
    void ci_runs_the_test_command_the_README_gives() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        String ci = Files.readString(Path.of(".ci/run"));
        assertThat(readme).contains("./parley serve").contains("./mvnw verify");
        assertThat(ci.lines().map(String::trim)).contains("./mvnw verify");
    }

    /**
     * The server answers a body without {@code Content-Type: application/json} with 415 (PROTOCOL.md),
     * so a documented {@code curl} that sends one without it fails as a reader pastes it (README's
     * first register command did).
     */
    @Test
    void every_documented_curl_that_sends_a_body_says_it_is_json() throws Exception {
        List<Path> docs = new ArrayList<>(List.of(Path.of("README.md")));
        try (var files = Files.list(Path.of("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        int checked = 0;
        for (Path doc : docs) {
            // A command goes on over lines that end with a backslash.
            String text = Files.readString(doc).replaceAll("\\\\\n\\s*", " ");
            for (String line : text.lines().toList()) {
                if (!line.contains("curl ") || !line.matches(".*\\s(-d|--data)\\s.*")) continue;
                checked++;
                assertThat(line).as(doc + ": " + line).contains("Content-Type: application/json");
            }
        }
        assertThat(checked).as("curl commands with a body found").isGreaterThan(3);
    }

    @Test
    void the_README_names_the_cluster_variables_operators_use() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (String env : new String[]{"CHAT_HOST", "CHAT_PORT", "CHAT_DATA_DIR", "CHAT_DATABASE_URL", "CHAT_REDIS_URL",
                "CHAT_JWT_SECRET", "CHAT_JWKS_URL", "CHAT_TOKEN_TTL", "CHAT_ALLOWED_ORIGINS", "CHAT_NODE_ID",
                "CHAT_RATE_LIMIT", "CHAT_RATE_BURST"}) {
            assertThat(readme).as(env).contains(env);
        }
    }

    @Test
    void every_error_code_is_in_the_protocol_table_with_its_status_and_in_the_openapi_description() throws Exception {
        String protocol = Files.readString(Path.of("docs/PROTOCOL.md"));
        String openapi = Files.readString(Path.of("server/src/main/resources/openapi.yaml"));
        for (ErrorCode c : ErrorCode.values()) {
            String row = protocol.lines().filter(l -> l.startsWith("| `" + c.wire() + "` |")).findFirst()
                    .orElseThrow(() -> new AssertionError(c.wire() + " is not in the error table of docs/PROTOCOL.md"));
            String status = row.split("\\|")[2].trim();
            // An empty status: a code of the WebSocket alone.
            if (!status.isEmpty()) assertThat(status).as(c.wire()).isEqualTo(String.valueOf(c.httpStatus));
            assertThat(openapi).as(c.wire() + " in openapi.yaml").contains("`" + c.wire() + "`");
        }
    }

    @Test
    void the_websocket_description_is_named_where_a_client_author_looks() throws Exception {
        // Its content is checked against a running server by ws.AsyncApiTest.
        for (String doc : new String[] {"README.md", "docs/PROTOCOL.md", "server/src/main/resources/openapi.yaml"}) {
            assertThat(Files.readString(Path.of(doc))).as(doc).contains("/asyncapi.yaml");
        }
        assertThat(Path.of("server/src/main/resources/asyncapi.yaml")).exists();
    }

    @Test
    void every_close_code_is_in_the_protocol_table() throws Exception {
        String protocol = Files.readString(Path.of("docs/PROTOCOL.md"));
        for (CloseCode c : CloseCode.values()) {
            assertThat(protocol.lines().anyMatch(l -> l.startsWith("| " + c.code + " |"))).as(c + " in docs/PROTOCOL.md section 10").isTrue();
        }
    }
}
