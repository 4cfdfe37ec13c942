package dev.parley.rooms;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.rooms.RoomKit.User;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static dev.parley.rooms.RoomKit.T;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md, the changes of a message (issue 21 items 1-4): edit, delete, reply and react, each an
 * event in the room's one sequence, live and on resume, with history returning the message's current
 * state; and each refusal. On the embedded H2 here, on PostgreSQL in {@link MessageChangesOnPostgresTest}.
 */
class MessageChangesTest {
    @RegisterExtension
    static ParleyServer h2 = ParleyServer.create();

    static final String THUMBS = "\uD83D\uDC4D", HEART = "\u2764\uFE0F", FAMILY = "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67";

    ParleyServer server() {
        return h2;
    }

    RoomKit kit;
    User alice, bob;

    @BeforeEach
    void cast() {
        kit = new RoomKit(server());
        alice = kit.user("alice");
        bob = kit.user("bob");
    }

    // --- the frames, as a client sends them ---

    static JsonNode edit(WsClient c, String room, long seq, String text) {
        return answer(c, "edit", "room", room, "seq", seq, "text", text);
    }

    static JsonNode delete(WsClient c, String room, long seq) {
        return answer(c, "delete", "room", room, "seq", seq);
    }

    static JsonNode react(WsClient c, String room, long seq, String emoji, boolean on) {
        return answer(c, "react", "room", room, "seq", seq, "emoji", emoji, "on", on);
    }

    static JsonNode reply(WsClient c, String room, long replyTo, String text) {
        return answer(c, "send", "room", room, "text", text, "clientId", RoomKit.ref("reply"), "replyTo", replyTo);
    }

    private static JsonNode answer(WsClient c, String type, Object... fields) {
        String ref = sent(c, type, fields);
        return c.await(RoomKit.answerTo(ref), T, "an answer to " + type + " " + ref);
    }

    /** Sends a frame of {@code type} with a fresh ref, without waiting for its answer; returns the ref. */
    private static String sent(WsClient c, String type, Object... fields) {
        String ref = RoomKit.ref(type);
        Object[] kv = new Object[fields.length + 4];
        kv[0] = "type";
        kv[1] = type;
        kv[2] = "ref";
        kv[3] = ref;
        System.arraycopy(fields, 0, kv, 4, fields.length);
        c.send(kv);
        return ref;
    }

    static void acked(JsonNode a) {
        assertThat(a.path("type").asText()).as(a.toString()).isEqualTo("ack");
    }

    static void refusedWith(JsonNode a, String code) {
        assertThat(a.path("type").asText()).as(a.toString()).isEqualTo("error");
        assertThat(a.path("code").asText()).as(a.toString()).isEqualTo(code);
        assertThat(a.path("message").asText()).isNotBlank();
    }

    /** The stored message (or event) of this seq, over HTTP, as {@code reader} reads it. */
    JsonNode stored(User reader, String room, long seq) {
        return kit.messagesAfter(reader, room, seq - 1).get(0);
    }

    String publicRoom() {
        return kit.made(alice, RoomKit.room("chg"), "public");
    }

    // --- edit ---

    @Test
    void an_edit_reaches_every_member_live_and_history_returns_the_current_text_with_when_it_was_edited() {
        String room = publicRoom();
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            long seq = RoomKit.send(a, room, "helo wrold").get("seq").asLong();

            JsonNode ack = edit(a, room, seq, "  hello world ");
            acked(ack);
            assertThat(ack.get("target").asLong()).isEqualTo(seq);
            long event = ack.get("seq").asLong();
            assertThat(event).isEqualTo(seq + 1);
            for (WsClient c : List.of(a, b)) {
                JsonNode e = c.await(f -> RoomKit.isEvent(f, room, "edited"), T, "the edit");
                assertThat(e.get("seq").asLong()).isEqualTo(event);
                assertThat(e.get("from").asText()).isEqualTo(alice.name());
                assertThat(e.get("event").get("seq").asLong()).isEqualTo(seq);
                assertThat(e.get("event").get("text").asText()).as("stored trimmed, as a send").isEqualTo("hello world");
                assertThat(e.get("text").asText()).as("what a client of before sees").contains("edited message " + seq).contains("hello world");
            }

            JsonNode m = stored(bob, room, seq);
            assertThat(m.get("text").asText()).isEqualTo("hello world");
            assertThat(m.get("editedAt").asText()).isNotBlank();
            assertThat(m.get("lastChange").asLong()).isEqualTo(event);
            assertThat(m.has("deleted")).isFalse();

            // a second edit: its event holds the text, the first one's no longer does
            long second = edit(a, room, seq, "hello, world").get("seq").asLong();
            assertThat(stored(bob, room, seq).get("text").asText()).isEqualTo("hello, world");
            JsonNode first = stored(bob, room, event);
            assertThat(first.get("event").get("type").asText()).isEqualTo("edited");
            assertThat(first.get("event").get("seq").asLong()).isEqualTo(seq);
            assertThat(first.get("event").has("text")).as("an older edit's text is gone: " + first).isFalse();
            assertThat(first.get("text").asText()).doesNotContain("hello world");
            assertThat(stored(bob, room, second).get("event").get("text").asText()).isEqualTo("hello, world");

            // the same text again changes nothing: an ack without an event
            JsonNode same = edit(a, room, seq, "hello, world");
            acked(same);
            assertThat(same.has("seq")).as(same.toString()).isFalse();
            assertThat(kit.lastSeq(alice, room)).isEqualTo(second);
        }
    }

    @Test
    void changes_sent_in_a_row_on_one_connection_are_made_in_the_order_sent() {
        String room = publicRoom();
        try (WsClient a = kit.connect(alice)) {
            RoomKit.join(a, room);
            long seq = RoomKit.send(a, room, "draft").get("seq").asLong();
            // Sent without waiting for the answers, as a client that edits quickly does; within the burst of changes.
            List<String> refs = new ArrayList<>();
            for (int i = 1; i <= 8; i++) refs.add(sent(a, "edit", "room", room, "seq", seq, "text", "version " + i));
            for (int i = 1; i <= 8; i++) refs.add(sent(a, "react", "room", room, "seq", seq, "emoji", THUMBS, "on", i % 2 == 1));
            List<Long> eventSeqs = new ArrayList<>();
            for (String ref : refs) {
                JsonNode ack = a.await(RoomKit.answerTo(ref), T, "the answer to " + ref);
                acked(ack);
                eventSeqs.add(ack.path("seq").asLong(-1)); // none: the change found the message so already
            }
            assertThat(eventSeqs).as("the events' seqs, in the order their frames were sent").isSorted().doesNotHaveDuplicates().doesNotContain(-1L);
            JsonNode now = kit.messagesAfter(alice, room, seq - 1).get(0);
            assertThat(now.get("seq").asLong()).isEqualTo(seq);
            assertThat(now.get("text").asText()).as("the text after the last edit sent").isEqualTo("version 8");
            assertThat(now.has("reactions")).as("a reaction left after an un-react sent last: " + now).isFalse();
        }
    }

    @Test
    void an_edit_is_refused_for_someone_elses_message_a_seq_the_room_lacks_a_room_event_and_a_text_too_long() {
        String room = publicRoom(); // seq 1 is its room_created event
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            long seq = RoomKit.send(a, room, "mine").get("seq").asLong();
            long last = kit.lastSeq(alice, room);

            refusedWith(edit(b, room, seq, "yours now"), "forbidden");
            refusedWith(edit(a, room, last + 1, "the future"), "not_found");
            refusedWith(edit(a, room, 1, "an event"), "not_found");
            refusedWith(edit(a, room, seq, "x".repeat(4001)), "too_large");
            refusedWith(edit(a, room, seq, "bell\u0007"), "bad_request");

            assertThat(kit.lastSeq(alice, room)).as("nothing stored").isEqualTo(last);
            assertThat(stored(alice, room, seq).get("text").asText()).isEqualTo("mine");
            RoomKit.alive(a);
            RoomKit.alive(b);
        }
    }

    // --- delete ---

    @Test
    void a_deleted_message_leaves_a_tombstone_with_its_seq_and_no_words_and_can_be_neither_edited_nor_reacted_to() {
        String room = publicRoom();
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            long seq = RoomKit.send(b, room, "oops, a secret").get("seq").asLong();
            long editSeq = edit(b, room, seq, "another secret").get("seq").asLong();
            acked(react(a, room, seq, THUMBS, true));

            JsonNode ack = delete(b, room, seq);
            acked(ack);
            long event = ack.get("seq").asLong();
            JsonNode live = a.await(f -> RoomKit.isEvent(f, room, "deleted"), T, "the deletion");
            assertThat(live.get("event").get("seq").asLong()).isEqualTo(seq);
            assertThat(live.get("event").get("by").asText()).isEqualTo(bob.name());

            JsonNode m = stored(alice, room, seq);
            assertThat(m.get("seq").asLong()).isEqualTo(seq);
            assertThat(m.get("from").asText()).isEqualTo(bob.name());
            assertThat(m.get("deleted").asBoolean()).isTrue();
            assertThat(m.get("text").asText()).isEmpty();
            assertThat(m.has("reactions")).isFalse();
            assertThat(m.has("editedAt")).isFalse();
            assertThat(m.get("lastChange").asLong()).isEqualTo(event);
            assertThat(kit.messagesAfter(alice, room, 0).toString()).as("the words are nowhere in the history").doesNotContain("secret");
            assertThat(stored(alice, room, editSeq).get("event").has("text")).isFalse();

            refusedWith(edit(b, room, seq, "back"), "conflict");
            refusedWith(react(a, room, seq, HEART, true), "conflict");
            JsonNode again = delete(b, room, seq);
            acked(again);
            assertThat(again.has("seq")).as("deleting it again changes nothing").isFalse();
            assertThat(kit.lastSeq(alice, room)).isEqualTo(event);
        }
    }

    @Test
    void a_moderator_or_the_owner_deletes_anyones_message_and_a_member_only_their_own() {
        User mod = kit.user("mod");
        String room = kit.made(alice, RoomKit.room("chg-mod"), "private");
        kit.add(alice, room, bob, "member");
        kit.add(alice, room, mod, "moderator");
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob); WsClient m = kit.connect(mod)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            RoomKit.join(m, room);
            long ofAlice = RoomKit.send(a, room, "owner's").get("seq").asLong();
            long ofBob = RoomKit.send(b, room, "member's").get("seq").asLong();
            long ofBob2 = RoomKit.send(b, room, "member's again").get("seq").asLong();

            refusedWith(delete(b, room, ofAlice), "forbidden");
            acked(delete(m, room, ofBob));
            acked(delete(a, room, ofBob2));
            assertThat(stored(alice, room, ofBob).get("deleted").asBoolean()).isTrue();
            assertThat(stored(alice, room, ofBob2).get("deleted").asBoolean()).isTrue();
            assertThat(stored(alice, room, ofAlice).has("deleted")).isFalse();
        }
    }

    // --- reply ---

    @Test
    void a_reply_carries_the_seq_it_answers_live_and_in_history_and_a_reply_to_no_message_is_not_stored() {
        String room = publicRoom();
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            long question = RoomKit.send(a, room, "lunch?").get("seq").asLong();
            JsonNode ack = reply(b, room, question, "yes");
            acked(ack);
            long answer = ack.get("seq").asLong();
            JsonNode live = a.await(f -> "message".equals(f.path("type").asText()) && f.path("seq").asLong() == answer, T, "the reply");
            assertThat(live.get("replyTo").asLong()).isEqualTo(question);
            assertThat(stored(alice, room, answer).get("replyTo").asLong()).isEqualTo(question);
            assertThat(stored(alice, room, question).has("replyTo")).isFalse();

            long last = kit.lastSeq(alice, room);
            refusedWith(reply(b, room, last + 5, "to nothing"), "not_found");
            refusedWith(reply(b, room, 1, "to the room_created event"), "not_found");
            assertThat(kit.lastSeq(alice, room)).as("nothing stored").isEqualTo(last);

            // a reply to a message deleted since is stored: the client shows that the original was deleted
            acked(delete(a, room, question));
            acked(reply(b, room, question, "too late"));
        }
    }

    // --- reactions ---

    @Test
    void reactions_are_counted_once_per_user_and_emoji_and_history_returns_the_totals_with_who() {
        User carol = kit.user("carol");
        String room = publicRoom();
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob); WsClient c = kit.connect(carol)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            RoomKit.join(c, room);
            long seq = RoomKit.send(a, room, "ship it?").get("seq").asLong();

            JsonNode first = react(b, room, seq, THUMBS, true);
            acked(first);
            JsonNode live = a.await(f -> RoomKit.isEvent(f, room, "reaction"), T, "bob's reaction");
            assertThat(live.get("event").get("seq").asLong()).isEqualTo(seq);
            assertThat(live.get("event").get("emoji").asText()).isEqualTo(THUMBS);
            assertThat(live.get("event").get("on").asBoolean()).isTrue();
            assertThat(live.get("event").get("user").asText()).isEqualTo(bob.name());

            long before = kit.lastSeq(alice, room);
            JsonNode again = react(b, room, seq, THUMBS, true);
            acked(again);
            assertThat(again.has("seq")).as("a reaction already given changes nothing").isFalse();
            assertThat(kit.lastSeq(alice, room)).isEqualTo(before);

            acked(react(c, room, seq, THUMBS, true));
            acked(react(c, room, seq, HEART, true));
            acked(react(a, room, seq, FAMILY, true));
            JsonNode m = stored(alice, room, seq);
            JsonNode reactions = m.get("reactions");
            assertThat(reactions.size()).as(m.toString()).isEqualTo(3);
            assertThat(reactions.get(0).get("emoji").asText()).isEqualTo(THUMBS);
            assertThat(reactions.get(0).get("count").asInt()).isEqualTo(2);
            assertThat(reactions.get(0).get("users").toString()).contains(bob.name()).contains(carol.name());
            assertThat(reactions.get(1).get("emoji").asText()).isEqualTo(HEART);
            assertThat(reactions.get(2).get("emoji").asText()).isEqualTo(FAMILY);

            JsonNode off = react(b, room, seq, THUMBS, false);
            acked(off);
            assertThat(c.await(f -> RoomKit.isEvent(f, room, "reaction") && !f.path("event").path("on").asBoolean(), T, "taken back")
                    .get("event").get("user").asText()).isEqualTo(bob.name());
            JsonNode after = stored(alice, room, seq).get("reactions").get(0);
            assertThat(after.get("count").asInt()).isEqualTo(1);
            assertThat(after.get("users").toString()).doesNotContain(bob.name());
            JsonNode offAgain = react(b, room, seq, THUMBS, false);
            acked(offAgain);
            assertThat(offAgain.has("seq")).isFalse();
        }
    }

    @Test
    void a_reaction_must_be_one_emoji_of_a_message_the_room_has() {
        String room = publicRoom();
        try (WsClient a = kit.connect(alice)) {
            RoomKit.join(a, room);
            long seq = RoomKit.send(a, room, "react to me").get("seq").asLong();
            long last = kit.lastSeq(alice, room);
            for (String bad : List.of("", "a", "1", ":+1:", "+1", THUMBS + THUMBS, THUMBS + " ", "\u2764", "x".repeat(40), "\u200D", THUMBS + "\u200D")) {
                refusedWith(react(a, room, seq, bad, true), "bad_request");
            }
            refusedWith(react(a, room, last + 1, THUMBS, true), "not_found");
            refusedWith(react(a, room, 1, THUMBS, true), "not_found");
            assertThat(kit.lastSeq(alice, room)).isEqualTo(last);
            // skin tones, flags and keycaps are single emoji
            for (String good : List.of("\uD83D\uDC4D\uD83C\uDFFD", "\uD83C\uDDEB\uD83C\uDDF7", "1\uFE0F\u20E3")) acked(react(a, room, seq, good, true));
        }
    }

    @Test
    void a_message_has_reactions_with_at_most_twenty_different_emoji() {
        String room = publicRoom();
        // Two connections of alice's, each within its burst of 20 changes.
        try (WsClient a = kit.connect(alice); WsClient a2 = kit.connect(alice)) {
            RoomKit.join(a, room);
            RoomKit.join(a2, room);
            long seq = RoomKit.send(a, room, "many").get("seq").asLong();
            for (int i = 0; i < 20; i++) acked(react(i < 10 ? a : a2, room, seq, new String(Character.toChars(0x1F600 + i)), true));
            refusedWith(react(a2, room, seq, new String(Character.toChars(0x1F600 + 20)), true), "too_large");
            acked(react(a2, room, seq, new String(Character.toChars(0x1F600)), false));
            acked(react(a2, room, seq, new String(Character.toChars(0x1F600 + 20)), true));
            assertThat(stored(alice, room, seq).get("reactions").size()).isEqualTo(20);
        }
    }

    // --- who may ---

    @Test
    void a_room_not_joined_is_not_joined_whether_it_is_private_or_does_not_exist_and_a_muted_member_may_only_delete() {
        String secret = kit.made(alice, RoomKit.room("chg-secret"), "private");
        String none = RoomKit.room("chg-none");
        String room = kit.made(alice, RoomKit.room("chg-mute"), "public");
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, secret);
            long hidden = RoomKit.send(a, secret, "members only").get("seq").asLong();
            JsonNode toSecret = edit(b, secret, hidden, "x"), toNone = edit(b, none, hidden, "x");
            refusedWith(toSecret, "not_joined");
            assertThat(toSecret.get("message").asText()).isEqualTo(toNone.get("message").asText().replace(none, secret));
            refusedWith(delete(b, secret, hidden), "not_joined");
            refusedWith(react(b, secret, hidden, THUMBS, true), "not_joined");
            assertThat(RoomKit.tryJoin(b, secret).path("code").asText()).isEqualTo("forbidden");

            RoomKit.join(a, room);
            RoomKit.join(b, room);
            long mine = RoomKit.send(b, room, "before the mute").get("seq").asLong();
            long other = RoomKit.send(b, room, "another").get("seq").asLong();
            kit.add(alice, room, bob, "member");
            kit.mute(alice, room, bob);
            b.await(f -> RoomKit.isEvent(f, room, "muted"), T, "the mute");
            refusedWith(edit(b, room, mine, "muted edit"), "forbidden");
            refusedWith(react(b, room, mine, THUMBS, true), "forbidden");
            acked(delete(b, room, other));
            assertThat(stored(alice, room, mine).get("text").asText()).isEqualTo("before the mute");
        }
    }

    // --- order and resume ---

    @Test
    void a_client_resuming_with_since_gets_the_changes_of_older_messages_in_order_exactly_once() {
        String room = publicRoom();
        long since;
        long target;
        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, room);
            RoomKit.join(b, room);
            target = RoomKit.send(a, room, "old message").get("seq").asLong();
            RoomKit.send(b, room, "bob's").get("seq").asLong();
            since = kit.lastSeq(alice, room);
        }
        // bob is away: alice edits, bob's message gets a reaction and a reply, then alice deletes hers
        long reactedTo;
        try (WsClient a = kit.connect(alice)) {
            RoomKit.join(a, room);
            reactedTo = since;
            acked(edit(a, room, target, "old message, edited"));
            acked(react(a, room, reactedTo, HEART, true));
            acked(reply(a, room, reactedTo, "answering bob"));
            acked(delete(a, room, target));
        }
        long last = kit.lastSeq(alice, room);
        try (WsClient b = kit.connect(bob)) {
            JsonNode joined = RoomKit.join(b, room, since);
            assertThat(joined.get("recovered").asBoolean()).isTrue();
            List<JsonNode> replay = b.awaitMessages(room, (int) (last - since), T);
            List<Long> seqs = RoomKit.seqs(replay);
            List<Long> expected = new ArrayList<>();
            for (long s = since + 1; s <= last; s++) expected.add(s);
            assertThat(seqs).as("every seq after since once, in order").isEqualTo(expected);
            assertThat(replay.get(0).get("event").get("type").asText()).isEqualTo("edited");
            assertThat(replay.get(0).get("event").get("seq").asLong()).isEqualTo(target);
            assertThat(replay.get(0).get("event").has("text")).as("the deletion took the edit's words").isFalse();
            assertThat(replay.get(1).get("event").get("type").asText()).isEqualTo("reaction");
            assertThat(replay.get(2).get("replyTo").asLong()).isEqualTo(reactedTo);
            assertThat(replay.get(3).get("event").get("type").asText()).isEqualTo("deleted");

            // and the live ones go on from there, each once
            try (WsClient a = kit.connect(alice)) {
                RoomKit.join(a, room);
                acked(react(a, room, reactedTo, HEART, false));
            }
            b.await(f -> RoomKit.isEvent(f, room, "reaction") && !f.path("event").path("on").asBoolean(), T, "live after the replay");
            RoomKit.alive(b);
            assertThat(RoomKit.seqs(b.messages(room))).doesNotHaveDuplicates().isSorted();
            assertThat(RoomKit.seqs(b.messages(room))).last().isEqualTo(last + 1);
        }
    }

    @Test
    void edits_deletes_and_reactions_share_a_rate_of_their_own() {
        String room = publicRoom();
        try (WsClient a = kit.connect(alice)) {
            RoomKit.join(a, room);
            long seq = RoomKit.send(a, room, "click").get("seq").asLong();
            List<String> refs = new ArrayList<>();
            for (int i = 0; i < 40; i++) refs.add(sent(a, "react", "room", room, "seq", seq, "emoji", THUMBS, "on", i % 2 == 0));
            List<JsonNode> answers = new ArrayList<>();
            for (String ref : refs) answers.add(a.await(RoomKit.answerTo(ref), T, "an answer to " + ref));
            long limited = answers.stream().filter(x -> "rate_limited".equals(x.path("code").asText())).count();
            assertThat(limited).as(answers.toString()).isGreaterThan(0);
            assertThat(answers.stream().filter(x -> "ack".equals(x.path("type").asText())).count()).as(answers.toString()).isGreaterThanOrEqualTo(20);
            // sends have a bucket of their own
            RoomKit.send(a, room, "still sending");
        }
    }
}
