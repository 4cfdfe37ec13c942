package dev.parley.web;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import com.microsoft.playwright.options.Cookie;
import com.microsoft.playwright.options.SameSiteAttribute;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tokens in the browser (issue 20): the page keeps no token where a script could read it later, puts
 * none in a WebSocket's URL (a single-use ticket instead), stays signed in through a reload by its
 * HttpOnly cookie, renews its short access token on an open connection, and after a log out is signed
 * out for good, reloads included.
 */
class BrowserSessionWebIT {
    /** Short, so that the page renews its access token during a test (at about four fifths of it). */
    private static final Duration ACCESS_TTL = Duration.ofSeconds(6);

    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ACCESS_TOKEN_TTL, ACCESS_TTL.toSeconds() + "s");
    @RegisterExtension
    static Chromium browser = Chromium.create();

    /** Every key and value of localStorage and sessionStorage, as "key=value" lines. */
    private static final String STORAGE = """
            () => [localStorage, sessionStorage].flatMap(s => Object.keys(s).map(k => k + '=' + s.getItem(k)))
            """;

    /** A page that records the URL of every WebSocket it opens. */
    private static ChatPage page(String name, List<String> sockets) {
        Page p = browser.newPage(name);
        p.onWebSocket(ws -> sockets.add(ws.url()));
        p.addInitScript(ChatPage.FRAME_LOG);
        return new ChatPage(p, name, server.baseUrl());
    }

    private static String accessToken(ChatPage p) {
        return (String) p.page.evaluate("() => window.parleyApp.client.token");
    }

    @SuppressWarnings("unchecked")
    private static void assertNoTokenStored(ChatPage p) {
        String token = accessToken(p);
        assertThat(token).as("signed in, with an access token in memory").isNotBlank();
        List<String> stored = (List<String>) p.page.evaluate(STORAGE);
        assertThat(stored).as("localStorage and sessionStorage").noneMatch(e -> e.contains(token))
                .noneMatch(e -> e.contains("eyJ")) // the start of any JWT
                .noneMatch(e -> e.startsWith("parley.session="));
        assertThat((String) p.page.evaluate("() => document.cookie")).as("the refresh cookie is HttpOnly").doesNotContain("parley_refresh");
    }

    private static Cookie refreshCookie(ChatPage p) {
        return p.page.context().cookies().stream().filter(c -> c.name.equals("parley_refresh")).findFirst().orElse(null);
    }

    @Test
    void no_token_in_storage_or_in_a_websocket_url_and_the_cookie_keeps_the_page_signed_in_until_log_out() {
        List<String> sockets = new CopyOnWriteArrayList<>();
        String user = ParleyServer.unique("alice");
        ChatPage a = page("alice", sockets).register(user, "alice-password").join("cookies");

        assertNoTokenStored(a);
        Cookie cookie = refreshCookie(a);
        assertThat(cookie).isNotNull();
        assertThat(cookie.httpOnly).isTrue();
        assertThat(cookie.sameSite).isEqualTo(SameSiteAttribute.STRICT);
        assertThat(cookie.path).isEqualTo("/api/auth");
        assertThat(sockets).isNotEmpty().allSatisfy(url -> assertThat(url).contains("?ticket=").doesNotContain("token="));

        a.send("before the reload");
        assertThat(a.messages().last()).hasAttribute("data-status", "sent");
        a.page.reload();
        a.expectSignedIn(user);
        assertThat(a.messages()).hasCount(1);
        assertThat(a.texts()).containsExactly("before the reload");
        assertNoTokenStored(a);
        assertThat(sockets).hasSizeGreaterThanOrEqualTo(2).allSatisfy(url -> assertThat(url).contains("?ticket=").doesNotContain("token="));
        assertThat(sockets.stream().distinct()).as("each socket its own ticket").hasSameSizeAs(sockets);

        a.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log out").setExact(true)).click();
        assertThat(a.page.locator("#auth-view")).isVisible();
        Await.until("the cookie to be cleared", () -> refreshCookie(a) == null);
        a.page.reload();
        assertThat(a.page.locator("#auth-view")).isVisible();
        assertThat(a.page.locator("#chat-view")).isHidden();
        assertThat(a.authError()).isEmpty();
    }

    @Test
    void an_access_token_the_server_refuses_is_renewed_through_the_cookie_and_the_request_goes_through() {
        String user = ParleyServer.unique("carol");
        ChatPage c = page("carol", new CopyOnWriteArrayList<>()).register(user, "carol-password").join("wakeup");

        // As after a laptop slept past the token's expiry: the server answers the next request 401.
        c.page.evaluate("() => { window.parleyApp.client.token = 'expired.while.asleep'; }");
        Object rooms = c.page.evaluate("() => window.parleyApp.client.rooms().then(r => r.map(x => x.name))");

        assertThat(rooms.toString()).contains("wakeup");
        assertThat(accessToken(c)).isNotEqualTo("expired.while.asleep");
        assertThat(c.page.locator("#chat-view")).isVisible();
        c.send("still signed in");
        assertThat(c.messages().last()).hasAttribute("data-status", "sent");
    }

    @Test
    void the_access_token_is_renewed_before_it_expires_and_the_open_connection_moves_to_the_new_one() {
        List<String> sockets = new CopyOnWriteArrayList<>();
        String user = ParleyServer.unique("bob");
        ChatPage b = page("bob", sockets).register(user, "bob-password").join("renewals");
        String first = accessToken(b);

        Await.until("two renewals", Duration.ofSeconds(30), () -> {
            Object refreshes = b.page.evaluate("() => window.__frames.sent.filter(f => JSON.parse(f).type === 'refresh').length");
            return ((Number) refreshes).intValue() >= 2;
        });

        assertThat(accessToken(b)).isNotEqualTo(first);
        assertThat(b.page.locator("#conn-status")).hasAttribute("data-state", "open");
        assertThat(sockets).as("the connection lived on: no reconnect").hasSize(1);
        b.send("after two renewals");
        assertThat(b.messages().last()).hasAttribute("data-status", "sent");
        assertNoTokenStored(b);
    }
}
