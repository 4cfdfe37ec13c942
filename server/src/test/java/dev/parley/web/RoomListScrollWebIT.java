package dev.parley.web;

import com.microsoft.playwright.Page;
import dev.parley.testing.Chromium;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/**
 * With more rooms than the list has room for, the room in view is scrolled into the list whenever
 * the list is shown: on a phone when going back to it, and, on a phone held sideways (wide enough for
 * the list to stay beside the room), after a reload. The room in view is the last of many.
 */
class RoomListScrollWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    /** Joins {@code rooms} by a reload with them stored as the user's rooms (as a page that joined them before), the last one in view. */
    private static void haveJoined(ChatPage p, List<String> rooms) {
        String me = p.me();
        p.page.evaluate("([me, rooms]) => { localStorage.setItem('parley.rooms:' + me, JSON.stringify(rooms));"
                + " localStorage.setItem('parley.current:' + me, JSON.stringify(rooms.at(-1))); }", List.of(me, rooms));
        p.page.reload();
        p.expectSignedIn(me);
        for (String r : rooms) p.awaitReady(r);
    }

    private static List<String> rooms(String base, int n) {
        String tag = Long.toString(System.nanoTime() % 1_000_000, 36);
        List<String> out = new ArrayList<>();
        IntStream.rangeClosed(1, n).forEach(i -> out.add(String.format("%s-%s-%02d", base, tag, i)));
        return out;
    }

    @Test
    void on_a_phone_going_back_to_the_list_shows_the_room_in_view() {
        String pat = ParleyServer.unique("pat");
        ChatPage p = new ChatPage(browser.newPhonePage("phone", 360, 640), "phone", server.baseUrl()).register(pat, "pat-password");
        List<String> rooms = rooms("phone", 16);
        haveJoined(p, rooms);
        String last = rooms.get(rooms.size() - 1);
        assertThat(p.page.locator("#current-room")).hasText(last);

        p.showRoomList();
        assertThat(p.roomItem(last)).hasAttribute("data-current", "true");
        assertThat(p.roomItem(last)).isInViewport();

        // Scrolled back to the top, a room near it opened, then the last one again from a reload.
        p.page.locator("#sidebar").evaluate("e => { e.scrollTop = 0; }");
        p.switchTo(rooms.get(0));
        p.showRoomList();
        assertThat(p.roomItem(rooms.get(0))).isInViewport();
        p.roomItem(last).locator(".room-btn").click();
        assertThat(p.page.locator("#current-room")).hasText(last);
        p.page.reload();
        p.expectSignedIn(pat);
        p.showRoomList();
        assertThat(p.roomItem(last)).isInViewport();
    }

    @Test
    void on_a_phone_held_sideways_the_list_beside_the_room_shows_the_room_in_view_after_a_reload() {
        // 844 px wide: the list stays beside the room (docs/WEB_CLIENT.md, "Phones": 640 to 960 px), a few rooms high.
        Page page = browser.newPhonePage("landscape", 844, 390);
        ChatPage p = new ChatPage(page, "landscape", server.baseUrl()).register(ParleyServer.unique("tab"), "tab-password");
        List<String> rooms = rooms("side", 20);
        haveJoined(p, rooms);
        String last = rooms.get(rooms.size() - 1);
        assertThat(p.page.locator("#current-room")).hasText(last);
        assertThat(p.page.locator("#sidebar")).isVisible();
        assertThat(p.roomItem(last)).hasAttribute("data-current", "true");
        assertThat(p.roomItem(last)).isInViewport();
    }
}
