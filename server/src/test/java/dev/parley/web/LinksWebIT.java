package dev.parley.web;

import com.microsoft.playwright.Locator;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Links in messages end where the sentence around them takes over: its punctuation and a closing
 * bracket that opened before the link are text, while brackets that pair up inside a URL (a
 * Wikipedia title, a query) stay in it. What was typed is shown exactly, link or not.
 */
class LinksWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    @Test
    void a_link_in_parentheses_or_brackets_leaves_the_closing_one_to_the_text() {
        // message typed -> the URL of each link in it
        Map<String, List<String>> cases = new java.util.LinkedHashMap<>();
        cases.put("(see https://example.com/a_(b))", List.of("https://example.com/a_(b)"));
        cases.put("(https://example.com)", List.of("https://example.com"));
        cases.put("Read https://en.wikipedia.org/wiki/Set_(mathematics).", List.of("https://en.wikipedia.org/wiki/Set_(mathematics)"));
        cases.put("((https://example.com/deep)), then [https://example.com/x] and {https://example.com/y}!",
                List.of("https://example.com/deep", "https://example.com/x", "https://example.com/y"));
        cases.put("Query: https://example.com/q?a=(1)(2)), ok?", List.of("https://example.com/q?a=(1)(2)"));
        cases.put("A bare one: https://example.com/path) and http://example.org/, both.",
                List.of("https://example.com/path", "http://example.org/"));
        cases.put("Nothing after the scheme: https://) is no link", List.of());

        String room = "links-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        ChatPage a = new ChatPage(browser.newPage("alice"), "alice", server.baseUrl())
                .register(ParleyServer.unique("alice"), "alice-password").join(room);
        for (String text : cases.keySet()) a.send(text);
        assertThat(a.messages()).hasCount(cases.size());
        assertThat(a.messages().last()).hasAttribute("data-status", "sent");

        int n = 0;
        for (var c : cases.entrySet()) {
            Locator message = a.messages().nth(n++);
            assertThat(message.locator(".text")).hasText(c.getKey()); // every character shown, as typed
            Locator links = message.locator(".text a");
            assertThat(links).hasCount(c.getValue().size());
            for (int i = 0; i < c.getValue().size(); i++) {
                String url = c.getValue().get(i);
                assertThat(links.nth(i)).hasAttribute("href", url);
                assertThat(links.nth(i)).hasText(url);
            }
        }
    }

    @Test
    void a_direction_control_can_neither_reverse_a_link_on_screen_nor_hide_inside_one() {
        String room = "bidi-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        ChatPage a = new ChatPage(browser.newPage("alice"), "alice", server.baseUrl())
                .register(ParleyServer.unique("alice"), "alice-password").join(room);
        // A right-to-left override before the link: it drew "https://bank.com#/elpmaxe.live//:sptth".
        a.send("verify here: \u202Ehttps://evil.example/#moc.knab//:sptth");
        // Inside it: the link ends there.
        a.send("see https://a.example/\u202Ex");
        assertThat(a.messages()).hasCount(2);
        Locator first = a.messages().nth(0).locator(".text a");
        assertThat(first).hasAttribute("href", "https://evil.example/#moc.knab//:sptth");
        // The link's first character is drawn at its left edge: left to right, as it goes.
        Object offset = a.eval("() => { const el = document.querySelectorAll('#messages .text a')[0]; const r = document.createRange();"
                + " r.setStart(el.firstChild, 0); r.setEnd(el.firstChild, 1); return r.getBoundingClientRect().left - el.getBoundingClientRect().left; }");
        assertThat(((Number) offset).doubleValue()).as("where the link's first character is drawn, from its left edge").isLessThan(2.0);
        assertThat(a.messages().nth(1).locator(".text a")).hasAttribute("href", "https://a.example/");
    }
}
