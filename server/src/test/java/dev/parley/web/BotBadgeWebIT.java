package dev.parley.web;

import com.microsoft.playwright.Locator;
import dev.parley.config.Setting;
import dev.parley.testing.Chromium;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web client marks a bot's message (PROTOCOL.md 3.8): a person in a room sees what a bot posts
 * over HTTP arrive live with a BOT badge by its name, and again after a reload, from history; a
 * person's message has none.
 */
class BotBadgeWebIT {
    static final String ADMIN = "badge_admin";
    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ADMINS, ADMIN);
    @RegisterExtension
    static Chromium browser = Chromium.create();

    @Test
    void a_bots_message_has_a_bot_badge_live_and_after_a_reload() {
        String room = "badges-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        String admin = server.http().register(ADMIN);
        String bot = ParleyServer.unique("notifier");
        Http.Response made = server.http().request("POST", "/api/admin/bots", admin, "{\"name\":\"" + bot + "\"}");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        String key = made.json().get("key").get("key").asText();

        ChatPage a = new ChatPage(browser.newPage("alice"), "alice", server.baseUrl()).register(ParleyServer.unique("alice"), "alice-password");
        a.join(room);
        a.send("anyone deploying?");
        Http.Response posted = server.http().request("POST", "/api/rooms/" + room + "/messages", key,
                "{\"text\":\"v1.2 is deployed\",\"clientId\":\"d-1\"}");
        assertThat(posted.status()).as(posted.body()).isEqualTo(201);

        for (int round = 0; round < 2; round++) {
            if (round == 1) {
                a.page.reload();
                a.awaitReady(room);
            }
            Locator fromBot = a.page.locator("#messages li.message[data-from=\"" + bot + "\"]");
            assertThat(fromBot.locator(".text")).hasText("v1.2 is deployed");
            assertThat(fromBot).hasAttribute("data-bot", "true");
            assertThat(fromBot.locator(".meta .bot-badge")).hasText("BOT");
            assertThat(fromBot.locator(".bot-badge")).isVisible();
            Locator mine = a.page.locator("#messages li.message[data-from=\"" + a.me() + "\"]");
            assertThat(mine.locator(".text")).hasText("anyone deploying?");
            assertThat(mine.locator(".bot-badge")).hasCount(0);
        }
    }
}
