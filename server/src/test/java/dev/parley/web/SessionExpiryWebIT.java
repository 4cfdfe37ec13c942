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

    @Test
    void the_warning_before_the_session_ends_signs_in_again_and_every_tab_goes_on() {
        String name = ParleyServer.unique("alice");
        server.http().register(name);
        String room = room("renew");
        Instant end = Instant.now().plusSeconds(30);
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
        int opened = sockets.get();

        // Past the first session's end: both tabs still signed in, this one on the same connection.
        waitPast(a.page, end.plusSeconds(3));
        for (ChatPage p : java.util.List.of(a, second)) {
            assertThat(p.page.locator("#chat-view")).isVisible();
            assertThat(p.page.locator("#session-warning")).isHidden();
            assertThat(p.connStatus()).isHidden();
        }
        assertThat(a.composer()).hasValue("half a thought");
        a.send("still here after the first session ended");
        assertThat(a.message("still here after the first session ended")).hasAttribute("data-status", "sent");
        assertThat(second.message("still here after the first session ended")).isVisible();
        assertThat(sockets.get()).as("WebSockets the first tab opened").isEqualTo(opened);
        // A reload picks up the new session from the cookie.
        a.page.reload();
        a.expectSignedIn(name);
        assertThat(a.page.locator("#session-warning")).isHidden();
    }

    @Test
    void on_a_phone_the_warning_can_be_put_off_and_the_session_then_ends_keeping_what_was_typed() {
        String name = ParleyServer.unique("pat");
        server.http().register(name);
        String room = room("phone-end");
        Instant end = Instant.now().plusSeconds(30);
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

        assertThat(p.authError()).hasText("Your session has expired. Please log in again.",
                new LocatorAssertions.HasTextOptions().setTimeout(45_000));
        assertThat(warning).isHidden();
        p.login(name, "password-" + name);
        assertThat(p.page.locator("#current-room")).hasText(room);
        assertThat(p.composer()).hasValue("typed before the end");
    }
}
