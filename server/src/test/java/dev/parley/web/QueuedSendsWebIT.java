package dev.parley.web;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.LocatorAssertions;
import dev.parley.testing.Chromium;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Messages written while the page cannot reach the chat (its WebSocket cannot be opened) wait in the
 * tab, are shown as waiting through reloads, and go out once each, under the clientId they were given
 * when typed, when the page can connect again. On a phone, where reloads (and tabs the system
 * reloads) are common.
 */
class QueuedSendsWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    private static final String TICKETS = "**/api/auth/ticket";

    @Test
    void on_a_phone_messages_queued_offline_are_shown_waiting_through_reloads_and_sent_once_each() {
        String room = "queued-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        String pat = ParleyServer.unique("pat");
        Page phone = browser.newPhonePage("pat", 390, 844);
        ChatPage a = new ChatPage(phone, "pat", server.baseUrl()).register(pat, "pat-password").join(room);
        ChatPage b = new ChatPage(browser.newPage("bob"), "bob", server.baseUrl())
                .register(ParleyServer.unique("bob"), "bob-password").join(room);
        a.send("the first one");
        assertThat(b.messages()).hasCount(1);

        // The chat out of reach: no WebSocket can be opened (every ticket request fails), the open one drops.
        phone.route(TICKETS, route -> route.abort());
        a.eval("() => window.parleyApp.client._ws.close()");
        assertThat(a.connStatus()).hasText("Reconnecting…");
        a.send("queued one");
        a.send("queued two");
        Locator waiting = phone.locator("#messages li.message[data-status=sending]");
        assertThat(waiting).hasCount(2);
        List<String> ids = waitingIds(a);

        for (int reload = 1; reload <= 2; reload++) {
            phone.reload();
            a.expectSignedIn(pat);
            assertThat(a.page.locator("#current-room")).hasText(room);
            assertThat(a.connStatus()).isVisible();
            assertThat(waiting).hasCount(2);
            assertThat(waiting.locator(".status")).hasText(new String[] {"Sending…", "Sending…"});
            assertThat(waiting.locator(".text")).hasText(new String[] {"queued one", "queued two"});
            assertThat(waitingIds(a)).as("clientIds after reload %d", reload).isEqualTo(ids);
        }
        assertThat(b.messages()).hasCount(1); // nothing went out meanwhile

        phone.unroute(TICKETS);
        // The page reconnects by itself (its retries are at most 30 s apart, PROTOCOL.md 10), and sends them.
        assertThat(waiting).hasCount(0, new LocatorAssertions.HasCountOptions().setTimeout(45_000));
        List<String> expected = List.of("the first one", "queued one", "queued two");
        for (ChatPage p : List.of(a, b)) {
            assertThat(p.messages()).hasCount(3);
            assertThat(p.texts()).as("texts on %s", p.name).isEqualTo(expected);
            assertThat(p.seqs()).as("seqs on %s", p.name).containsExactly(1L, 2L, 3L);
        }
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages", server.newUser("reader"));
        List<String> stored = new ArrayList<>();
        history.json().get("messages").forEach(n -> stored.add(n.get("clientId").asText()));
        assertThat(stored).hasSize(3).endsWith(ids.toArray(String[]::new));

        phone.reload();
        a.expectSignedIn(pat);
        assertThat(a.messages()).hasCount(3);
        assertThat(waiting).hasCount(0);
        assertThat(a.eval("() => Object.keys(sessionStorage).filter(k => k.startsWith('parley.unsent'))")).isEqualTo(List.of());
    }

    @SuppressWarnings("unchecked")
    private static List<String> waitingIds(ChatPage p) {
        return (List<String>) p.page.locator("#messages li.message[data-status=sending]").evaluateAll("els => els.map(e => e.dataset.clientId)");
    }
}
