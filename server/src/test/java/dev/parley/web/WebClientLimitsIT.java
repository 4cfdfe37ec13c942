package dev.parley.web;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import dev.parley.config.Setting;
import dev.parley.testing.Chromium;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web client against a server whose operator changed the limits (GET /api/limits): a stricter
 * rate and burst, a shorter text, another room-name rule. Every test here fails if the page keeps
 * to its own copy of the defaults instead of the server's values.
 */
class WebClientLimitsIT {
    private static final String ROOM_PATTERN = "^[A-Za-z0-9][A-Za-z0-9-]{0,11}$";

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.RATE_LIMIT, "2")
            .with(Setting.RATE_BURST, "3")
            .with(Setting.MAX_TEXT_LENGTH, "40")
            .with(Setting.ROOM_PATTERN, ROOM_PATTERN);
    @RegisterExtension
    static Chromium browser = Chromium.create();

    private static final AtomicInteger ROOMS = new AtomicInteger();

    /** A name this server's rule admits, and the default one too if {@code base} is lowercase. */
    private static String room(String base) {
        return base + ROOMS.incrementAndGet() + Long.toString(System.nanoTime() % 10_000, 36);
    }

    /** A page that logs its WebSocket frames, signed up through the form, in the given room. */
    private static ChatPage member(String name, String room) {
        Page page = browser.newPage(name);
        page.addInitScript(ChatPage.FRAME_LOG);
        return new ChatPage(page, name, server.baseUrl()).register(ParleyServer.unique(name), name + "-password").join(room);
    }

    @Test
    void a_burst_keeps_to_the_rate_and_burst_the_server_advertises_and_none_is_refused() {
        String room = room("pace");
        ChatPage a = member("alice", room);
        // 8 at once against 2 a second in bursts of 3: with the default pace (bursts of 40) the
        // server would refuse 5 of them for the rate.
        a.page.evaluate("room => { for (let i = 1; i <= 8; i++) window.parleyApp.client.send(room, 'paced ' + i); }", room);
        a.page.waitForFunction("() => document.querySelectorAll('#messages li.message[data-status=sent]').length === 8",
                null, new Page.WaitForFunctionOptions().setTimeout(30_000));

        assertThat(a.framesReceived()).noneMatch(f -> f.contains("\"rate_limited\""));
        assertThat(a.page.locator("#messages li.message[data-status=failed]")).hasCount(0);
        assertThat(a.connStatus()).hasAttribute("data-state", "open");
        Http.Response history = server.http().get("/api/rooms/" + room + "/messages", server.newUser("reader"));
        List<String> stored = new ArrayList<>();
        history.json().get("messages").forEach(m -> stored.add(m.get("text").asText()));
        assertThat(stored).isEqualTo(IntStream.rangeClosed(1, 8).mapToObj(i -> "paced " + i).toList());
    }

    @Test
    void a_text_longer_than_the_server_takes_is_refused_at_once_in_its_words_and_never_sent() {
        String room = room("short");
        ChatPage a = member("alice", room);
        String tooLong = "x".repeat(41);

        a.send(tooLong);
        Locator refused = a.message(tooLong);
        assertThat(refused).hasAttribute("data-status", "failed");
        assertThat(refused.locator(".status")).hasText("Not sent: text is longer than 40 characters");
        assertThat(refused.locator(".retry-btn")).hasCount(0);
        a.send("y".repeat(40));
        assertThat(a.message("y".repeat(40))).hasAttribute("data-seq", "1");

        // Refused by the page itself: with the default limit (4000) it would have gone to the server.
        assertThat(a.framesSent()).noneMatch(f -> f.contains(tooLong));
        assertThat(a.framesReceived()).noneMatch(f -> f.contains("\"too_large\""));
    }

    @Test
    void room_names_follow_the_servers_rule_and_every_room_it_lists_is_shown() {
        String elsewhere = room("Other"); // a capital: refused by the default rule
        try (WsClient other = server.connect(server.newUser("bob"))) {
            other.send("type", "join", "room", elsewhere, "ref", "j");
            other.await("joined", "j");
        }
        String room = room("mine");
        ChatPage a = member("alice", room);
        assertThat(a.page.locator("#room-list > li[data-joined=true]")).hasCount(1);
        assertThat(a.roomItem(elsewhere)).hasAttribute("data-joined", "false");

        // Within the default rule, over this server's 12 characters: refused by the page, in the server's terms.
        a.page.getByLabel("Join or create a room").fill("much-too-long-here");
        a.page.getByLabel("Join or create a room").press("Enter");
        assertThat(a.page.locator("#room-error")).hasText(
                "Room names on this server must match ^(?:[A-Za-z0-9][A-Za-z0-9-]{0,11})$ (at most 12 characters).");
        assertThat(a.page.locator("#room-list > li[data-joined=true]")).hasCount(1);
        assertThat(a.page.locator("#current-room")).hasText(room);
        assertThat(a.framesSent()).noneMatch(f -> f.contains("much-too-long-here"));

        a.switchTo(elsewhere);
        assertThat(a.roomItem(elsewhere)).hasAttribute("data-joined", "true");
    }

    @Test
    void a_room_listed_from_before_a_stricter_rule_is_shown_and_joining_it_says_why() throws IOException {
        ParleyServer legacy = ParleyServer.create().with(Setting.DATA_DIR, Files.createTempDirectory("parley-legacy").toString());
        legacy.start();
        try {
            try (WsClient c = legacy.connect(legacy.newUser("early"))) {
                c.send("type", "join", "room", "old_room", "ref", "j");
                c.await("joined", "j");
            }
            legacy.stop();
            legacy.with(Setting.ROOM_PATTERN, ROOM_PATTERN).start();

            ChatPage a = new ChatPage(browser.newPage("legacy"), "legacy", legacy.baseUrl())
                    .register(ParleyServer.unique("alice"), "alice-password").join("fresh");
            Locator old = a.roomItem("old_room");
            assertThat(old).hasAttribute("data-joined", "false");
            old.locator(".room-btn").click();
            assertThat(a.page.locator("#room-error")).hasText("Could not join #old_room: Room names on this server must match "
                    + "^(?:[A-Za-z0-9][A-Za-z0-9-]{0,11})$ (at most 12 characters).");
            assertThat(old).hasAttribute("data-joined", "false");
            assertThat(a.page.locator("#current-room")).hasText("fresh");
        } finally {
            legacy.stop();
        }
    }
}
