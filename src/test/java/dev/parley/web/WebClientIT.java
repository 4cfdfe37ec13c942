package dev.parley.web;

import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/** The web client in Debian's Chromium against a real server: what a person sees and does. */
class WebClientIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    private static final AtomicInteger ROOMS = new AtomicInteger();

    private static String room(String base) {
        return base + "-" + ROOMS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    private ChatPage page(String name) {
        return new ChatPage(browser.newPage(name), name, server.baseUrl());
    }

    @Test
    void two_people_sign_up_join_a_room_by_name_and_chat_both_ways() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String room = room("lobby");
        ChatPage a = page("alice").register(alice, "alice-password").join(room);
        ChatPage b = page("bob").register(bob, "bob-password").join(room);

        a.send("Hello Bob!");
        assertThat(a.message("Hello Bob!")).hasAttribute("data-status", "sent");
        assertThat(b.message("Hello Bob!")).hasAttribute("data-from", alice);
        b.send("Hi Alice, good to see you.");
        assertThat(a.message("Hi Alice, good to see you.")).hasAttribute("data-from", bob);
        a.send("Shall we start?");
        assertThat(b.message("Shall we start?")).isVisible();

        List<String> conversation = List.of("Hello Bob!", "Hi Alice, good to see you.", "Shall we start?");
        for (ChatPage p : List.of(a, b)) {
            assertThat(p.messages()).hasCount(3);
            assertThat(p.messages().last()).hasAttribute("data-status", "sent");
            assertThat(p.seqs()).containsExactly(1L, 2L, 3L);
            assertThat(p.texts()).isEqualTo(conversation);
            assertThat(p.messages().locator(".from")).hasText(new String[] {alice, bob, alice});
            // Timestamps: machine-readable ISO time and a human "HH:MM" in the page's locale.
            for (int i = 0; i < 3; i++) {
                var time = p.messages().nth(i).locator("time.time");
                assertThat(time.getAttribute("datetime")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
                assertThat(time.textContent()).matches("\\d\\d:\\d\\d");
            }
        }
        assertThat(a.page.locator("#messages li.message.own")).hasCount(2);
        assertThat(b.page.locator("#messages li.message.own")).hasCount(1);

        // Each of our own messages was shown as "sending" first, then "sent" once the server acked it.
        var aliceLog = a.statusLog();
        List<String> aliceIds = a.ownClientIds();
        assertThat(aliceIds).hasSize(2);
        for (String id : aliceIds) assertThat(aliceLog.get(id)).as("statuses of %s", id).containsExactly("sending", "sent");
        assertThat(b.ownClientIds()).hasSize(1);
        assertThat(b.statusLog().get(b.ownClientIds().get(0))).containsExactly("sending", "sent");
    }
}
