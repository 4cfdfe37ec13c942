package dev.parley.web;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.options.AriaRole;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The warning before a browser session ends (docs/WEB_CLIENT.md, "Staying signed in"): sessions made
 * by the test end within seconds, so the warning shows at once (less than its five minutes are
 * left). Signing in again from it keeps the page, its connection and every tab of the browser going
 * past the first session's end; not doing so ends it as before, with what was typed kept.
 */
class SessionExpiryWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    private static String room(String base) {
        return base + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    /** A registered user (password "password-" + name) signed in on {@code page} with a session that ends at {@code end}. */
    private static ChatPage signedIn(Page page, String name, Instant end) {
        return new ChatPage(page, name, server.baseUrl()).signInWithSession(server.server().tokens().startSession(name, 0, end));
    }

    /** Waits, on the page's clock, until {@code at} has passed: what an expiry test is about. */
    private static void waitPast(Page page, Instant at) {
        page.waitForFunction("at => Date.now() > at", (double) at.toEpochMilli(),
                new Page.WaitForFunctionOptions().setTimeout(60_000).setPollingInterval(250));
    }

    /**
     * Both scenarios in one test, their sessions ending at the same moment, so that one wait covers
     * both: each is about what happens past a session's end, and the two waits were a minute of the
     * test run's budget. Playwright's objects belong to one thread, hence one test rather than two at once.
     */
    @Test
    void the_warning_before_the_session_ends_signs_in_again_on_a_desktop_and_is_put_off_on_a_phone_keeping_what_was_typed() {
        Instant end = Instant.now().plusSeconds(35);
        Desktop desktop = desktopRenewsBefore(end);
        Phone phone = phonePutsOffBefore(end);
        waitPast(desktop.a.page, end.plusSeconds(3));
        desktopGoesOnPast(desktop);
        phoneEndsKeepingWhatWasTyped(phone);
    }

    private record Desktop(String name, ChatPage a, ChatPage second, AtomicInteger sockets, int opened) {}

    private record Phone(ChatPage p, String room) {}

    /** Signing in again from the warning, before {@code end}: the page and its second tab take the new session up. */
    private Desktop desktopRenewsBefore(Instant end) {
        String name = ParleyServer.unique("alice");
        server.http().register(name);
        String room = room("renew");
        Page first = browser.newPage("alice");
        AtomicInteger sockets = new AtomicInteger();
        first.onWebSocket(ws -> sockets.incrementAndGet());
        ChatPage a = signedIn(first, name, end).join(room);
        ChatPage second = new ChatPage(a.page.context().newPage(), "alice's second tab", server.baseUrl());
        second.expectSignedIn(name);

        Locator warning = a.page.locator("#session-warning");
        assertThat(warning).isVisible();
        assertThat(a.page.locator("#session-warning-text")).containsText("Your session ends at");
        assertThat(a.page.locator("#session-warning-text")).containsText("Enter your password to stay signed in.");
        assertThat(second.page.locator("#session-warning")).isVisible();
        a.page.screenshot(new Page.ScreenshotOptions().setPath(Chromium.SCREENSHOTS.resolve("session-warning-desktop.png")));
        new AxeScan().scan(a.page, "session warning, desktop").assertNone();
        Accessibility.assertContrast(a.page);
        a.composer().fill("half a thought");

        a.page.getByLabel("Your password").fill("not-the-password");
        a.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Stay signed in")).click();
        assertThat(a.page.locator("#session-error")).hasText("Wrong password.");
        assertThat(a.page.getByLabel("Your password")).hasAttribute("aria-invalid", "true");
        a.page.getByLabel("Your password").fill("password-" + name);
        a.page.getByLabel("Your password").press("Enter");
        assertThat(warning).isHidden();
        assertThat(a.page.locator("#notice")).containsText("You are signed in until");
        assertThat(second.page.locator("#session-warning")).isHidden(); // the other tab took the new session up
        return new Desktop(name, a, second, sockets, sockets.get());
    }

    /** Past the first session's end: both tabs still signed in, the first on the same connection. */
    private void desktopGoesOnPast(Desktop d) {
        ChatPage a = d.a;
        for (ChatPage p : java.util.List.of(a, d.second)) {
            assertThat(p.page.locator("#chat-view")).isVisible();
            assertThat(p.page.locator("#session-warning")).isHidden();
            assertThat(p.connStatus()).isHidden();
        }
        assertThat(a.composer()).hasValue("half a thought");
        a.send("still here after the first session ended");
        assertThat(a.message("still here after the first session ended")).hasAttribute("data-status", "sent");
        assertThat(d.second.message("still here after the first session ended")).isVisible();
        assertThat(d.sockets.get()).as("WebSockets the first tab opened").isEqualTo(d.opened);
        // A reload picks up the new session from the cookie.
        a.page.reload();
        a.expectSignedIn(d.name);
        assertThat(a.page.locator("#session-warning")).isHidden();
    }

    /** On a phone, before {@code end}: the warning is scanned, fits the screen, and is put off; then something is typed. */
    private Phone phonePutsOffBefore(Instant end) {
        String name = ParleyServer.unique("pat");
        server.http().register(name);
        String room = room("phone-end");
        ChatPage p = signedIn(browser.newPhonePage("pat", 390, 844), name, end).join(room);

        Locator warning = p.page.locator("#session-warning");
        assertThat(warning).isVisible();
        assertThat(p.page.locator("#session-warning-text")).containsText("Your session ends at");
        p.page.screenshot(new Page.ScreenshotOptions().setPath(Chromium.SCREENSHOTS.resolve("session-warning-phone.png")));
        new AxeScan().scan(p.page, "session warning, phone").assertNone();
        assertThat(p.horizontalOverflow()).as("overflow with the warning").isZero();
        p.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Not now")).click();
        assertThat(warning).isHidden();
        p.composer().fill("typed before the end");
        return new Phone(p, room);
    }

    /** The put-off session ends: the page says so, and logging in again brings back the room and what was typed. */
    private void phoneEndsKeepingWhatWasTyped(Phone phone) {
        ChatPage p = phone.p;
        assertThat(p.authError()).hasText("Your session has expired. Please log in again.",
                new LocatorAssertions.HasTextOptions().setTimeout(45_000));
        assertThat(p.page.locator("#session-warning")).isHidden();
        p.login(p.name, "password-" + p.name);
        assertThat(p.page.locator("#current-room")).hasText(phone.room);
        assertThat(p.composer()).hasValue("typed before the end");
    }
}
