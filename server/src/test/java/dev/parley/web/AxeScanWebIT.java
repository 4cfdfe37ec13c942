package dev.parley.web;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.atomic.AtomicInteger;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/**
 * Every screen of the web client, on a desktop and on a phone, scanned with Deque's axe-core (WCAG
 * 2.0 and 2.1, A and AA; see {@link AxeScan}): signing in and its errors, the chat with rooms of
 * every kind, messages (someone else's, ours, one refused, one waiting to be sent), events and the
 * typing line, the "New room" form, the members panel as its owner sees it (a ban being typed, the
 * bans, deleting the room), the notice of being taken out of a room, and the connection banner. The
 * session-expiry warning is scanned by {@link SessionExpiryWebIT}. A serious or critical violation
 * anywhere fails the test, after every screen was scanned and each violation printed.
 */
class AxeScanWebIT {
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

    @Test
    void every_screen_on_a_desktop_has_no_serious_accessibility_violation() {
        tour(browser.newPage("ada"), "desktop");
    }

    @Test
    void every_screen_on_a_phone_has_no_serious_accessibility_violation() {
        tour(browser.newPhonePage("ada", 390, 844), "phone");
    }

    private void tour(Page page, String device) {
        AxeScan axe = new AxeScan();
        // The others first, so that a room ada has not joined is in the first list she is shown.
        ChatPage bob = signUp("bob"), carol = signUp("carol");
        String ops = room("ops"), lobby = room("lobby"), elsewhere = room("elsewhere");
        bob.join(elsewhere);
        ChatPage a = new ChatPage(page, "ada", server.baseUrl());
        String ada = ParleyServer.unique("ada");
        assertThat(page.locator("#auth-view")).isVisible();
        axe.scan(page, "sign-in, " + device);

        a.fillCredentials(ada, "not-the-password");
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log in")).click();
        assertThat(a.authError()).hasText("Wrong username or password.");
        axe.scan(page, "sign-in refused, " + device);

        a.register(ada, "ada-password");
        assertThat(page.locator("#messages .empty-state")).hasText("Join a room to start chatting.");
        axe.scan(page, "signed in, no room yet, " + device);

        // Rooms of every kind: a private one she owns (with a topic), a public one, one she has not
        // joined, and a direct conversation.
        a.createRoom(ops, true, "Who is on call this week");
        invite(a, bob.me());
        invite(a, carol.me());
        closeMembers(a);
        toList(a);
        a.join(lobby);
        toList(a);
        page.getByLabel("Message someone").fill(bob.me());
        page.getByLabel("Message someone").press("Enter");
        assertThat(page.locator("#current-room")).hasText(bob.me());
        assertThat(a.roomItem(elsewhere)).hasAttribute("data-joined", "false");

        // A conversation: events, someone else's messages with a link, ours, one refused, someone typing.
        toList(a);
        a.switchTo(ops);
        String bobName = bob.me(); // before the reload, which empties the page until it is signed in again
        bob.page.reload();
        bob.expectSignedIn(bobName);
        bob.switchTo(ops);
        bob.awaitReady(ops);
        // Through bob's client, not his message box: his first keystroke below is then a typing event.
        bob.eval("() => window.parleyApp.client.send('" + ops + "', 'Morning! The runbook is at (https://example.com/runbook_(v2)).')");
        assertThat(a.messages()).hasCount(1);
        a.send("Thanks, I will read it.");
        a.send("x".repeat(4001));
        assertThat(a.messages().last()).hasAttribute("data-status", "failed");
        bob.composer().pressSequentially("on it");
        assertThat(page.locator("#typing")).hasAttribute("data-active", "true");
        axe.scan(page, "a private room with messages, " + device);

        // The "New room" form, with the server's refusal under it.
        toList(a);
        Locator details = page.locator("#new-room");
        details.locator("summary").click();
        page.getByLabel("Room name").fill(ops);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Create room")).click();
        assertThat(page.locator("#new-room-error")).containsText("is taken");
        axe.scan(page, "the New room form refused, " + device);
        details.locator("summary").click();

        // The members panel as the owner sees it: a ban being typed, then the bans and the deletion asked.
        a.switchTo(ops);
        a.openMembers();
        a.button("Ban " + carol.me()).click();
        assertThat(a.memberItem(carol.me()).locator(".ban-form")).isVisible();
        axe.scan(page, "members panel, a ban being typed, " + device);
        a.memberItem(carol.me()).locator(".ban-reason").fill("spam");
        a.button("Confirm: ban " + carol.me()).click();
        assertThat(page.locator("#ban-list > li")).hasCount(1);
        a.button("Delete room…").click();
        assertThat(page.locator("#delete-confirm")).isVisible();
        axe.scan(page, "members panel, bans and deleting the room, " + device);
        a.button("Cancel").click();
        closeMembers(a);

        // Taken out of a room: the notice stays until dismissed.
        String bobs = room("bobs");
        bob.createRoom(bobs, true, null);
        invite(bob, ada);
        page.reload();
        a.expectSignedIn(ada);
        toList(a);
        a.switchTo(bobs);
        a.awaitReady(bobs);
        bob.button("Remove " + ada + " from the room").click();
        assertThat(a.alert()).isVisible();
        axe.scan(page, "removed from a room, " + device);
        page.locator("#alert-close").click();

        // The connection lost: the banner, and a message waiting to be sent.
        if (!page.locator("#current-room").textContent().equals(ops)) {
            toList(a);
            a.switchTo(ops);
        }
        page.route("**/api/auth/ticket", route -> route.abort());
        a.eval("() => window.parleyApp.client._ws.close()");
        assertThat(a.connStatus()).hasText("Reconnecting…");
        a.send("Typed while the line is down");
        assertThat(a.message("Typed while the line is down")).hasAttribute("data-status", "sending");
        axe.scan(page, "reconnecting, " + device);
        page.unroute("**/api/auth/ticket");

        axe.assertNone();
    }

    private static void invite(ChatPage owner, String user) {
        owner.openMembers();
        owner.page.getByLabel("Invite someone").fill(user);
        owner.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Invite").setExact(true)).click();
        assertThat(owner.memberItem(user)).hasAttribute("data-role", "member");
    }

    /** On a narrow window the members lie over the messages: closed again. */
    private static void closeMembers(ChatPage p) {
        Locator close = p.page.locator("#members-close");
        if (close.isVisible()) close.click();
    }

    /** On a phone, back to the list of rooms (a desktop shows it beside the room). */
    private static void toList(ChatPage p) {
        if (!p.page.locator("#sidebar").isVisible()) p.showRoomList();
    }
}
