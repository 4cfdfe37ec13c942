package dev.parley.web;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.options.AriaRole;
import dev.parley.testing.Chromium;
import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web client's side of rooms with kinds, roles and moderation (issue 19; PROTOCOL.md 3.3, "Room
 * events", the `left` frame's reason): private rooms, direct messages, the member list and what each
 * role is shown of it, and what a user sees when they are muted, removed or banned. Everything is
 * done through the page, as a person would, and asserted on what the page shows.
 */
class RoomsWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.ROOMS_PER_HOUR, "0") // the paging test makes 105 rooms as one user
            .with(Setting.API_RATE, "0");
    @RegisterExtension
    static Chromium browser = Chromium.create();

    private static final AtomicInteger ROOMS = new AtomicInteger();
    /** The page reads the room list again every 10 s: a room or a direct message someone else made shows within that. */
    private static final LocatorAssertions.IsVisibleOptions LIST_REFRESH = new LocatorAssertions.IsVisibleOptions().setTimeout(25_000);

    private static String room(String base) {
        return base + "-" + ROOMS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
    }

    private ChatPage signUp(String name) {
        return new ChatPage(browser.newPage(name), name, server.baseUrl()).register(ParleyServer.unique(name), name + "-password");
    }

    private static void invite(ChatPage owner, String user) {
        owner.openMembers();
        owner.page.getByLabel("Invite someone").fill(user);
        owner.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Invite").setExact(true)).click();
        assertThat(owner.memberItem(user)).hasAttribute("data-role", "member");
    }

    @Test
    void a_private_room_its_invitation_a_mute_and_a_ban_as_the_owner_and_the_member_see_them() {
        String room = room("ops");
        String topic = "on call <img src=x onerror=\"window.__xss=1\">";
        ChatPage a = signUp("alice");
        Page bobsPage = browser.newPage("bob");
        bobsPage.addInitScript(ChatPage.FRAME_LOG);
        ChatPage b = new ChatPage(bobsPage, "bob", server.baseUrl()).register(ParleyServer.unique("bob"), "bob-password");
        String alice = a.me(), bob = b.me();

        a.createRoom(room, true, topic);
        assertThat(a.roomItem(room)).hasAttribute("data-kind", "private");
        assertThat(a.roomItem(room).locator(".kind-badge")).hasText("private");
        assertThat(a.page.locator("#room-kind")).isVisible();
        assertThat(a.page.locator("#room-topic")).hasText(topic); // as text: nothing of it is markup
        assertThat(a.page.locator("#messages img")).hasCount(0);
        assertThat(a.events().first()).hasAttribute("data-event", "room_created");
        assertThat(a.messages()).hasCount(0); // an event is a line of its own, not a chat message
        a.openMembers();
        assertThat(a.page.locator("#my-role")).hasText("You are the owner.");
        assertThat(a.memberItem(alice)).hasAttribute("data-role", "owner");
        assertThat(a.memberItem(alice).locator(".role")).hasText("owner");

        // Private: bob does not see it, and it is not his to join.
        b.page.reload();
        b.expectSignedIn(bob);
        assertThat(b.page.locator("#room-list")).not().containsText(room);

        invite(a, bob);
        assertThat(a.events().last()).hasAttribute("data-event", "member_added");
        assertThat(a.events().last().locator(".event-text")).containsText(bob);

        // Invited: after a reload bob finds it in his list, and opens it.
        b.page.reload();
        b.expectSignedIn(bob);
        assertThat(b.roomItem(room)).hasAttribute("data-kind", "private");
        assertThat(b.roomItem(room)).hasAttribute("data-joined", "false");
        b.switchTo(room);
        b.awaitReady(room);
        assertThat(b.roomItem(room)).hasAttribute("data-joined", "true");
        b.openMembers();
        assertThat(b.page.locator("#my-role")).hasText("You are a member.");
        assertThat(b.memberItem(alice)).hasAttribute("data-role", "owner");
        assertThat(b.memberItem(bob)).hasAttribute("data-role", "member");
        assertThat(b.moderationControls()).hasCount(0);
        assertThat(b.button("Leave room")).isVisible();
        // The owner's controls, over bob; none over herself.
        assertThat(a.button("Remove " + bob + " from the room")).isVisible();
        assertThat(a.button("Ban " + bob)).isVisible();
        assertThat(a.button("Mute " + bob + " for 1 hour")).isVisible();
        assertThat(a.button("Make moderator: " + bob)).isVisible();
        assertThat(a.memberItem(alice).locator("button").filter(new Locator.FilterOptions().setVisible(true))).hasCount(0);

        b.send("hello from bob");
        assertThat(a.message("hello from bob")).hasAttribute("data-from", bob);

        // Muted: everyone sees the line, bob's list says until when, and what he sends is refused.
        a.button("Mute " + bob + " for 1 hour").click();
        assertThat(a.memberItem(bob).locator(".muted-until")).containsText("muted until");
        assertThat(a.button("Unmute " + bob)).isVisible();
        assertThat(b.events().last()).hasAttribute("data-event", "muted");
        assertThat(b.memberItem(bob).locator(".muted-until")).containsText("muted until");
        b.send("can anyone hear me?");
        assertThat(b.message("can anyone hear me?")).hasAttribute("data-status", "failed");
        assertThat(a.message("can anyone hear me?")).hasCount(0);

        // Banned: bob is told by whom and why, the room leaves his list and his view.
        a.button("Ban " + bob).click();
        a.memberItem(bob).getByLabel("Why ban " + bob + "? (optional)").fill("spam");
        a.button("Confirm: ban " + bob).click();
        assertThat(b.alert()).isVisible();
        assertThat(b.alert()).containsText("You were banned from #" + room + " by " + alice + ". Reason: Spam.");
        assertThat(b.roomItem(room)).hasCount(0);
        assertThat(b.page.locator("#current-room")).not().hasAttribute("data-room", room);
        assertThat(b.page.locator("#messages")).not().containsText("hello from bob");
        Accessibility.assertContrast(b.page); // the notice is readable

        assertThat(a.memberItem(bob)).hasCount(0);
        assertThat(a.events().last()).hasAttribute("data-event", "banned");
        assertThat(a.page.locator("#ban-list > li[data-user=\"" + bob + "\"]")).isVisible();
        assertThat(a.button("Unban " + bob)).isVisible();

        // Not joined again by a reconnect: the connection drops and comes back, and asks for nothing of the room.
        assertThat(b.framesReceived()).anyMatch(f -> f.contains("\"type\":\"left\"") && f.contains("\"reason\":\"banned\""));
        b.eval("() => { const c = window.parleyApp.client; window.__dropped = c._ws; c._ws.close(3000, 'test drops the line'); }");
        b.page.waitForFunction("() => { const c = window.parleyApp.client; return c.state === 'open' && c._ws && c._ws !== window.__dropped; }");
        assertThat(b.framesSent().stream().filter(f -> f.contains("\"type\":\"join\"") && f.contains(room))).hasSize(1);
        assertThat(b.roomItem(room)).hasCount(0);

        // Nor by a reload, and it is not listed.
        b.page.reload();
        b.expectSignedIn(bob);
        assertThat(b.page.locator("#conn-status")).hasAttribute("data-state", "open");
        assertThat(b.roomItem(room)).hasCount(0);
        assertThat(b.eval("() => window.parleyApp.client.joinedRooms")).isEqualTo(List.of());
        assertThat(b.eval("() => typeof window.__xss")).isEqualTo("undefined");
        assertThat(a.eval("() => typeof window.__xss")).isEqualTo("undefined");
    }

    @Test
    void a_direct_message_started_from_the_member_list_is_listed_apart_for_both() {
        String room = room("lobby");
        ChatPage a = signUp("alice");
        ChatPage b = signUp("bob");
        String alice = a.me(), bob = b.me();
        a.createRoom(room, false, null);
        invite(a, bob);

        a.button("Message " + bob).click();
        assertThat(a.page.locator("#current-room")).hasText(bob);
        assertThat(a.page.locator("#current-room")).hasAttribute("data-kind", "direct");
        String dm = a.page.locator("#current-room").getAttribute("data-room");
        assertThat(dm).startsWith("dm-");
        assertThat(a.directItem(bob)).isVisible();
        assertThat(a.directItem(bob).locator(".room-name")).hasText(bob);
        assertThat(a.page.locator("#room-list > li[data-room=\"" + dm + "\"]")).hasCount(0); // not among the rooms
        a.awaitReady(dm);
        a.send("psst, just between us");

        // Bob's list shows it, named after alice, without a reload.
        assertThat(b.directItem(alice)).isVisible(LIST_REFRESH);
        assertThat(b.page.locator("#dm-empty")).isHidden();
        b.directItem(alice).locator(".room-btn").click();
        assertThat(b.page.locator("#current-room")).hasText(alice);
        assertThat(b.message("psst, just between us")).hasAttribute("data-from", alice);
        b.send("ok");
        assertThat(a.message("ok")).hasAttribute("data-from", bob);
        // In a direct room nobody moderates, nobody leaves.
        b.openMembers();
        assertThat(b.moderationControls()).hasCount(0);
        assertThat(b.button("Leave room")).isHidden();

        // Starting it again by typing a name finds the same room; a name nobody has is said so.
        b.page.getByLabel("Message someone").fill("nobody_" + ParleyServer.unique("x"));
        b.page.getByLabel("Message someone").press("Enter");
        assertThat(b.page.locator("#dm-error")).containsText("No such user");
        b.switchTo(room); // not a member of the room, but it is public
        b.page.getByLabel("Message someone").fill(alice);
        b.page.getByLabel("Message someone").press("Enter");
        assertThat(b.page.locator("#current-room")).hasAttribute("data-room", dm);
        assertThat(b.page.locator("#dm-list > li")).hasCount(1);
        assertThat(b.message("psst, just between us")).isVisible();
    }

    @Test
    void a_member_is_shown_no_moderation_and_a_moderator_only_what_a_moderator_may_do() {
        String room = room("team");
        ChatPage a = signUp("alice");
        ChatPage b = signUp("bob");
        ChatPage c = signUp("carol");
        String alice = a.me(), bob = b.me(), carol = c.me();
        a.createRoom(room, true, "the team");
        invite(a, bob);
        invite(a, carol);
        a.button("Make moderator: " + carol).click();
        assertThat(a.memberItem(carol)).hasAttribute("data-role", "moderator");
        assertThat(a.button("Make member: " + carol)).isVisible();

        for (ChatPage p : List.of(b, c)) {
            String name = p.me();
            p.page.reload();
            p.expectSignedIn(name);
            p.switchTo(room);
            p.awaitReady(room);
            p.openMembers();
            assertThat(p.memberItem(carol)).hasAttribute("data-role", "moderator");
        }
        // bob, a member: nothing to moderate with, anywhere.
        assertThat(b.moderationControls()).hasCount(0);
        assertThat(b.page.locator("#invite-form")).isHidden();
        assertThat(b.button("Message " + alice)).isVisible();

        // carol, a moderator: invite, and act on members only; no roles, no room deletion.
        assertThat(c.page.locator("#my-role")).hasText("You are a moderator.");
        assertThat(c.page.getByLabel("Invite someone")).isVisible();
        assertThat(c.button("Remove " + bob + " from the room")).isVisible();
        assertThat(c.button("Ban " + bob)).isVisible();
        assertThat(c.button("Mute " + bob + " for 1 hour")).isVisible();
        assertThat(c.memberItem(bob).locator(".role-btn")).isHidden();
        assertThat(c.memberItem(alice).locator(".remove-btn, .ban-btn, .mute-btn, .role-btn")
                .filter(new Locator.FilterOptions().setVisible(true))).hasCount(0);
        assertThat(c.page.locator("#delete-room-btn")).isHidden();

        // The moderator removes bob: he is told, and the room goes.
        c.button("Remove " + bob + " from the room").click();
        assertThat(b.alert()).containsText("You were removed from #" + room + " by " + carol + ".");
        assertThat(b.roomItem(room)).hasCount(0);
        assertThat(a.memberItem(bob)).hasCount(0);
        assertThat(a.events().last()).hasAttribute("data-event", "member_removed");

        // Invited again, he sees the room once more; bob leaves it himself.
        invite(a, bob);
        b.page.reload();
        b.expectSignedIn(bob);
        assertThat(b.alert()).isHidden();
        b.switchTo(room);
        b.awaitReady(room);
        b.openMembers();
        b.button("Leave room").click();
        assertThat(b.roomItem(room)).hasCount(0);
        assertThat(b.page.locator("#notice")).hasText("You left #" + room + ".");
        assertThat(b.alert()).isHidden();
        assertThat(a.events().last()).hasAttribute("data-event", "member_left");
    }

    @Test
    void the_room_list_follows_the_link_to_every_page() {
        String token = server.newUser("maker");
        String last = null;
        for (int i = 0; i < 105; i++) { // more than the 100 of a first page
            last = room("zz-paged-" + String.format("%03d", i));
            assertThat(server.http().request("POST", "/api/rooms", token, "{\"name\":\"" + last + "\",\"visibility\":\"public\"}").status())
                    .isEqualTo(201);
        }
        assertThat(server.http().get("/api/rooms", token).header("Link")).as("the first page links to a next one").isPresent();

        ChatPage a = signUp("alice");
        assertThat(a.roomItem(last)).hasAttribute("data-joined", "false"); // sorted by name: on a later page
        assertThat(a.page.locator("#room-list > li[data-room^=\"zz-paged-\"]")).hasCount(105);
        a.switchTo(last);
        a.awaitReady(last);
    }

    @Test
    void the_new_room_form_says_why_a_room_cannot_be_made() {
        String room = room("taken");
        ChatPage a = signUp("alice");
        ChatPage b = signUp("bob");
        a.createRoom(room, true, null);

        b.page.locator("#new-room summary").click();
        b.page.getByLabel("Room name").fill(room);
        b.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Create room")).click();
        assertThat(b.page.locator("#new-room-error")).hasText("The name “" + room + "” is taken. Pick another one.");
        assertThat(b.page.getByLabel("Room name")).hasAttribute("aria-invalid", "true");
        b.page.getByLabel("Room name").fill("Not A Name");
        b.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Create room")).click();
        assertThat(b.page.locator("#new-room-error")).containsText("Room names are");
        assertThat(b.page.locator("#room-list > li[data-joined=true]")).hasCount(0);
        Accessibility.assertLabelled(b.page);
        Accessibility.assertContrast(b.page);
    }

    @Test
    void on_a_phone_the_rooms_and_the_members_are_panels_and_a_removal_is_said_plainly() {
        String room = room("pocket");
        ChatPage a = signUp("alice");
        String alice = a.me();
        ChatPage phone = new ChatPage(browser.newPhonePage("phone", 390, 844), "phone", server.baseUrl());
        phone.register(ParleyServer.unique("pat"), "pat-password");
        String pat = phone.me();
        assertThat(phone.horizontalOverflow()).as("room list overflow").isZero();
        assertThat(phone.page.locator("#conversation")).isHidden(); // nothing to show yet: the list of rooms

        a.createRoom(room, true, "a room with a topic long enough to wrap on a narrow screen, and then some more");
        invite(a, pat);
        a.send("welcome, pat");

        phone.page.reload();
        phone.expectSignedIn(pat);
        assertThat(phone.roomItem(room)).hasAttribute("data-kind", "private");
        phone.roomItem(room).locator(".room-btn").tap();
        assertThat(phone.page.locator("#current-room")).hasText(room);
        assertThat(phone.page.locator("#sidebar")).isHidden(); // one pane at a time
        assertThat(phone.message("welcome, pat")).isVisible();
        assertThat(phone.horizontalOverflow()).as("room overflow").isZero();

        // The members are behind a button, over the messages, and close again.
        assertThat(phone.page.locator("#members-panel")).isHidden();
        phone.page.locator("#members-toggle").tap();
        assertThat(phone.page.locator("#members-panel")).isVisible();
        assertThat(phone.page.locator("#members-toggle")).hasAttribute("aria-expanded", "true");
        assertThat(phone.memberItem(alice)).hasAttribute("data-role", "owner");
        assertThat(phone.moderationControls()).hasCount(0);
        var box = phone.page.locator("#members-panel").boundingBox();
        assertThat(box.x + box.width).isLessThanOrEqualTo(390.5);
        assertThat(phone.horizontalOverflow()).as("members overflow").isZero();
        phone.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Close").setExact(true)).tap();
        assertThat(phone.page.locator("#members-panel")).isHidden();

        // A direct message from the member list, then back to the list, where it is apart from the rooms.
        phone.page.locator("#members-toggle").tap();
        phone.button("Message " + alice).tap();
        assertThat(phone.page.locator("#current-room")).hasText(alice);
        assertThat(phone.page.locator("#members-panel")).isHidden();
        phone.showRoomList();
        assertThat(phone.directItem(alice)).isVisible();
        assertThat(phone.page.locator("#room-list")).not().containsText(alice);
        phone.roomItem(room).locator(".room-btn").tap();
        assertThat(phone.page.locator("#current-room")).hasText(room);

        // Removed: said plainly, the room is gone, and the list is back.
        a.openMembers();
        a.button("Remove " + pat + " from the room").click();
        assertThat(phone.alert()).isVisible();
        assertThat(phone.alert()).containsText("You were removed from #" + room + " by " + alice + ".");
        assertThat(phone.roomItem(room)).hasCount(0);
        assertThat(phone.page.locator("#current-room")).not().hasText(room);
        assertThat(phone.horizontalOverflow()).as("overflow with the notice").isZero();
        var notice = phone.page.locator("#alert").boundingBox();
        assertThat(notice.x + notice.width).isLessThanOrEqualTo(390.5);
        phone.page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Dismiss")).tap();
        assertThat(phone.alert()).isHidden();
    }
}
