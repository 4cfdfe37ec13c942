package dev.parley.web;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Chromium;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin page (docs/WEB_CLIENT.md): an administrator signs in, opens "Admin" and sees this node,
 * a room with its member count, the users; disables a user, whose open page is signed out and whose
 * next sign-in is refused; makes a bot and sees its key once; sees a failing webhook's failure.
 * Someone who is no administrator has no "Admin" button. The page passes axe's WCAG A and AA rules.
 */
class AdminPageIT {
    static final String ADMIN = "page_admin";
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.ADMINS, ADMIN)
            .with(Setting.API_RATE, "1000") // the wait for the webhook's failure reads the list often
            .with(Setting.WEBHOOK_ALLOW_PRIVATE, "true")
            .with(Setting.WEBHOOK_RETRY_BASE, "50ms")
            .with(Setting.WEBHOOK_ATTEMPTS, "2");
    @RegisterExtension
    static Chromium browser = Chromium.create();

    @Test
    void an_administrator_sees_the_server_disables_a_user_makes_a_bot_and_sees_a_failing_webhook() {
        String adminToken = server.http().register(ADMIN);
        String owner = ParleyServer.unique("owner"), ownerToken = server.http().register(owner);
        String member = ParleyServer.unique("member");
        server.http().register(member);
        String room = "adm-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        assertThat(call("POST", "/api/rooms", ownerToken, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        assertThat(call("PUT", "/api/rooms/" + room + "/members/" + member, ownerToken, "{}").status()).isEqualTo(201);
        Http.Response hook = call("POST", "/api/rooms/" + room + "/webhooks", ownerToken,
                "{\"url\":\"http://127.0.0.1:" + Ports.free() + "/hook\",\"events\":[\"message\"]}"); // nobody listens there
        assertThat(hook.status()).as(hook.body()).isEqualTo(201);
        String hookId = hook.json().get("id").asText();
        assertThat(call("POST", "/api/rooms/" + room + "/messages", ownerToken, "{\"text\":\"ship it\",\"clientId\":\"c-1\"}").status()).isEqualTo(201);
        Await.until("the webhook failing", Duration.ofSeconds(10), () ->
                server.http().get("/api/admin/webhooks?status=failing", adminToken).body().contains(hookId));

        // Someone who is no administrator: signed in, and no "Admin" anywhere.
        String victim = ParleyServer.unique("victim");
        ChatPage v = new ChatPage(browser.newPage("victim"), "victim", server.baseUrl()).register(victim, "victim-password");

        ChatPage a = new ChatPage(browser.newPage("admin"), "admin", server.baseUrl()).login(ADMIN, "password-" + ADMIN);
        Page p = a.page;
        Locator adminBtn = p.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Admin").setExact(true));
        adminBtn.click();
        assertThat(p.locator("#admin-view")).isVisible();
        assertThat(p.locator("#chat-view")).isHidden();
        assertThat(adminBtn).hasAttribute("aria-expanded", "true");
        assertThat(v.page.locator("#admin-btn")).isHidden(); // its probe was refused long since

        // Nodes: this one, ready.
        Locator node = p.locator("#admin-nodes li[data-node=\"" + server.server().config().nodeId() + "\"]");
        assertThat(node).hasAttribute("data-status", "UP");
        assertThat(node.locator(".node-self")).containsText("this node");
        // Rooms: the private room with its two members and its traffic.
        Locator roomRow = p.locator("#admin-rooms tr[data-room=\"" + room + "\"]");
        assertThat(roomRow.locator(".kind")).hasText("private");
        assertThat(roomRow.locator(".members")).hasText("2");
        assertThat(roomRow.locator(".last-seq")).not().hasText("0");

        // Users: found by name; disabled, which signs the victim's page out and refuses their sign-in.
        p.getByLabel("Name starts with").fill(victim);
        p.getByLabel("Name starts with").press("Enter");
        Locator victimRow = p.locator("#admin-users tr[data-user=\"" + victim + "\"]");
        assertThat(victimRow.locator(".state")).hasText("Active");
        assertThat(p.locator("#admin-users tbody tr")).hasCount(1);
        victimRow.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("Disable: " + victim)).click();
        assertThat(victimRow).hasAttribute("data-disabled", "true");
        assertThat(victimRow.locator(".state")).hasText("Disabled");
        assertThat(v.page.locator("#auth-view")).isVisible(); // its connection closed with 4003: signed out
        v.fillCredentials(victim, "victim-password");
        v.page.locator("#password").press("Enter");
        assertThat(v.authError()).containsText("disabled");
        assertThat(v.page.locator("#chat-view")).isHidden();

        // Bots: made, and its key shown this once.
        String bot = ParleyServer.unique("pagebot");
        p.getByLabel("New bot's name").fill(bot);
        p.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Create bot")).click();
        Locator key = p.locator("#admin-new-key-value");
        assertThat(key).hasText(java.util.regex.Pattern.compile("^pk_[A-Za-z0-9_-]{43}$"));
        String shown = key.textContent();
        assertThat(p.locator("#admin-new-key")).containsText(bot);
        p.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("I have kept it")).click();
        assertThat(p.locator("#admin-new-key")).isHidden();
        Locator botItem = p.locator("#admin-bots li[data-bot=\"" + bot + "\"]");
        botItem.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName("Keys: " + bot)).click();
        assertThat(botItem.locator(".bot-key .key-prefix")).hasText(shown.substring(0, 11) + "…");
        assertThat(p.locator("#admin-view")).not().containsText(shown);

        // Webhooks: the failing one, with its failures and last error.
        p.getByLabel("Failing and disabled only").check();
        Locator hookRow = p.locator("#admin-webhooks tr[data-webhook=\"" + hookId + "\"]");
        assertThat(hookRow.locator(".failures")).not().hasText("0");
        assertThat(hookRow.locator(".last-error")).not().hasText("—");
        assertThat(hookRow).hasAttribute("data-status", java.util.regex.Pattern.compile("failing|disabled"));

        // Every part filled in, as a screen reader's user meets it: no serious or critical axe violation.
        new AxeScan().scan(p, "the admin page").assertNone();
        p.locator("#admin-view").evaluate("view => { view.scrollTop = 0; }");
        p.screenshot(new Page.ScreenshotOptions().setPath(Chromium.SCREENSHOTS.resolve("admin-page.png"))); // the top of it, to look at

        // Back to the chat.
        p.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Back to chat")).click();
        assertThat(p.locator("#chat-view")).isVisible();
        assertThat(p.locator("#admin-view")).isHidden();
        assertThat(adminBtn).isFocused();
    }

    private static Http.Response call(String method, String path, String token, String json) {
        return server.http().request(method, path, token, json);
    }
}
