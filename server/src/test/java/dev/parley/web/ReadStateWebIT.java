package dev.parley.web;

import com.microsoft.playwright.Locator;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.atomic.AtomicInteger;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/**
 * The web client's side of mentions and read state (issue 21, items 5 and 6): unread and mention
 * badges that two tabs of one user agree on and that survive a reload, reading a room in one tab
 * clearing them in the other, mentions highlighted, and "@" completing a member's name. Done through
 * the pages as a person would, and asserted on what they show.
 */
class ReadStateWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    private static final AtomicInteger ROOMS = new AtomicInteger();

    private static String room(String base) {
        return base + "-" + ROOMS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    private ChatPage signUp(String name) {
        return new ChatPage(browser.newPage(name), name, server.baseUrl()).register(ParleyServer.unique(name), name + "-password");
    }

    /** Another tab of the same browser: it shares the session's cookie and the rooms the page keeps. */
    private ChatPage secondTab(ChatPage first) {
        return new ChatPage(first.page.context().newPage(), first.name + "-tab2", server.baseUrl()).expectSignedIn(first.me());
    }

    private static void assertBadges(ChatPage tab, String room, String unread, String mentions) {
        Locator item = tab.roomItem(room);
        if (unread == null) assertThat(item.locator(".unread")).isHidden();
        else assertThat(item.locator(".unread")).hasText(unread);
        if (mentions == null) assertThat(item.locator(".mentions")).isHidden();
        else assertThat(item.locator(".mentions")).hasText(mentions);
    }

    @Test
    void unread_and_mention_badges_agree_across_two_tabs_survive_a_reload_and_clear_everywhere_once_read() {
        String busy = room("busy"), quiet = room("quiet");
        ChatPage alice = signUp("alice");
        ChatPage bob = signUp("bob");
        String bobName = bob.me();
        bob.join(busy).join(quiet); // bob looks at the quiet room
        ChatPage bob2 = secondTab(bob);
        bob2.awaitReady(busy);
        bob2.awaitReady(quiet);

        alice.join(busy).send("lunch?").send("@" + bobName + " are you coming?");

        for (ChatPage tab : new ChatPage[]{bob, bob2}) assertBadges(tab, busy, "2", "@1");
        assertThat(bob.roomItem(busy).locator(".room-btn")).hasAccessibleName(java.util.regex.Pattern.compile("2 unread, @1 mention"));
        bob2.page.reload();
        bob2.expectSignedIn(bobName);
        assertBadges(bob2, busy, "2", "@1"); // the server's counts, not the tab's memory

        // Reading the room in one tab clears its badges in the other, live.
        bob.switchTo(busy);
        assertThat(bob.message("lunch?")).isVisible();
        assertBadges(bob, busy, null, null);
        assertBadges(bob2, busy, null, null);
        Locator mention = bob.messages().last().locator(".mention.me");
        assertThat(mention).hasText("@" + bobName);
        assertThat(bob.messages().last()).hasClass(java.util.regex.Pattern.compile("mentions-me"));

        // And after a reload of a tab looking at the other room, they stay cleared.
        bob2.switchTo(quiet);
        bob2.page.reload();
        bob2.expectSignedIn(bobName);
        bob2.awaitReady(busy);
        assertBadges(bob2, busy, null, null);

        // Seen by alice too, without the highlight of her own name.
        assertThat(alice.messages().last().locator(".mention")).hasText("@" + bobName);
        assertThat(alice.messages().last().locator(".mention.me")).hasCount(0);
    }

    @Test
    void typing_at_offers_the_rooms_members_and_tab_or_enter_takes_one() {
        String room = room("complete");
        ChatPage alice = signUp("alice");
        ChatPage carol = signUp("carol");
        String carolName = carol.me();
        carol.join(room);
        alice.join(room);
        assertThat(alice.page.locator("#presence-list > li[data-user=\"" + carolName + "\"]")).isVisible();

        alice.composer().pressSequentially("hi @" + carolName.substring(0, 3));
        Locator list = alice.page.locator("#mention-list");
        assertThat(list).isVisible();
        assertThat(list.locator("li[role=option]")).hasText(new String[]{"@" + carolName});
        assertThat(alice.composer()).hasAttribute("aria-activedescendant", "mention-opt-0");
        alice.composer().press("Tab");
        assertThat(alice.composer()).hasValue("hi @" + carolName + " ");
        assertThat(list).isHidden();

        alice.composer().press("Enter"); // the list is closed: Enter sends
        assertThat(carol.messages().last().locator(".mention.me")).hasText("@" + carolName);
    }
}
