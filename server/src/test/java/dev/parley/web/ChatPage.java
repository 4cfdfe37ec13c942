package dev.parley.web;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.Cookie;
import com.microsoft.playwright.options.SameSiteAttribute;
import com.microsoft.playwright.options.AriaRole;
import dev.parley.auth.TokenService;

import java.util.List;
import java.util.Map;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/**
 * The web client as a user sees it, through the DOM hooks documented at the top of app.js. Every
 * action goes through the UI (typing, clicking, pressing keys); reads come from the DOM.
 */
final class ChatPage {
    // Records every data-status a message of ours goes through, however briefly ("sending" may last
    // a millisecond on a local server, too short to catch by polling), and when the typing line
    // turned on and off, on the page's own clock.
    private static final String RECORDER = """
            window.__statusLog = {};
            window.__typingLog = [];
            new MutationObserver((records) => {
              for (const r of records) {
                if (r.type === 'attributes' && r.target.id === 'typing') {
                  window.__typingLog.push({ active: r.target.dataset.active, at: performance.now() });
                  continue;
                }
                for (const n of r.type === 'attributes' ? [r.target] : r.addedNodes) {
                  if (!(n instanceof HTMLElement) || !n.matches('li.message[data-client-id]')) continue;
                  const log = (window.__statusLog[n.dataset.clientId] ??= []);
                  if (log[log.length - 1] !== n.dataset.status) log.push(n.dataset.status);
                }
              }
            }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status', 'data-active'] });
            """;

    /**
     * Keeps, in the page, every text frame its WebSockets send and receive ({@link #framesSent},
     * {@link #framesReceived}). Opt-in, with {@code page.addInitScript(FRAME_LOG)} before the page
     * loads: it replaces the page's WebSocket with a subclass.
     */
    static final String FRAME_LOG = """
            (() => {
              const Native = window.WebSocket;
              const log = window.__frames = { sent: [], received: [] };
              window.WebSocket = class extends Native {
                constructor(...args) { super(...args); this.addEventListener('message', (e) => log.received.push(String(e.data))); }
                send(data) { log.sent.push(String(data)); super.send(data); }
              };
            })();
            """;

    final Page page;
    final String name;

    ChatPage(Page page, String name, String baseUrl) {
        this.page = page;
        this.name = name;
        page.addInitScript(RECORDER);
        page.navigate(baseUrl + "/");
    }

    // --- signing in ------------------------------------------------------------------

    void fillCredentials(String username, String password) {
        page.getByLabel("Username").fill(username);
        page.getByLabel("Password", new Page.GetByLabelOptions().setExact(true)).fill(password); // not "Your password" of the session warning
    }

    ChatPage register(String username, String password) {
        fillCredentials(username, password);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign up")).click();
        return expectSignedIn(username);
    }

    ChatPage login(String username, String password) {
        fillCredentials(username, password);
        page.locator("#password").press("Enter");
        return expectSignedIn(username);
    }

    ChatPage expectSignedIn(String username) {
        assertThat(page.locator("#chat-view")).isVisible();
        assertThat(page.locator("#auth-view")).isHidden();
        assertThat(page.locator("#me")).hasText(username);
        return this;
    }

    /**
     * Signs in with a browser session the test minted: its refresh token goes into the cookie, as a
     * log-in would put it, and the reload picks the session up from there.
     */
    ChatPage signInWithSession(TokenService.Session session) {
        // Signed out first: the page has asked for its session already, so no answer of that clears the cookie.
        assertThat(page.locator("#auth-view")).isVisible();
        String host = java.net.URI.create(page.url()).getHost();
        page.context().addCookies(List.of(new Cookie("parley_refresh", session.refresh().token())
                .setDomain(host).setPath("/api/auth").setHttpOnly(true).setSameSite(SameSiteAttribute.STRICT)));
        page.reload();
        return expectSignedIn(session.refresh().username());
    }

    /** The signed-in username, as shown in the header. */
    String me() {
        return page.locator("#me").textContent();
    }

    Locator authError() {
        return page.locator("#auth-error");
    }

    // --- rooms -----------------------------------------------------------------------

    /** Joins a room by typing its name in the sidebar form, and waits until the server confirmed it. */
    ChatPage join(String room) {
        page.getByLabel("Join or create a room").fill(room);
        page.getByLabel("Join or create a room").press("Enter");
        assertThat(page.locator("#current-room")).hasText(room);
        awaitReady(room);
        return this;
    }

    void awaitReady(String room) {
        page.waitForFunction("room => window.parleyApp.client.isReady(room)", room);
    }

    Locator roomItem(String room) {
        return page.locator("#room-list > li[data-room=\"" + room + "\"]");
    }

    /** Brings a joined room into view by clicking it in the room list. */
    ChatPage switchTo(String room) {
        roomItem(room).locator(".room-btn").click();
        assertThat(page.locator("#current-room")).hasText(room);
        return this;
    }

    /** Makes a room with the "New room" form (public or private, with a topic or none), and waits until it is joined and in view. */
    ChatPage createRoom(String room, boolean isPrivate, String topic) {
        Locator details = page.locator("#new-room");
        if (details.getAttribute("open") == null) details.locator("summary").click();
        page.getByLabel("Room name").fill(room);
        page.getByLabel(isPrivate ? "Private: members only" : "Public: anyone").check();
        page.getByLabel("Topic (optional)").fill(topic == null ? "" : topic);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Create room")).click();
        assertThat(page.locator("#current-room")).hasAttribute("data-room", room);
        awaitReady(room);
        return this;
    }

    /** The direct room with {@code user} in the "Direct messages" list. */
    Locator directItem(String user) {
        return page.locator("#dm-list > li[data-with=\"" + user + "\"]");
    }

    /** On a phone, goes back from the room in view to the list of rooms. */
    void showRoomList() {
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Rooms").setExact(true)).click();
        assertThat(page.locator("#room-list")).isVisible();
    }

    // --- members ---------------------------------------------------------------------

    /** Shows the member list: always on a wide window; behind the "Members" button on a narrow one. */
    ChatPage openMembers() {
        Locator toggle = page.locator("#members-toggle");
        if (toggle.isVisible() && !"true".equals(toggle.getAttribute("aria-expanded"))) toggle.click();
        assertThat(page.locator("#members-panel")).isVisible();
        return this;
    }

    Locator memberItem(String user) {
        return page.locator("#member-list > li[data-user=\"" + user + "\"]");
    }

    /** A button of the members panel by its accessible name ("Ban bob", "Mute bob for 1 hour", ...). */
    Locator button(String name) {
        return page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName(name).setExact(true));
    }

    /** Every visible moderation control of the members panel (invite, mute, unmute, roles, remove, ban, unban). */
    Locator moderationControls() {
        return page.locator("#members-panel").locator("#invite-form, .mute-btn, .unmute-btn, .role-btn, .remove-btn, .ban-btn, .unban-btn, #delete-room-btn")
                .filter(new Locator.FilterOptions().setVisible(true));
    }

    /** Room events shown in the room in view, as system lines. */
    Locator events() {
        return page.locator("#messages li.event");
    }

    Locator alert() {
        return page.locator("#alert");
    }

    // --- messages --------------------------------------------------------------------

    Locator composer() {
        return page.locator("#composer");
    }

    /** Types a message the way a person does and presses Enter. */
    ChatPage send(String text) {
        composer().fill(text);
        composer().press("Enter");
        assertThat(composer()).hasValue("");
        return this;
    }

    /**
     * Sends and waits for the ack. Messages from two pages are ordered by the room, so a test
     * that expects one page's message before another's must wait for the first to be acked.
     */
    ChatPage sendAcked(String text) {
        send(text);
        assertThat(message(text)).hasAttribute("data-status", "sent");
        return this;
    }

    Locator messages() {
        return page.locator("#messages li.message");
    }

    /** The message whose text is exactly {@code text}. */
    Locator message(String text) {
        return messages().filter(new Locator.FilterOptions().setHas(
                page.locator(".text").getByText(text, new Locator.GetByTextOptions().setExact(true))));
    }

    /** data-seq of every message in the room in view, top to bottom (0 for one not acked yet). */
    List<Long> seqs() {
        @SuppressWarnings("unchecked")
        List<Number> raw = (List<Number>) messages().evaluateAll("els => els.map(e => Number(e.dataset.seq ?? 0))");
        return raw.stream().map(Number::longValue).toList();
    }

    /** The text of every message in the room in view, top to bottom, as rendered. */
    @SuppressWarnings("unchecked")
    List<String> texts() {
        return (List<String>) messages().evaluateAll("els => els.map(e => e.querySelector('.text').textContent)");
    }

    /** data-client-id of our own messages in the room in view, top to bottom. */
    @SuppressWarnings("unchecked")
    List<String> ownClientIds() {
        return (List<String>) page.locator("#messages li.message.own").evaluateAll("els => els.map(e => e.dataset.clientId)");
    }

    /** Every data-status a message of ours went through, by clientId (see RECORDER). */
    @SuppressWarnings("unchecked")
    Map<String, List<String>> statusLog() {
        return (Map<String, List<String>>) page.evaluate("() => window.__statusLog");
    }

    /** Scrolls the message list up to its top with the mouse wheel, as a reader would. */
    void scrollMessagesToTop() {
        page.locator("#messages").hover();
        page.mouse().wheel(0, -100_000);
    }

    /** How many CSS pixels the document is wider than the viewport (0 when there is no horizontal scroll). */
    int horizontalOverflow() {
        return ((Number) page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth")).intValue();
    }

    /** Milliseconds from the last typing event shown (data-active set "true") to the line turning off. */
    double lastTypingSpell() {
        return ((Number) page.evaluate("""
                () => {
                  const log = window.__typingLog;
                  const off = log.findLastIndex((e) => e.active === 'false');
                  const on = log.slice(0, off).findLastIndex((e) => e.active === 'true');
                  if (off < 0 || on < 0) throw new Error('no spell in ' + JSON.stringify(log));
                  return log[off].at - log[on].at;
                }
                """)).doubleValue();
    }

    Locator connStatus() {
        return page.locator("#conn-status");
    }

    /** Text frames the page sent since it loaded (needs {@link #FRAME_LOG}). */
    @SuppressWarnings("unchecked")
    List<String> framesSent() {
        return (List<String>) page.evaluate("() => window.__frames.sent");
    }

    /** Text frames the page received since it loaded (needs {@link #FRAME_LOG}). */
    @SuppressWarnings("unchecked")
    List<String> framesReceived() {
        return (List<String>) page.evaluate("() => window.__frames.received");
    }

    Object eval(String js) {
        return page.evaluate(js);
    }
}
