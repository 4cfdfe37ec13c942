package dev.parley.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.WebSocketRoute;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.options.AriaRole;
import dev.parley.config.Setting;
import dev.parley.testing.Chromium;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web client in Debian's Chromium against a real server: what a person sees and does. Each test
 * leaves target/screenshots/<test>.png (and one per other page) for a reviewer.
 */
class WebClientIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    private static final AtomicInteger ROOMS = new AtomicInteger();
    private static final String IMG_XSS = "<img src=x onerror=\"window.__xss=1\">";
    private static final String SCRIPT_XSS = "<script>window.__xss=1</script>";

    private static String room(String base) {
        return base + "-" + ROOMS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    private ChatPage page(String name) {
        return new ChatPage(browser.newPage(name), name, server.baseUrl());
    }

    /** A page signed up through the form, in the given room. */
    private ChatPage member(String name, String room) {
        return page(name).register(ParleyServer.unique(name), name + "-password").join(room);
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
        a.composer().fill("Shall we start?");
        a.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Send")).click();
        assertThat(b.message("Shall we start?")).isVisible();
        assertThat(a.composer()).hasValue("");
        assertThat(a.composer()).isFocused(); // the next message can be typed straight away

        List<String> conversation = List.of("Hello Bob!", "Hi Alice, good to see you.", "Shall we start?");
        for (ChatPage p : List.of(a, b)) {
            assertThat(p.messages()).hasCount(3);
            assertThat(p.messages().last()).hasAttribute("data-status", "sent");
            assertThat(p.seqs()).containsExactly(1L, 2L, 3L);
            assertThat(p.texts()).isEqualTo(conversation);
            assertThat(p.messages().locator(".from")).hasText(new String[] {alice, bob, alice});
            // Timestamps: a machine-readable ISO time and a human "HH:MM" (today's messages).
            for (int i = 0; i < 3; i++) {
                Locator time = p.messages().nth(i).locator("time.time");
                assertThat(time.getAttribute("datetime")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
                assertThat(time.textContent()).matches("\\d\\d:\\d\\d");
            }
        }
        assertThat(a.ownClientIds()).hasSize(2);
        assertThat(b.ownClientIds()).hasSize(1);
        // Each of our messages was shown as "sending" first, then "sent" once the server acked it.
        for (ChatPage p : List.of(a, b)) {
            Map<String, List<String>> log = p.statusLog();
            for (String id : p.ownClientIds()) assertThat(log.get(id)).as("statuses of %s on %s", id, p.name).containsExactly("sending", "sent");
        }
    }

    @Test
    void a_message_the_server_refuses_is_marked_not_sent_with_the_reason() {
        String room = room("refused");
        ChatPage a = member("alice", room);
        ChatPage b = member("bob", room);
        a.send("x".repeat(4001)); // the default limit is 4000 characters
        Locator refused = a.messages().first();
        assertThat(refused).hasAttribute("data-status", "failed");
        assertThat(refused.locator(".status")).hasText("Not sent: text is longer than 4000 characters");
        // Sending the same text again cannot work: no Retry button that would fail forever.
        assertThat(refused.locator(".retry-btn")).hasCount(0);
        Accessibility.assertContrast(a.page); // the red of a failed message too
        a.send("a shorter one");
        assertThat(a.message("a shorter one")).hasAttribute("data-seq", "1");
        assertThat(b.messages()).hasCount(1);
        assertThat(b.texts()).containsExactly("a shorter one");
        assertThat(a.messages()).hasCount(2);
    }

    @Test
    void a_refused_message_stays_through_a_reload_until_it_is_discarded() {
        String room = room("refused-kept");
        ChatPage a = member("alice", room);
        ChatPage b = member("bob", room);
        String alice = a.me(); // before any reload: right after one, #me may not be filled yet
        String tooLong = "y".repeat(4001);
        a.send(tooLong);
        assertThat(a.message(tooLong)).hasAttribute("data-status", "failed");
        a.send("this one is fine");
        assertThat(b.message("this one is fine")).hasAttribute("data-seq", "1");

        a.page.reload();
        a.expectSignedIn(alice);
        // Still the user's text, still refused for the same reason, and never sent again by itself.
        Locator refused = a.message(tooLong);
        assertThat(refused).hasAttribute("data-status", "failed");
        assertThat(refused.locator(".status")).hasText("Not sent: text is longer than 4000 characters");
        assertThat(refused.locator(".retry-btn")).hasCount(0);
        assertThat(a.message("this one is fine")).hasAttribute("data-seq", "1");
        assertThat(a.messages()).hasCount(2);

        refused.locator(".discard-btn").click();
        assertThat(a.messages()).hasCount(1);
        assertThat(a.eval("() => Object.keys(sessionStorage).filter(k => k.startsWith('parley.unsent'))")).isEqualTo(List.of());
        a.page.reload();
        a.expectSignedIn(alice);
        assertThat(a.message("this one is fine")).hasAttribute("data-seq", "1");
        assertThat(a.messages()).hasCount(1);
        // Nothing refused was stored or delivered.
        assertThat(b.texts()).containsExactly("this one is fine");
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages", server.newUser("reader"));
        assertThat(history.json().get("messages")).hasSize(1);

        // Logging out forgets a refused message as well.
        a.send(tooLong);
        assertThat(a.message(tooLong)).hasAttribute("data-status", "failed");
        a.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log out").setExact(true)).click();
        assertThat(a.page.locator("#auth-view")).isVisible();
        assertThat(a.eval("() => Object.keys(sessionStorage).filter(k => k.startsWith('parley.unsent'))")).isEqualTo(List.of());
        a.login(alice, "alice-password").join(room);
        assertThat(a.message("this one is fine")).hasAttribute("data-seq", "1");
        assertThat(a.messages()).hasCount(1);
    }

    @Test
    void a_burst_over_the_rate_limit_is_paced_and_every_message_goes_out_once_in_order() {
        String room = room("burst");
        ChatPage a = member("alice", room);
        // 60 sends at once against the server's default limit (20 a second, bursts of 40): the page
        // sends them one after the other (the next once the one before is acknowledged), no faster than
        // the limit's pace once 39 are gone, so none is refused; and were one refused, none would overtake it.
        a.page.evaluate("room => { for (let i = 1; i <= 60; i++) window.parleyApp.client.send(room, 'burst ' + i); }", room);
        a.page.waitForFunction("() => document.querySelectorAll('#messages li.message[data-status=sent]').length === 60",
                null, new Page.WaitForFunctionOptions().setTimeout(20_000));

        assertThat(a.page.locator("#messages li.message[data-status=failed]")).hasCount(0);
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages?limit=100", server.newUser("reader"));
        List<String> stored = new java.util.ArrayList<>();
        history.json().get("messages").forEach(m -> stored.add(m.get("text").asText()));
        assertThat(stored).isEqualTo(java.util.stream.IntStream.rangeClosed(1, 60).mapToObj(i -> "burst " + i).toList());
    }

    @Test
    void a_send_refused_for_the_rate_mid_burst_goes_again_before_every_later_one_and_the_room_keeps_the_typed_order() throws Exception {
        String room = room("refused-mid-burst");
        // The 5th send is refused for the rate once, by the test standing in for the server, as a stricter
        // server would: the page sent the rest of the burst behind it at once, and they were stored before
        // it (the order "burst 42" before "burst 41" of a flaky run of the test above).
        AtomicBoolean refused = new AtomicBoolean();
        List<String> forwarded = new CopyOnWriteArrayList<>();
        Page alicePage = browser.newPage("alice");
        alicePage.routeWebSocket(url -> url.contains("/ws"), toPage -> {
            WebSocketRoute toServer = toPage.connectToServer();
            toPage.onMessage(f -> {
                String text = f.text();
                if (text.contains("\"text\":\"burst 5\"") && refused.compareAndSet(false, true)) {
                    try {
                        String ref = Http.JSON.readTree(text).get("ref").asText();
                        toPage.send("{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"too many sends\",\"ref\":\"" + ref + "\"}");
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    return;
                }
                if (text.contains("\"type\":\"send\"")) forwarded.add(text);
                toServer.send(text);
            });
            toServer.onMessage(f -> toPage.send(f.text()));
        });
        ChatPage a = new ChatPage(alicePage, "alice", server.baseUrl()).register(ParleyServer.unique("alice"), "alice-password").join(room);

        a.page.evaluate("room => { for (let i = 1; i <= 12; i++) window.parleyApp.client.send(room, 'burst ' + i); }", room);
        a.page.waitForFunction("() => document.querySelectorAll('#messages li.message[data-status=sent]').length === 12",
                null, new Page.WaitForFunctionOptions().setTimeout(20_000));

        List<String> typed = java.util.stream.IntStream.rangeClosed(1, 12).mapToObj(i -> "burst " + i).toList();
        assertThat(refused).isTrue();
        assertThat(a.page.locator("#messages li.message[data-status=failed]")).hasCount(0);
        assertThat(forwarded).as("each send once, in the typed order").hasSize(12);
        for (int i = 0; i < 12; i++) assertThat(forwarded.get(i)).contains("\"text\":\"" + typed.get(i) + "\"");
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages?limit=100", server.newUser("reader"));
        List<String> stored = new ArrayList<>();
        history.json().get("messages").forEach(m -> stored.add(m.get("text").asText()));
        assertThat(stored).isEqualTo(typed);
        assertThat(a.texts()).isEqualTo(typed);
    }

    @Test
    void a_send_refused_for_the_rate_by_a_stricter_server_waits_and_goes_again_by_itself() {
        String room = room("strict");
        ChatPage a = member("alice", room);
        // As if the server's limit were stricter than the page's pace: the bucket is emptied by a
        // burst sent past the pacer, straight on the socket.
        a.page.evaluate("room => { const c = window.parleyApp.client; for (let i = 1; i <= 45; i++) "
                + "c._ws.send(JSON.stringify({type: 'send', room, text: 'raw ' + i, clientId: 'raw-' + i})); "
                + "c.send(room, 'after the burst'); }", room);

        assertThat(a.message("after the burst")).hasAttribute("data-status", "sent", new LocatorAssertions.HasAttributeOptions().setTimeout(20_000));
        assertThat(a.page.locator("#messages li.message[data-status=failed]")).hasCount(0);
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages?limit=100", server.newUser("reader"));
        List<String> texts = new java.util.ArrayList<>();
        history.json().get("messages").forEach(m -> texts.add(m.get("text").asText()));
        assertThat(texts).containsOnlyOnce("after the burst");
    }

    @Test
    void the_sign_in_form_shows_the_servers_errors_next_to_the_fields() {
        String taken = ParleyServer.unique("carol");
        server.http().register(taken);
        ChatPage p = page("visitor");
        Locator error = p.authError();
        assertThat(error).isHidden();

        p.fillCredentials(taken, "another-password");
        p.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign up")).click();
        assertThat(error).isVisible();
        assertThat(error).hasText("The username “" + taken + "” is taken. Pick another one, or log in if it is yours.");
        assertThat(p.page.locator("#username")).hasAttribute("aria-invalid", "true");

        p.fillCredentials(taken, "not-the-password");
        p.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log in")).click();
        assertThat(error).hasText("Wrong username or password.");

        p.fillCredentials(ParleyServer.unique("dave"), "short");
        p.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign up")).click();
        assertThat(error).hasText("Password must be 8 to 128 characters.");
        assertThat(p.page.locator("#password")).hasAttribute("aria-invalid", "true");
        assertThat(p.page.locator("#password")).isFocused();

        p.fillCredentials("no spaces allowed", "long-enough-password");
        p.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign up")).click();
        assertThat(error).hasText("Usernames are 3 to 32 characters: letters, digits, “.”, “_” or “-”.");
        assertThat(p.page.locator("#username")).hasAttribute("aria-invalid", "true");
        assertThat(p.page.locator("#password")).not().hasAttribute("aria-invalid", "true");

        // The message sits in the form, between the fields and the buttons, and is announced.
        assertThat(p.page.locator("#auth-form #auth-error[role=alert]")).hasCount(1);
        assertThat(error.boundingBox().y).isGreaterThan(p.page.locator("#password").boundingBox().y);
        assertThat(error.boundingBox().y).isLessThan(p.page.locator("#login-btn").boundingBox().y);
        assertThat(p.page.locator("#chat-view")).isHidden();
        Accessibility.assertContrast(p.page);

        p.login(taken, "password-" + taken);
        assertThat(error).isHidden();
    }

    @Test
    void presence_lists_both_people_and_typing_shows_on_the_other_side_then_fades() {
        String room = room("presence");
        ChatPage a = member("alice", room);
        ChatPage b = member("bob", room);
        String alice = a.me(), bob = b.me();
        for (ChatPage p : List.of(a, b)) {
            assertThat(p.page.locator("#presence-list > li")).hasCount(2);
            assertThat(p.page.locator("#presence-list > li[data-user='" + alice + "']")).isVisible();
            assertThat(p.page.locator("#presence-list > li[data-user='" + bob + "']")).isVisible();
            assertThat(p.page.locator("#online-count")).hasText("2 online");
        }
        assertThat(a.page.locator("#presence-list > li.me")).hasAttribute("data-user", alice);

        Locator typing = a.page.locator("#typing");
        assertThat(typing).hasAttribute("data-active", "false");
        b.composer().pressSequentially("I am wri");
        assertThat(typing).hasAttribute("data-active", "true");
        assertThat(typing).hasText(bob + " is typing…");
        assertThat(b.page.locator("#typing")).hasAttribute("data-active", "false"); // never for oneself
        // It fades by itself a few seconds (3) after the last typing event: not at once, and not never.
        assertThat(typing).hasAttribute("data-active", "false");
        assertThat(a.lastTypingSpell()).isBetween(2_500.0, 4_500.0);
        assertThat(typing).isHidden();

        // Typing again shows it again; the message itself ends it at once.
        b.composer().pressSequentially("ting");
        assertThat(typing).hasAttribute("data-active", "true");
        b.composer().press("Enter");
        assertThat(a.message("I am writing")).isVisible();
        assertThat(typing.getAttribute("data-active")).isEqualTo("false");

        // Leaving takes bob out of alice's list.
        b.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log out").setExact(true)).click();
        assertThat(a.page.locator("#presence-list > li")).hasCount(1);
        assertThat(a.page.locator("#online-count")).hasText("1 online");
    }

    @Test
    void the_page_takes_no_string_as_markup_or_script_trusted_types() {
        ChatPage a = new ChatPage(browser.newPage("alice"), "alice", server.baseUrl())
                .register(ParleyServer.unique("alice"), "alice-password").join(room("tt"));
        a.send("hello");
        assertThat(a.messages().last()).hasAttribute("data-status", "sent");
        // A bug that let a string reach one of these would be refused by the browser, not run.
        Object outcome = a.eval("() => ['innerHTML', 'script'].map(sink => { try {"
                + " if (sink === 'innerHTML') document.createElement('div').innerHTML = '<img src=x onerror=1>';"
                + " else document.createElement('script').text = 'window.__tt = 1';"
                + " return sink + ' taken'; } catch (e) { return sink + ' ' + e.name; } }).join(', ')");
        assertThat(outcome).isEqualTo("innerHTML TypeError, script TypeError");
        // Each refusal is also reported as a violation of the policy (on the console, a moment later).
        List<String> reported = new java.util.ArrayList<>();
        dev.parley.testing.Await.until("two violations reported", java.time.Duration.ofSeconds(10), () -> {
            a.page.waitForTimeout(50); // Playwright hands events over only while a call of it runs
            reported.addAll(browser.takeProblems(a.page));
            return reported.size() >= 2;
        });
        assertThat(reported).hasSize(2).allMatch(p -> p.contains("require-trusted-types-for"));
    }

    @Test
    void hostile_text_and_names_render_as_plain_text_and_never_run() {
        String room = room("xss");
        // Without the CSP, which would block injected handlers even if the client let markup through.
        ChatPage a = new ChatPage(browser.newPageWithoutCsp("alice"), "alice", server.baseUrl())
                .register(ParleyServer.unique("alice"), "alice-password").join(room);
        // Usernames are restricted at sign-up, but an identity provider may issue any `sub`: mint one.
        String hostile = "<svg onload=window.__xss=1><script>window.__xss=1</script>";
        ChatPage m = new ChatPage(browser.newPageWithoutCsp("mallory"), "mallory", server.baseUrl())
                .signInWithSession(server.server().tokens().startSession(hostile, 0)).join(room);

        m.composer().pressSequentially("<b>");
        assertThat(a.page.locator("#typing")).hasText(hostile + " is typing…");
        m.send(IMG_XSS);
        m.sendAcked(SCRIPT_XSS);
        a.send(IMG_XSS + " " + SCRIPT_XSS);
        String links = "javascript:window.__xss=1 https://example.com/\"onmouseover=\"window.__xss=1";
        a.send(links);

        List<String> expected = List.of(IMG_XSS, SCRIPT_XSS, IMG_XSS + " " + SCRIPT_XSS, links);
        for (ChatPage p : List.of(a, m)) {
            assertThat(p.messages()).hasCount(4);
            assertThat(p.messages().last()).hasAttribute("data-status", "sent");
            assertThat(p.texts()).isEqualTo(expected);
            assertThat(p.messages().nth(0).locator(".from")).hasText(hostile);
            assertThat(p.page.locator("#presence-list > li")).hasCount(2);
            assertThat(p.page.locator("#presence-list")).containsText(hostile);
            // Nothing was parsed as markup anywhere, and no handler ran.
            assertThat(p.page.locator("img, svg, script:not([src]), #messages b, [onerror], [onload], [onmouseover]")).hasCount(0);
            assertThat(p.eval("() => typeof window.__xss")).isEqualTo("undefined");
            // Only the http(s) URL became a link, cut before the quote.
            assertThat(p.page.locator("#messages a")).hasCount(1);
            assertThat(p.page.locator("#messages a")).hasAttribute("href", "https://example.com/");
            assertThat(p.page.locator("#messages a")).hasAttribute("rel", "noopener noreferrer nofollow");
        }
        assertThat(m.page.locator("#me")).hasText(hostile);

        // The room field rejects markup instead of using it.
        a.page.getByLabel("Join or create a room").fill(IMG_XSS);
        a.page.getByLabel("Join or create a room").press("Enter");
        assertThat(a.page.locator("#room-error")).containsText("Room names are");
        assertThat(a.page.locator("#room-list > li[data-joined=true]")).hasCount(1);
        assertThat(a.page.locator("img, svg")).hasCount(0);
        assertThat(a.eval("() => typeof window.__xss")).isEqualTo("undefined");
    }

    @Test
    void text_typed_in_one_room_stays_with_that_room_and_is_never_sent_to_another() {
        String first = room("draft-a"), second = room("draft-b");
        ChatPage a = member("alice", first);
        a.join(second);
        a.switchTo(first);
        a.composer().fill("meant for the first room");

        a.switchTo(second);
        assertThat(a.composer()).hasValue("");
        a.composer().press("Enter");
        a.composer().fill("meant for the second room");
        a.switchTo(first);
        assertThat(a.composer()).hasValue("meant for the first room");
        a.composer().press("Enter");
        assertThat(a.message("meant for the first room")).hasAttribute("data-status", "sent");
        a.switchTo(second);
        assertThat(a.composer()).hasValue("meant for the second room");

        assertThat(a.messages()).hasCount(0);
        String reader = server.newUser("reader");
        assertThat(server.http().get("/api/rooms/" + second + "/messages", reader).json().get("messages")).isEmpty();
        assertThat(server.http().get("/api/rooms/" + first + "/messages", reader).json().get("messages")).hasSize(1);
    }

    @Test
    void text_typed_when_the_session_expires_is_there_again_after_logging_back_in() {
        String room = room("expiring");
        String name = ParleyServer.unique("alice");
        server.http().register(name); // with the password "password-" + name
        ChatPage a = page("alice")
                .signInWithSession(server.server().tokens().startSession(name, 0, java.time.Instant.now().plusSeconds(6)))
                .join(room);
        a.composer().fill("half a thought");

        assertThat(a.authError()).hasText("Your session has expired. Please log in again.",
                new LocatorAssertions.HasTextOptions().setTimeout(20_000));
        a.login(name, "password-" + name);

        assertThat(a.page.locator("#current-room")).hasText(room);
        assertThat(a.composer()).hasValue("half a thought");
        assertThat(a.messages()).hasCount(0);
    }

    @Test
    void logging_out_in_one_tab_signs_out_the_others() {
        String room = room("two-tabs");
        ChatPage a = member("alice", room);
        ChatPage second = new ChatPage(a.page.context().newPage(), "alice's second tab", server.baseUrl());
        second.expectSignedIn(a.me());

        a.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log out").setExact(true)).click();

        assertThat(second.page.locator("#auth-view")).isVisible();
        assertThat(second.page.locator("#chat-view")).isHidden();
        assertThat(second.page.locator("#auth-error")).hasText("You signed out in another tab.");
    }

    @Test
    void a_reload_keeps_the_session_the_rooms_and_the_history_and_log_out_returns_to_the_form() {
        String first = room("first"), second = room("second");
        ChatPage a = member("alice", first);
        String alice = a.me();
        a.send("one in the first room");
        a.send("two in the first room");
        a.join(second);
        a.send("one in the second room");
        assertThat(a.messages().last()).hasAttribute("data-status", "sent");

        a.page.reload();
        a.expectSignedIn(alice);
        assertThat(a.page.locator("#current-room")).hasText(second);
        assertThat(a.page.locator("#room-list > li[data-joined=true]")).hasCount(2);
        assertThat(a.messages()).hasCount(1);
        assertThat(a.message("one in the second room")).hasAttribute("data-seq", "1");
        a.switchTo(first);
        assertThat(a.messages()).hasCount(2);
        assertThat(a.texts()).containsExactly("one in the first room", "two in the first room");
        assertThat(a.seqs()).containsExactly(1L, 2L);
        a.send("three, after the reload");
        assertThat(a.messages().last()).hasAttribute("data-seq", "3");

        a.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Log out").setExact(true)).click();
        assertThat(a.page.locator("#auth-view")).isVisible();
        assertThat(a.page.locator("#chat-view")).isHidden();
        assertThat(a.page.locator("#messages li.message")).hasCount(0);
        assertThat(a.eval("() => localStorage.getItem('parley.session')")).isNull();
        a.page.reload();
        assertThat(a.page.locator("#auth-view")).isVisible();
        assertThat(a.page.locator("#chat-view")).isHidden();
        assertThat(a.page.getByLabel("Username")).isFocused();
    }

    @Test
    void after_a_server_restart_both_pages_reconnect_by_themselves_and_show_every_message_once_in_order() {
        String room = room("restart");
        ChatPage a = member("alice", room);
        ChatPage b = member("bob", room);
        a.sendAcked("before the restart, from alice");
        b.send("before the restart, from bob");
        assertThat(a.messages()).hasCount(2);
        assertThat(b.messages()).hasCount(2);

        // stop() and start() rather than restart(), to look at the pages while the server is away.
        server.with(Setting.PORT, String.valueOf(server.port()));
        server.stop();
        Locator offline;
        try {
            for (ChatPage p : List.of(a, b)) {
                assertThat(p.connStatus()).isVisible();
                assertThat(p.connStatus()).hasAttribute("data-state", "reconnecting");
                assertThat(p.connStatus()).hasText("Reconnecting…");
            }
            Accessibility.assertContrast(a.page); // the banner is readable
            a.send("typed while the server was down");
            offline = a.message("typed while the server was down");
            assertThat(offline).hasAttribute("data-status", "sending");
        } finally {
            server.start(); // whatever happened, the next tests need it
        }
        String clientId = offline.getAttribute("data-client-id");

        // The retry delay has grown while the server was away (at most 30 s between attempts, PROTOCOL.md 10).
        var reconnect = new LocatorAssertions.HasAttributeOptions().setTimeout(Duration.ofSeconds(45).toMillis());
        for (ChatPage p : List.of(a, b)) {
            assertThat(p.connStatus()).hasAttribute("data-state", "open", reconnect);
            assertThat(p.connStatus()).isHidden();
        }
        assertThat(offline).hasAttribute("data-status", "sent");
        assertThat(offline).hasAttribute("data-seq", "3");
        for (ChatPage p : List.of(a, b)) assertThat(p.page.locator("#presence-list > li")).hasCount(2);
        b.sendAcked("after the restart, from bob");
        a.sendAcked("after the restart, from alice");
        b.send("and the last one");

        List<String> expected = List.of("before the restart, from alice", "before the restart, from bob",
                "typed while the server was down", "after the restart, from bob", "after the restart, from alice", "and the last one");
        for (ChatPage p : List.of(a, b)) {
            assertThat(p.messages()).hasCount(expected.size());
            assertThat(p.messages().last()).hasAttribute("data-status", "sent");
            assertThat(p.seqs()).as("seqs on %s", p.name).isEqualTo(range(1, expected.size()));
            assertThat(p.texts()).as("texts on %s", p.name).isEqualTo(expected);
        }
        // The message sent while offline was stored once, under the clientId the page gave it.
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages", server.newUser("reader"));
        assertThat(history.status()).isEqualTo(200);
        List<JsonNode> stored = new ArrayList<>();
        history.json().get("messages").forEach(stored::add);
        assertThat(stored).hasSize(expected.size());
        assertThat(stored.stream().filter(n -> n.get("text").asText().equals("typed while the server was down")))
                .singleElement().satisfies(n -> assertThat(n.get("clientId").asText()).isEqualTo(clientId));
    }

    @Test
    void a_message_whose_ack_was_lost_is_resent_under_the_same_client_id_and_shown_once() {
        String room = room("lost-ack");
        // Alice's WebSocket goes through the test, which can go deaf to the server and then cut the line.
        AtomicBoolean deaf = new AtomicBoolean();
        List<String> sends = new CopyOnWriteArrayList<>();
        List<WebSocketRoute[]> lines = new CopyOnWriteArrayList<>();
        Page alicePage = browser.newPage("alice");
        alicePage.routeWebSocket(url -> url.contains("/ws"), toPage -> {
            WebSocketRoute toServer = toPage.connectToServer();
            lines.add(new WebSocketRoute[] {toPage, toServer});
            toPage.onMessage(f -> {
                if (f.text().contains("\"type\":\"send\"")) sends.add(f.text());
                toServer.send(f.text());
            });
            toServer.onMessage(f -> {
                if (!deaf.get()) toPage.send(f.text());
            });
        });
        ChatPage a = new ChatPage(alicePage, "alice", server.baseUrl()).register(ParleyServer.unique("alice"), "alice-password").join(room);
        ChatPage b = member("bob", room);
        a.send("the first one");
        assertThat(b.messages()).hasCount(1);

        deaf.set(true);
        a.send("its ack gets lost");
        assertThat(b.message("its ack gets lost")).isVisible(); // stored and delivered: only alice did not hear back
        Locator lost = a.message("its ack gets lost");
        assertThat(lost).hasAttribute("data-status", "sending");
        String clientId = lost.getAttribute("data-client-id");
        deaf.set(false);
        WebSocketRoute[] line = lines.get(lines.size() - 1);
        line[1].close();
        line[0].close(new WebSocketRoute.CloseOptions().setCode(1001).setReason("test cut the line"));

        assertThat(lost).hasAttribute("data-status", "sent");
        assertThat(lost).hasAttribute("data-seq", "2");
        assertThat(a.connStatus()).isHidden();
        assertThat(lines).hasSize(2);
        a.send("and one after it");
        for (ChatPage p : List.of(a, b)) {
            assertThat(p.messages()).hasCount(3);
            assertThat(p.messages().last()).hasAttribute("data-status", "sent");
            assertThat(p.seqs()).containsExactly(1L, 2L, 3L);
            assertThat(p.texts()).containsExactly("the first one", "its ack gets lost", "and one after it");
        }
        // The page sent it again under the same clientId, and the server kept a single copy.
        assertThat(sends.stream().filter(f -> f.contains(clientId))).hasSize(2);
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages", server.newUser("reader"));
        assertThat(history.json().get("messages")).hasSize(3);
    }

    /**
     * Faults on the page's own WebSocket, set from the test through {@code window.__line}: deaf (frames
     * from the server are dropped), mute (frames to it are dropped), and {@code cut()}. It is installed
     * again on every load, with no fault, and lets the page reload with its socket open, which a
     * Playwright route cannot (Playwright-Java fails on a routed socket the page closes itself).
     */
    private static final String FAULTY_LINE = """
            (() => {
              const Native = window.WebSocket;
              const line = window.__line = { deaf: false, mute: false, sockets: [], cut() { this.sockets.at(-1)?.close(3000, 'test cut the line'); } };
              window.WebSocket = class extends Native {
                constructor(...args) { super(...args); line.sockets.push(this); }
                send(data) { if (!line.mute) super.send(data); }
                get onmessage() { return super.onmessage; }
                set onmessage(fn) { super.onmessage = (ev) => { if (!line.deaf) fn(ev); }; }
              };
            })();
            """;

    @Test
    void messages_not_yet_acknowledged_outlive_a_reload_and_are_stored_once() {
        String room = room("reload-unsent");
        String alice = ParleyServer.unique("alice");
        Page alicePage = browser.newPage("alice");
        alicePage.addInitScript(FAULTY_LINE);
        ChatPage a = new ChatPage(alicePage, "alice", server.baseUrl()).register(alice, "alice-password").join(room);
        ChatPage b = member("bob", room);
        a.send("the first one");
        assertThat(b.messages()).hasCount(1);

        a.eval("() => { window.__line.deaf = true; }");
        a.send("stored, but the reload cut off its ack");
        assertThat(b.message("stored, but the reload cut off its ack")).isVisible();
        String cutOff = a.message("stored, but the reload cut off its ack").getAttribute("data-client-id");
        // A server out of reach behind a proxy: the line opens again, then carries nothing.
        a.eval("() => { window.__line.mute = true; window.__line.cut(); }");
        a.send("typed while the server was out of reach");
        Locator offline = a.message("typed while the server was out of reach");
        assertThat(offline).hasAttribute("data-status", "sending");
        String typedOffline = offline.getAttribute("data-client-id");
        assertThat(a.message("stored, but the reload cut off its ack")).hasAttribute("data-status", "sending");

        a.page.reload(); // the line is whole again after it
        a.expectSignedIn(alice);
        List<String> expected = List.of("the first one", "stored, but the reload cut off its ack", "typed while the server was out of reach");
        for (ChatPage p : List.of(a, b)) {
            assertThat(p.messages()).hasCount(3);
            assertThat(p.messages().last()).hasAttribute("data-status", "sent");
            assertThat(p.seqs()).as("seqs on %s", p.name).containsExactly(1L, 2L, 3L);
            assertThat(p.texts()).as("texts on %s", p.name).isEqualTo(expected);
        }
        assertThat(a.page.locator("#messages li.message[data-status=sending]")).hasCount(0);
        // Each stored once, under the clientId the page gave it before the reload.
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages", server.newUser("reader"));
        List<String> clientIds = new ArrayList<>();
        history.json().get("messages").forEach(n -> clientIds.add(n.get("clientId").asText()));
        assertThat(clientIds).hasSize(3).endsWith(cutOff, typedOffline);

        // Nothing is left to send: another reload shows the same three, none of them pending.
        a.page.reload();
        a.expectSignedIn(alice);
        assertThat(a.messages()).hasCount(3);
        assertThat(a.texts()).isEqualTo(expected);
        assertThat(a.page.locator("#messages li.message[data-status=sending]")).hasCount(0);
        assertThat(a.eval("() => Object.keys(sessionStorage).filter(k => k.startsWith('parley.unsent'))")).isEqualTo(List.of());
    }

    @Test
    void rooms_not_in_view_count_unread_messages_until_opened() {
        String general = room("general"), random = room("random");
        ChatPage a = member("alice", general).join(random);
        ChatPage b = member("bob", general).join(random);
        assertThat(a.page.locator("#current-room")).hasText(random);

        b.switchTo(general);
        b.send("news one");
        b.send("news two");
        b.send("news three");
        Locator badge = a.roomItem(general).locator(".unread");
        assertThat(badge).isVisible();
        assertThat(badge).hasText("3");
        assertThat(a.roomItem(random).locator(".unread")).isHidden();
        assertThat(a.page).hasTitle("(3) Parley");
        assertThat(a.messages()).hasCount(0);

        a.switchTo(general);
        assertThat(a.roomItem(general)).hasAttribute("data-current", "true");
        assertThat(badge).isHidden();
        assertThat(a.page).hasTitle("Parley");
        assertThat(a.texts()).containsExactly("news one", "news two", "news three");

        b.switchTo(random);
        b.send("over here");
        assertThat(a.roomItem(random).locator(".unread")).hasText("1");
        assertThat(a.messages()).hasCount(3); // the room in view did not change
        a.switchTo(random);
        assertThat(a.roomItem(random).locator(".unread")).isHidden();
        assertThat(a.texts()).containsExactly("over here");
        assertThat(a.roomItem(general).locator(".unread")).isHidden();
    }

    @Test
    void scrolling_up_loads_older_history_page_by_page_keeping_the_place() {
        String room = room("history");
        seed(room, 120);
        ChatPage a = member("alice", room);
        assertThat(a.messages()).hasCount(50); // only the newest page at first
        assertThat(a.seqs()).isEqualTo(range(71, 120));
        assertThat(a.messages().last()).isInViewport();

        a.scrollMessagesToTop();
        assertThat(a.messages()).hasCount(100);
        assertThat(a.seqs()).isEqualTo(range(21, 120));
        // The page grew above what the reader was looking at; the view did not jump to the top.
        assertThat(a.page.locator("#messages li.message[data-seq='71']")).isInViewport();
        assertThat(a.page.locator("#messages li.message[data-seq='21']")).not().isInViewport();

        a.scrollMessagesToTop();
        assertThat(a.messages()).hasCount(120);
        assertThat(a.seqs()).isEqualTo(range(1, 120));
        assertThat(a.texts().get(0)).isEqualTo("seeded 1");
        assertThat(a.texts().get(119)).isEqualTo("seeded 120");
        a.scrollMessagesToTop();
        Locator beginning = a.page.locator("#messages .history-marker");
        assertThat(beginning).hasText("This is the beginning of #" + room + ".");
        assertThat(beginning).isInViewport();
        assertThat(a.messages()).hasCount(120);

        // A new message while reading old ones: the view stays, a button offers to jump down.
        Locator jump = a.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("New messages"));
        assertThat(jump).isHidden();
        ChatPage b = member("bob", room);
        b.send("something new");
        assertThat(a.messages()).hasCount(121);
        assertThat(jump).isVisible();
        assertThat(beginning).isInViewport();
        jump.click();
        assertThat(a.message("something new")).isInViewport();
        assertThat(jump).isHidden();
    }

    /** Posts n messages "seeded 1".."seeded n" in order, through the WebSocket API. */
    private void seed(String room, int n) {
        String token = server.newUser("seeder");
        int perConnection = 30; // under the default burst of 40 sends per connection
        for (int start = 1; start <= n; start += perConnection) {
            try (WsClient ws = server.connect(token)) {
                ws.send("type", "join", "room", room, "ref", "j");
                ws.await("joined", "j");
                for (int i = start; i < Math.min(n + 1, start + perConnection); i++) {
                    ws.send("type", "send", "room", room, "text", "seeded " + i, "clientId", "seed-" + i, "ref", "s" + i);
                    ws.await("ack", "s" + i);
                }
            }
        }
    }

    @Test
    void on_a_phone_the_page_fits_the_screen_and_enter_sends_while_shift_enter_breaks_the_line() {
        String room = room("phone");
        ChatPage phone = new ChatPage(browser.newPhonePage("phone", 360, 740), "phone", server.baseUrl());
        assertThat(phone.horizontalOverflow()).as("sign-in screen overflow").isZero();
        phone.register(ParleyServer.unique("pat"), "pat-password").join(room);
        ChatPage desk = member("desk", room);
        assertThat(phone.horizontalOverflow()).as("chat screen overflow").isZero();

        phone.composer().pressSequentially("line one");
        phone.composer().press("Shift+Enter");
        phone.composer().pressSequentially("line two");
        assertThat(phone.composer()).hasValue("line one\nline two");
        phone.composer().press("Enter");
        assertThat(phone.composer()).hasValue("");
        phone.composer().fill("sent with a tap");
        phone.page.locator("#send-btn").tap();
        assertThat(phone.message("sent with a tap")).hasAttribute("data-status", "sent");
        assertThat(phone.composer()).isFocused(); // the keyboard stays up for the next message
        assertThat(desk.messages()).hasCount(2);
        assertThat(desk.texts()).containsExactly("line one\nline two", "sent with a tap");
        assertThat(desk.messages().first().locator(".text")).hasText("line one\nline two"); // rendered on two lines
        assertThat(desk.messages().first().locator(".text").evaluate("e => e.getClientRects()[0].height > 1.5 * parseFloat(getComputedStyle(e).lineHeight)"))
                .isEqualTo(true);

        desk.send("x".repeat(300));
        desk.send("https://example.com/" + "very-long-path/".repeat(20));
        desk.send("Messages from the big screen arrive on the phone too.");
        assertThat(phone.messages()).hasCount(5);
        assertThat(phone.texts().get(4)).isEqualTo("Messages from the big screen arrive on the phone too.");
        assertThat(phone.horizontalOverflow()).as("overflow with long words").isZero();
        for (String selector : List.of("#composer", "#send-btn", "#messages li.message >> nth=1", "#current-room")) {
            var box = phone.page.locator(selector).boundingBox();
            assertThat(box.x + box.width).as("right edge of %s", selector).isLessThanOrEqualTo(360.5);
        }
        phone.page.locator("#send-btn").scrollIntoViewIfNeeded();
        assertThat(phone.page.locator("#send-btn")).isInViewport();
    }

    @Test
    void every_field_has_a_label_focus_is_visible_and_text_contrast_meets_wcag_aa() {
        ChatPage p = page("a11y");
        Accessibility.assertLabelled(p.page);
        assertThat(p.page.getByLabel("Username")).isFocused(); // where the page puts it
        Accessibility.assertFocusVisible(p.page);
        p.page.keyboard().press("Tab");
        assertThat(p.page.getByLabel("Password", new Page.GetByLabelOptions().setExact(true))).isFocused();
        Accessibility.assertFocusVisible(p.page);
        p.page.keyboard().press("Tab");
        assertThat(p.page.locator("#login-btn")).isFocused();
        Accessibility.assertFocusVisible(p.page);
        Accessibility.assertContrast(p.page);

        String room = room("a11y");
        p.register(ParleyServer.unique("ada"), "ada-password").join(room);
        ChatPage other = member("grace", room);
        other.send("Contrast check: a message from someone else, with a link https://example.com/");
        p.send("And one of ours.");
        assertThat(p.messages()).hasCount(2);
        Accessibility.assertLabelled(p.page);
        p.composer().focus();
        p.page.keyboard().press("Shift+Tab");
        p.page.keyboard().press("Tab");
        assertThat(p.composer()).isFocused();
        Accessibility.assertFocusVisible(p.page);
        Accessibility.assertContrast(p.page);
    }

    @Test
    void the_example_in_web_client_md_works() throws IOException {
        Matcher example = Pattern.compile("```html\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(Path.of("docs", "WEB_CLIENT.md")));
        assertThat(example.find()).as("an html example in docs/WEB_CLIENT.md").isTrue();
        // The example logs in as alice / alice-password; this class's server has a data dir of its own.
        assertThat(server.http().post("/api/auth/register", "{\"username\":\"alice\",\"password\":\"alice-password\"}").status())
                .isEqualTo(201);
        // The example must run in a document of the server's origin, without the CSP of the bundled
        // client (it is the user's own page). A document Playwright fulfills itself counts as a
        // public one for Chromium's Local Network Access checks, which then refuse the WebSocket to
        // 127.0.0.1; so the example is written into a document the server served.
        Page minimal = browser.newPageWithoutCsp("example");
        minimal.navigate(server.baseUrl() + "/health/live");
        minimal.setContent(example.group(1));
        assertThat(minimal).hasTitle("Parley (open)");

        ChatPage b = member("bob", "general");
        b.send("hello from the full client");
        Locator lines = minimal.locator("#log li");
        assertThat(lines).hasText(new String[] {b.me() + ": hello from the full client"});
        minimal.getByLabel("Message").fill("hi from the minimal page");
        minimal.getByLabel("Message").press("Enter");
        assertThat(b.message("hi from the minimal page")).hasAttribute("data-from", "alice");
        String[] both = {b.me() + ": hello from the full client", "alice: hi from the minimal page"};
        assertThat(lines).hasText(both);
        minimal.navigate(server.baseUrl() + "/health/live"); // open it again: now both come from the history
        minimal.setContent(example.group(1));
        assertThat(lines).hasText(both);
    }
}
