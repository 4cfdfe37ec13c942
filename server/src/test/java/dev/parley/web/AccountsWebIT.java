package dev.parley.web;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/** The web client's side of accounts (issue 19): "Log out everywhere", and a session revoked elsewhere (close 4003). */
class AccountsWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    /** A browser of its own (its own storage): another device. */
    private ChatPage device(String name) {
        return new ChatPage(browser.newPage(name), name, server.baseUrl());
    }

    @Test
    void log_out_everywhere_in_one_browser_signs_out_the_users_session_in_another() {
        String user = ParleyServer.unique("alice");
        ChatPage laptop = device("alice's laptop").register(user, "alice-password");
        ChatPage phone = device("alice's phone").login(user, "alice-password");
        assertThat(phone.page.locator("#conn-status")).hasAttribute("data-state", "open");

        laptop.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log out everywhere")).click();

        assertThat(laptop.page.locator("#auth-view")).isVisible();
        assertThat(laptop.authError()).hasText("You logged out on every device.");
        assertThat(phone.page.locator("#auth-view")).isVisible();
        assertThat(phone.page.locator("#chat-view")).isHidden();
        assertThat(phone.authError()).containsText("this session was ended elsewhere");
        // The session is over on the server: a reload does not sign in with it again.
        phone.page.reload();
        assertThat(phone.page.locator("#auth-view")).isVisible();
        assertThat(phone.page.locator("#chat-view")).isHidden();

        phone.login(user, "alice-password");
        assertThat(phone.page.locator("#conn-status")).hasAttribute("data-state", "open");
    }

    @Test
    void log_out_revokes_the_token_on_the_server() {
        String user = ParleyServer.unique("bob");
        ChatPage page = device("bob").register(user, "bob-password");
        String token = (String) page.page.evaluate("() => window.parleyApp.client.token");
        assertThat(server.http().get("/api/rooms", token).status()).isEqualTo(200);

        page.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log out").setExact(true)).click();

        assertThat(page.page.locator("#auth-view")).isVisible();
        dev.parley.testing.Await.until("the token to be refused", () -> server.http().get("/api/rooms", token).status() == 401);
    }
}
