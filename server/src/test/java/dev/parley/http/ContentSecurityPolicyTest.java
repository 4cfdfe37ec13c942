package dev.parley.http;

import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Content-Security-Policy of the web client and the API docs: connections to the page's own origin
 * and the configured ones only, no inline script anywhere, and the docs page can be switched off.
 */
class ContentSecurityPolicyTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @RegisterExtension
    static ParleyServer configured = ParleyServer.create()
            .with(Setting.ALLOWED_ORIGINS, "https://chat.example.com, http://localhost:5173/")
            .with(Setting.API_DOCS, "off");

    @Test
    void the_web_client_may_connect_to_its_own_origin_only() {
        for (String path : new String[] {"/", "/app.js", "/chat-client.js", "/style.css", "/api/limits", "/openapi.yaml", "/asyncapi.yaml", "/no-such-page"}) {
            Map<String, String> csp = policy(server.http().get(path, null));
            assertThat(csp.get("connect-src")).as(path).isEqualTo("'self'");
            assertThat(csp.get("script-src")).as(path).isEqualTo("'self'");
            assertThat(csp.get("style-src")).as(path).isEqualTo("'self'");
            assertThat(csp.get("object-src")).as(path).isEqualTo("'none'");
            assertThat(csp.get("frame-ancestors")).as(path).isEqualTo("'none'");
            assertThat(csp.get("require-trusted-types-for")).as(path).isEqualTo("'script'");
            assertThat(csp.get("trusted-types")).as(path).isEqualTo("'none'");
        }
    }

    @Test
    void configured_origins_are_added_to_connect_src_with_their_websocket_origins() {
        Map<String, String> csp = policy(configured.http().get("/", null));

        assertThat(csp.get("connect-src").split(" ")).containsExactly("'self'", "https://chat.example.com", "wss://chat.example.com",
                "http://localhost:5173", "ws://localhost:5173");
        assertThat(csp.get("script-src")).isEqualTo("'self'");
    }

    @Test
    void an_origin_that_could_break_the_policy_is_refused_at_start_up() {
        assertThat(HttpRoutes.appPolicy(List.of("*"))).contains("connect-src 'self';");
        for (String bad : new String[] {"https://a.example; script-src *", "https://a.example 'unsafe-inline'", "chat.example.com",
                "https://a.example/path", "https://a.example\"x"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.parley.config.ChatConfig.load(Map.of("CHAT_ALLOWED_ORIGINS", bad), Map.of()))
                    .as(bad).hasMessageStartingWith("CHAT_ALLOWED_ORIGINS: ");
        }
    }

    @Test
    void the_docs_page_runs_no_inline_script_and_its_policy_allows_none() {
        Http.Response page = server.http().get("/docs/", null);
        Map<String, String> csp = policy(page);

        assertThat(page.status()).isEqualTo(200);
        assertThat(csp.get("script-src")).isEqualTo("'self'");
        assertThat(csp.get("connect-src")).isEqualTo("'self'");
        // Every <script> of the page has a src, and no element has an on* handler.
        Matcher scripts = Pattern.compile("<script([^>]*)>(.*?)</script>", Pattern.DOTALL).matcher(page.body());
        int count = 0;
        while (scripts.find()) {
            count++;
            assertThat(scripts.group(1)).contains("src=");
            assertThat(scripts.group(2)).isBlank();
        }
        assertThat(count).isEqualTo(2);
        assertThat(page.body()).doesNotContainPattern("(?i)\\son[a-z]+=").doesNotContain("javascript:");
        assertThat(server.http().get("/docs/init.js", null).body()).contains("SwaggerUIBundle", "queryConfigEnabled: false");
    }

    @Test
    void with_the_docs_switched_off_no_docs_path_answers_but_the_api_descriptions_still_do() {
        for (String path : new String[] {"/docs", "/docs/", "/docs/init.js", "/docs/assets/swagger-ui-bundle.js", "/docs/index.html"}) {
            Http.Response r = configured.http().get(path, null);
            assertThat(r.status()).as(path).isEqualTo(404);
            assertThat(r.body()).as(path).doesNotContain("<html", "SwaggerUIBundle");
        }
        assertThat(configured.http().get("/openapi.yaml", null).status()).isEqualTo(200);
        assertThat(configured.http().get("/asyncapi.yaml", null).status()).isEqualTo(200);
        assertThat(configured.http().get("/", null).status()).isEqualTo(200);
    }

    /** The policy's directives by name. */
    private static Map<String, String> policy(Http.Response r) {
        String header = r.header("Content-Security-Policy").orElseThrow(() -> new AssertionError("no Content-Security-Policy"));
        return Arrays.stream(header.split(";")).map(String::trim).filter(d -> !d.isEmpty())
                .collect(Collectors.toMap(d -> d.split(" ", 2)[0], d -> d.contains(" ") ? d.split(" ", 2)[1] : ""));
    }
}
