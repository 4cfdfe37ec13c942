package dev.parley.web;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.regex.Pattern;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/**
 * The web client's side of issue 21 items 1-4 (PROTOCOL.md, changes of a message): two people in
 * one room see each other's edit (the up-arrow edits one's last message), reply with its quote,
 * reaction with its count and who (on hover), and deletion with its placeholder (and the reply's
 * quote saying the original was deleted), live and again after a reload. Done through the page as
 * a person would, asserted on what the page shows.
 */
class MessageChangesWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    private static final String THUMBS = "\uD83D\uDC4D", HEART = "\u2764\uFE0F";

    private ChatPage signUp(String name) {
        return new ChatPage(browser.newPage(name), name, server.baseUrl()).register(ParleyServer.unique(name), name + "-password");
    }

    private static Locator from(ChatPage p, String user) {
        return p.page.locator("#messages li.message[data-from=\"" + user + "\"]");
    }

    private static Locator button(Locator in, String name) {
        return in.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName(name).setExact(true));
    }

    @Test
    void two_people_see_each_others_edit_reply_reaction_and_deletion_live_and_after_a_reload() {
        String room = "changes-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        ChatPage a = signUp("alice");
        ChatPage b = signUp("bob");
        String alice = a.me(), bob = b.me();
        a.join(room);
        b.join(room);

        // an edit, by the up-arrow in the empty composer
        a.send("helo");
        assertThat(from(b, alice).locator(".text")).hasText("helo");
        assertThat(from(a, alice)).hasAttribute("data-status", "sent");
        a.composer().press("ArrowUp");
        assertThat(a.composer()).hasValue("helo");
        assertThat(a.page.locator("#compose-mode")).isVisible();
        a.composer().fill("hello");
        a.composer().press("Enter");
        for (ChatPage p : new ChatPage[]{a, b}) {
            assertThat(from(p, alice).locator(".text")).hasText("hello (edited)");
            assertThat(p.page.locator("#messages li.event")).hasCount(0); // a change is drawn on its message, not as a line
        }
        assertThat(a.page.locator("#compose-mode")).isHidden();

        // a reply, quoting what it answers
        button(from(b, alice), "Reply").click();
        assertThat(b.page.locator("#compose-mode")).containsText("Replying to " + alice);
        b.send("yes, hello");
        for (ChatPage p : new ChatPage[]{a, b}) {
            assertThat(from(p, bob).locator(".text")).hasText("yes, hello");
            assertThat(from(p, bob).locator(".quote")).hasText("In reply to " + alice + ": hello");
        }

        // reactions: from the picker, and by pressing a reaction someone gave
        button(from(b, alice), "React").click();
        button(from(b, alice), THUMBS).click();
        button(from(a, bob), "React").click();
        button(from(a, bob), HEART).click();
        Locator thumbsAtAlice = button(from(a, alice), THUMBS + " 1");
        assertThat(thumbsAtAlice).isVisible();
        assertThat(thumbsAtAlice).hasAttribute("title", bob);
        assertThat(thumbsAtAlice).hasAttribute("aria-pressed", "false");
        assertThat(button(from(b, alice), THUMBS + " 1")).hasAttribute("aria-pressed", "true");
        thumbsAtAlice.click(); // alice joins in
        assertThat(button(from(b, alice), THUMBS + " 2")).hasAttribute("title", Pattern.compile(bob + ", " + alice + "|" + alice + ", " + bob));
        assertThat(button(from(b, bob), HEART + " 1")).hasAttribute("title", alice);

        // a deletion, asked twice
        Locator delete = from(a, alice).locator(".delete-btn");
        assertThat(from(b, alice).locator(".delete-btn")).hasCount(0); // not bob's to delete
        delete.click();
        assertThat(delete).hasText("Delete for everyone?");
        delete.click();
        for (ChatPage p : new ChatPage[]{a, b}) {
            assertThat(from(p, alice).locator(".text")).hasText("This message was deleted");
            assertThat(from(p, alice).locator(".reaction")).hasCount(0);
            assertThat(from(p, alice).locator(".actions button")).hasCount(0);
            assertThat(from(p, bob).locator(".quote")).hasText("In reply to a message: the original was deleted");
        }

        // after a reload, the same from the store
        for (ChatPage p : new ChatPage[]{a, b}) {
            p.page.reload();
            p.awaitReady(room);
            assertThat(from(p, alice).locator(".text")).hasText("This message was deleted");
            assertThat(from(p, bob).locator(".text")).hasText("yes, hello");
            assertThat(from(p, bob).locator(".quote")).hasText("In reply to a message: the original was deleted");
            assertThat(button(from(p, bob), HEART + " 1")).hasAttribute("title", alice);
            assertThat(p.page.locator("#messages li.event")).hasCount(0);
        }
        // and an edit after the reload reaches the other live again
        b.composer().press("ArrowUp");
        assertThat(b.composer()).hasValue("yes, hello");
        b.composer().fill("yes, hello!");
        b.composer().press("Enter");
        assertThat(from(a, bob).locator(".text")).hasText("yes, hello! (edited)");
    }
}
