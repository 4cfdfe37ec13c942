package dev.parley.web;

import dev.parley.config.Setting;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/** The web client in a big room: its online list and count follow presence_summary frames (PROTOCOL.md 7). */
class PresenceSummaryWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.PRESENCE_BATCH_THRESHOLD, "2") // three online make a big room
            .with(Setting.PRESENCE_BATCH_INTERVAL, "200ms");
    @RegisterExtension
    static Chromium browser = Chromium.create();

    @Test
    void the_online_list_and_count_of_a_big_room_follow_its_summaries() {
        String room = "big-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        ChatPage a = new ChatPage(browser.newPage("alice"), "alice", server.baseUrl())
                .register(ParleyServer.unique("alice"), "alice-password").join(room);
        List<WsClient> others = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                WsClient c = server.connect(server.newUser("crowd" + i));
                c.send("type", "join", "room", room, "ref", "j");
                c.await("joined", "j");
                others.add(c);
            }
            assertThat(a.page.locator("#presence-list > li")).hasCount(5);
            // Past two online, the arrivals came as summaries only: a page that ignored them would show 2.
            assertThat(a.page.locator("#online-count")).hasText("5 online");

            for (WsClient c : others.subList(0, 3)) c.close();
            assertThat(a.page.locator("#presence-list > li")).hasCount(2);
            assertThat(a.page.locator("#online-count")).hasText("2 online");
        } finally {
            others.forEach(WsClient::close);
        }
    }
}
