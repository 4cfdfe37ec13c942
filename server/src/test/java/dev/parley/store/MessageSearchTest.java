package dev.parley.store;

import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store's search (PROTOCOL.md 3.7) on the embedded H2, and on PostgreSQL in
 * {@link MessageSearchOnPostgresTest}: what the current rows say is what is found, in the rooms the
 * user may read, newest first, a page at a time.
 */
class MessageSearchTest {
    @TempDir
    Path tmp;

    Database db;
    MessageStore store;

    /** The database the tests run on: a fresh embedded H2 file, as a single node runs it. */
    Database open() {
        return new Database(ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl(), "", "", 4);
    }

    @BeforeEach
    void start() {
        db = open();
        store = new MessageStore(db, 64, batch -> {}, MessageStore.BatchObserver.NONE);
        store.start();
    }

    @AfterEach
    void stop() {
        store.close();
        db.close();
    }

    Message post(String room, String from, String text) {
        store.ensureRoom(room);
        return store.append(room, from, "c-" + System.nanoTime(), text).join().message();
    }

    private List<String> texts(String user, String q, String room) {
        return store.search(user, SearchQuery.parse(q), room, null, 50).stream().map(Message::text).toList();
    }

    private void sql(String sql, Object... args) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void whole_words_in_any_case_all_of_them_newest_first_and_a_star_makes_a_prefix() {
        post("lobby", "alice", "Deploy the server tonight");
        post("lobby", "bob", "the deployment is done");
        post("lobby", "carol", "see https://example.org/deploy_notes for the server");
        post("lobby", "dave", "nothing to see");

        assertThat(texts("zed", "deploy", null)).containsExactly("see https://example.org/deploy_notes for the server", "Deploy the server tonight");
        assertThat(texts("zed", "deploy*", null)).containsExactly("see https://example.org/deploy_notes for the server",
                "the deployment is done", "Deploy the server tonight");
        assertThat(texts("zed", "SERVER deploy", null)).containsExactly("see https://example.org/deploy_notes for the server", "Deploy the server tonight");
        assertThat(texts("zed", "example notes", null)).containsExactly("see https://example.org/deploy_notes for the server");
        assertThat(texts("zed", "deploy nothing", null)).isEmpty();
        assertThat(texts("zed", "ploy", null)).isEmpty();
    }

    @Test
    void an_edited_message_is_found_by_its_current_text_only_and_an_emptied_one_by_nothing() {
        Message m = post("lobby", "alice", "the meeting is on tuesday");
        Message gone = post("lobby", "alice", "the password is swordfish");
        // What an edit and a delete do to the row (issue 21): its text is changed, or emptied, in place.
        sql("UPDATE messages SET text = ? WHERE room = ? AND seq = ?", "the meeting is on wednesday", "lobby", m.seq());
        sql("UPDATE messages SET text = ? WHERE room = ? AND seq = ?", "", "lobby", gone.seq());

        assertThat(texts("zed", "tuesday", null)).isEmpty();
        assertThat(texts("zed", "wednesday", null)).containsExactly("the meeting is on wednesday");
        assertThat(texts("zed", "swordfish", null)).isEmpty();
        assertThat(texts("zed", "the", null)).containsExactly("the meeting is on wednesday");
    }

    @Test
    void room_events_are_never_found() {
        post("lobby", "alice", "alice added bob");
        Message event = post("lobby", "alice", "alice added carol");
        sql("UPDATE messages SET kind = 'member_added', event_data = '{}' WHERE room = ? AND seq = ?", "lobby", event.seq());

        assertThat(texts("zed", "added", null)).containsExactly("alice added bob");
    }

    @Test
    void a_private_room_is_searched_for_its_members_only_and_one_room_alone_on_asking() {
        post("lobby", "alice", "launch plans in public");
        post("vault", "alice", "launch plans in private");
        sql("UPDATE rooms SET kind = 'private' WHERE name = 'vault'");
        sql("INSERT INTO room_members (room, user_key, username, role, added_at) VALUES ('vault', 'alice', 'Alice', 'owner', 0)");

        assertThat(texts("bob", "launch", null)).containsExactly("launch plans in public");
        assertThat(texts("Alice", "launch", null)).containsExactly("launch plans in private", "launch plans in public");
        assertThat(texts("alice", "launch", "vault")).containsExactly("launch plans in private");
        assertThat(texts("bob", "launch", "vault")).isEmpty();
    }

    @Test
    void what_a_deleted_room_held_is_not_found() {
        Message old = post("lobby", "alice", "before the deletion");
        sql("UPDATE rooms SET first_seq = ? WHERE name = 'lobby'", old.seq() + 1);
        post("lobby", "alice", "after the deletion");
        post("attic", "alice", "the deletion of attic");
        sql("UPDATE rooms SET deleted = TRUE WHERE name = 'attic'");

        assertThat(texts("zed", "deletion", null)).containsExactly("after the deletion");
    }

    @Test
    void pages_follow_each_other_newest_first_without_a_gap_or_a_repeat() {
        List<Message> sent = new ArrayList<>();
        for (int i = 1; i <= 7; i++) {
            sent.add(post(i % 2 == 0 ? "lobby" : "kitchen", "alice", "note " + i));
            post("lobby", "bob", "unrelated " + i);
        }
        // Newest first; messages of one millisecond by room, then seq.
        sent.sort(MessageSearch.NEWEST_FIRST);
        List<String> seen = new ArrayList<>();
        MessageStore.SearchAfter after = null;
        for (int page = 0; page < 10; page++) {
            List<Message> found = store.search("zed", SearchQuery.parse("note"), null, after, 3);
            boolean more = found.size() > 3;
            List<Message> shown = more ? found.subList(0, 3) : found;
            shown.forEach(m -> seen.add(m.text()));
            if (!more) break;
            Message last = shown.get(shown.size() - 1);
            after = new MessageStore.SearchAfter(last.tsMillis(), last.room(), last.seq());
        }
        assertThat(seen).isEqualTo(sent.stream().map(Message::text).toList());
        assertThat(sent.get(0).text()).as("the newest of one room comes before its older ones").isNotEqualTo("note 1");
    }
}
