package dev.parley.web;

import com.microsoft.playwright.Locator;
import dev.parley.testing.Chromium;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Message texts, topics and ban reasons may hold bidi controls (PROTOCOL.md 3.4): U+202E RIGHT-TO-LEFT
 * OVERRIDE shows what follows it reversed, up to the end of its paragraph. The web client shows
 * each such string as a bidi isolate, so that it reverses nothing outside itself: not the sender's
 * name, not the page's own words after it. Checked where Chromium lays the characters out.
 */
class BidiWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    /**
     * Whether the characters of the element's text (or of its one text node that contains {@code part})
     * are laid out left to right in their order, as Latin letters are when nothing reverses them.
     */
    private static final String IN_ORDER = """
            (el, part) => {
              const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
              const xs = [];
              for (let n; (n = walker.nextNode());) {
                if (part && !n.data.includes(part)) continue;
                const from = part ? n.data.indexOf(part) : 0, to = part ? from + part.length : n.length;
                for (let i = from; i < to; i++) {
                  const r = document.createRange();
                  r.setStart(n, i);
                  r.setEnd(n, i + 1);
                  const box = r.getBoundingClientRect();
                  if (box.width > 0) xs.push(box.left);
                }
              }
              return xs.length > 1 && xs.every((x, i) => i === 0 || x > xs[i - 1]);
            }""";

    private static boolean inOrder(Locator el, String part) {
        return (Boolean) el.evaluate(IN_ORDER, part);
    }

    @Test
    void a_text_with_bidi_overrides_reverses_neither_its_senders_name_nor_the_words_around_it() {
        String room = "bidi-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        String alice = ParleyServer.unique("alice"), mallory = ParleyServer.unique("mallory"), carol = ParleyServer.unique("carol");
        String aliceToken = server.http().register(alice);
        assertThat(server.http().request("POST", "/api/rooms", aliceToken,
                "{\"name\":\"" + room + "\",\"visibility\":\"public\",\"topic\":\"\\u202Eon call\"}").status()).isEqualTo(201);
        ChatPage c = new ChatPage(browser.newPage("carol"), "carol", server.baseUrl()).register(carol, "carol-password").join(room);

        // A text that turns the rest of its line right to left, and one that first tries to close the
        // isolate it is in (a stray U+2069 POP DIRECTIONAL ISOLATE) to reach what comes after it.
        String reversing = "\u202Ethis runs right to left", escaping = "\u2069\u202Eand this tries to get out";
        try (WsClient m = server.connect(server.http().register(mallory))) {
            m.send("type", "join", "room", room, "ref", "j").await("joined", "j");
            m.send("type", "send", "room", room, "text", reversing, "clientId", "m-1", "ref", "s1").await("ack", "s1");
            m.send("type", "send", "room", room, "text", escaping, "clientId", "m-2", "ref", "s2").await("ack", "s2");
        }
        assertThat(c.messages()).hasCount(2);
        for (int i = 0; i < 2; i++) {
            Locator line = c.messages().nth(i), from = line.locator(".from");
            assertThat(from).hasText(mallory);
            assertThat(inOrder(from, null)).as("the name of message %d, left to right", i).isTrue();
            var name = from.boundingBox();
            var time = line.locator(".time").boundingBox();
            assertThat(name.x + name.width).as("the name stays before the time").isLessThanOrEqualTo(time.x);
            assertThat(from.evaluate("e => getComputedStyle(e).unicodeBidi")).isEqualTo("isolate");
            assertThat(line.locator(".text").evaluate("e => getComputedStyle(e).unicodeBidi")).isEqualTo("plaintext");
        }
        assertThat(c.texts()).containsExactly(reversing, escaping); // kept as sent
        assertThat(inOrder(c.page.locator("#current-room"), null)).isTrue();

        // The page's own sentence after a reason that reverses: "... Reason: <U+202E>spam. The ban ends ...".
        String until = Instant.now().plus(Duration.ofHours(2)).toString();
        assertThat(server.http().request("PUT", "/api/rooms/" + room + "/bans/" + carol, aliceToken,
                Http.JSON.createObjectNode().put("reason", "\u202Espam").put("until", until).toString()).status()).isEqualTo(204);
        assertThat(c.alert()).isVisible();
        Locator text = c.page.locator("#alert-text");
        assertThat(text).containsText("You were banned from #" + room + " by " + alice + ". Reason: \u202Espam. The ban ends ");
        assertThat(inOrder(text, "The ban ends")).as("the words after the reason, left to right").isTrue();
        assertThat(inOrder(text, "You were banned from")).as("the words before it").isTrue();
    }
}
