package dev.parley.web;

import com.microsoft.playwright.Page;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/**
 * The API docs page in Chromium, under its Content-Security-Policy (scripts of its own origin only):
 * Swagger UI starts from /docs/init.js and renders the operations of /openapi.yaml. The Chromium
 * extension fails the test on any CSP violation or uncaught error.
 */
class ApiDocsWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    @Test
    void the_docs_page_renders_the_api_without_inline_script() {
        Page page = browser.newPage("docs");
        page.navigate(server.baseUrl() + "/docs/");

        assertThat(page.locator(".swagger-ui .info .title")).containsText("Parley");
        assertThat(page.locator(".opblock-summary-path[data-path='/api/auth/register']").first()).isVisible();
    }

    @Test
    void a_url_in_the_address_does_not_replace_the_description() {
        Page page = browser.newPage("docs-url");
        // Another description (and its markup) on this origin, if Swagger UI read ?url= from the address.
        page.navigate(server.baseUrl() + "/docs/?url=/api/limits&configUrl=/api/limits");

        assertThat(page.locator(".swagger-ui .info .title")).containsText("Parley");
    }
}
