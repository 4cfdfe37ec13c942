package dev.parley.delivery;

import dev.parley.broker.LocalBroker;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.event.RoomChange;
import dev.parley.store.RoomStore;
import dev.parley.event.RoomEvent;
import dev.parley.presence.LocalPresence;
import dev.parley.presence.Presence;
import dev.parley.store.Database;
import dev.parley.store.MessageStore;
import dev.parley.testing.Await;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The node's delivery with a real store: the join seam for presence, rejoining, and what a failed join leaves behind. */
class DeliveryTest {
    @TempDir
    Path tmp;

    private Vertx vertx;
    private Database db;
    private MessageStore store;
    private GatedPresence presence;
    private Delivery delivery;

    /** Records what the delivery tells it, as a connection would send it. */
    private static final class Recorder implements Subscriber {
        final String user;
        final List<String> heard = new CopyOnWriteArrayList<>();

        Recorder(String user) {
            this.user = user;
        }

        @Override
        public String user() {
            return user;
        }

        @Override
        public boolean inRoom(String room) {
            return true;
        }

        volatile Joined lastJoined;

        @Override
        public void joined(Joined joined, HandOff handOff) {
            lastJoined = joined;
            heard.add("joined " + joined.members());
        }

        @Override
        public void message(Message message, HandOff handOff) {
            heard.add("message " + message.seq());
        }

        @Override
        public void notice(Notice notice, HandOff handOff) {
            heard.add(notice.kind() + " " + notice.user());
        }

        @Override
        public Seat seat(String room) {
            return null;
        }

        @Override
        public void removed(String room, String reason, HandOff handOff) {
            heard.add("left " + reason);
        }
    }

    /** The node's real in-process presence, whose answers a test can hold back. */
    private static final class GatedPresence implements Presence {
        final LocalPresence real = new LocalPresence();
        volatile Supplier<Future<Void>> beforeJoin = Future::succeededFuture;
        volatile Supplier<Future<Void>> beforeMembers = Future::succeededFuture;
        final AtomicInteger membersRead = new AtomicInteger();

        @Override
        public void start() {}

        @Override
        public Future<Boolean> join(String room, String user) {
            return beforeJoin.get().compose(x -> real.join(room, user));
        }

        @Override
        public Future<Boolean> leave(String room, String user) {
            return real.leave(room, user);
        }

        @Override
        public Future<List<String>> members(String room) {
            membersRead.incrementAndGet();
            return beforeMembers.get().compose(x -> real.members(room));
        }

        @Override
        public Future<Map<String, Integer>> counts(Collection<String> rooms) {
            return real.counts(rooms);
        }

        @Override
        public boolean healthy() {
            return true;
        }

        @Override
        public Future<Void> close() {
            return real.close();
        }
    }

    /** The bytes a join replays at most here: five messages of 4,000 characters, or many small ones. */
    private static final long REPLAY_BYTES = 5 * (3 * 4000 + 256);

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        String url = ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
        db = new Database(url, "", "", 2);
        presence = new GatedPresence();
        store = new MessageStore(db, 64, committed -> delivery.committed(committed), MessageStore.BatchObserver.NONE);
        delivery = new Delivery(vertx, store, new LocalBroker(), presence, 100, REPLAY_BYTES, 4000, 100, Duration.ofSeconds(1), PresenceBatching.OFF,
                Delivery.Observer.NONE);
        delivery.start();
        store.start();
    }

    @AfterEach
    void stop() throws Exception {
        delivery.close();
        store.close();
        db.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void someone_who_comes_online_while_a_member_is_joining_is_announced_to_it_after_joined() throws Exception {
        Recorder alice = new Recorder("alice");
        Promise<Void> membersRead = Promise.promise();
        presence.beforeMembers = membersRead::future;
        Future<Seat> joining = delivery.join(alice, "lobby", null, "j1", new Seat(0, 0));

        // bob comes online after alice's list of present users was read, before her join completes
        delivery.received(new RoomEvent.PresenceChanged("lobby", "bob", true));
        delivery.received(new RoomEvent.PresenceChanged("lobby", "alice", true)); // about herself: never told
        membersRead.complete();
        await(joining);

        assertThat(alice.heard).containsExactly("joined [alice]", "ONLINE bob");
    }

    @Test
    void the_present_users_are_read_after_the_member_is_registered() throws Exception {
        Recorder alice = new Recorder("alice");
        presence.beforeMembers = () -> {
            // a presence change now must already reach alice (after joined), so she is registered
            delivery.received(new RoomEvent.PresenceChanged("lobby", "carol", true));
            return Future.succeededFuture();
        };
        await(delivery.join(alice, "lobby", null, "j1", new Seat(0, 0)));

        assertThat(alice.heard).containsExactly("joined [alice]", "ONLINE carol");
    }

    @Test
    void only_a_rooms_first_join_reads_every_present_user_and_later_joins_list_whom_the_room_was_told_of() throws Exception {
        Recorder alice = new Recorder("alice");
        Recorder bob = new Recorder("bob");
        Recorder carol = new Recorder("carol");
        await(delivery.join(alice, "lobby", null, "a", new Seat(0, 0)));
        await(delivery.join(bob, "lobby", null, "b", new Seat(0, 0)));
        Await.until("both arrivals told", Duration.ofSeconds(10), () -> alice.heard.contains("ONLINE bob")
                && (bob.heard.contains("joined [alice, bob]") || bob.heard.contains("ONLINE alice")));

        await(delivery.join(carol, "lobby", null, "c", new Seat(0, 0)));

        assertThat(carol.heard).first().isEqualTo("joined [alice, bob, carol]");
        // A join that read every present name made a join storm into a big room O(members²).
        assertThat(presence.membersRead).hasValue(1);
    }

    @Test
    void a_committed_message_reaches_every_local_member_once_and_the_sender_too() throws Exception {
        Recorder alice = new Recorder("alice");
        Recorder bob = new Recorder("bob");
        await(delivery.join(alice, "lobby", null, "a", new Seat(0, 0)));
        await(delivery.join(bob, "lobby", null, "b", new Seat(0, 0)));

        store.append("lobby", "alice", "c-1", "hello").get(10, TimeUnit.SECONDS);
        store.append("lobby", "alice", "c-2", "again").get(10, TimeUnit.SECONDS);

        Await.until("both messages delivered", Duration.ofSeconds(10), () -> bob.heard.contains("message 2") && alice.heard.contains("message 2"));
        assertThat(alice.heard).containsSubsequence("message 1", "message 2").filteredOn(s -> s.startsWith("message")).hasSize(2);
        assertThat(bob.heard).filteredOn(s -> s.startsWith("message")).containsExactly("message 1", "message 2");
    }

    @Test
    void joining_a_room_again_goes_on_from_what_was_given_without_repeating_it() throws Exception {
        Recorder alice = new Recorder("alice");
        await(delivery.join(alice, "lobby", null, "j1", new Seat(0, 0)));
        store.append("lobby", "bob", "c-1", "one").get(10, TimeUnit.SECONDS);
        Await.until("message 1 delivered", Duration.ofSeconds(10), () -> alice.heard.contains("message 1"));

        await(delivery.join(alice, "lobby", 0L, "j2", new Seat(0, 0))); // since 0 asks for everything; she has message 1 already
        store.append("lobby", "bob", "c-2", "two").get(10, TimeUnit.SECONDS);
        Await.until("message 2 delivered", Duration.ofSeconds(10), () -> alice.heard.contains("message 2"));

        assertThat(alice.heard).filteredOn(s -> s.startsWith("message")).containsExactly("message 1", "message 2");
        assertThat(delivery.localMembers("lobby")).isEqualTo(1);
        assertThat(await(presence.real.members("lobby"))).containsExactly("alice");
    }

    @Test
    void a_replay_holds_no_more_bytes_than_its_bound_and_then_says_it_did_not_recover() throws Exception {
        for (int i = 1; i <= 8; i++) store.append("lobby", "bob", "c-" + i, "x".repeat(4000)).get(10, TimeUnit.SECONDS);
        Recorder alice = new Recorder("alice");
        await(delivery.join(alice, "lobby", 0L, "j1", new Seat(0, 0)));

        // A replay is queued on the outbox at once: eight such messages would be 32 KB where five fit.
        Await.until("the replay delivered", Duration.ofSeconds(10), () -> alice.heard.contains("message 8"));
        assertThat(alice.heard).filteredOn(s -> s.startsWith("message")).containsExactly("message 4", "message 5", "message 6", "message 7", "message 8");
        assertThat(alice.lastJoined.recovered()).isFalse();

        // Small messages are not cut: the same bound holds hundreds of them.
        for (int i = 9; i <= 60; i++) store.append("lobby", "bob", "c-" + i, "hello " + i).get(10, TimeUnit.SECONDS);
        Recorder carol = new Recorder("carol");
        await(delivery.join(carol, "lobby", 8L, "j2", new Seat(0, 0)));
        Await.until("the replay delivered", Duration.ofSeconds(10), () -> carol.heard.contains("message 60"));
        assertThat(carol.heard).filteredOn(s -> s.startsWith("message")).hasSize(52);
        assertThat(carol.lastJoined.recovered()).isTrue();
    }

    @Test
    void a_join_whose_subscriber_is_gone_when_its_turn_comes_reads_no_replay() throws Exception {
        store.append("lobby", "bob", "c-1", "one").get(10, TimeUnit.SECONDS);
        Recorder alice = new Recorder("alice");

        assertThatThrownBy(() -> await(delivery.join(alice, "lobby", 0L, "j1", new Seat(0, 0), () -> false)))
                .hasCauseInstanceOf(dev.parley.work.Blocking.Abandoned.class);
        assertThat(alice.heard).isEmpty();
        assertThat(delivery.localMembers("lobby")).isZero();
        assertThat(await(presence.real.members("lobby"))).isEmpty();
    }

    @Test
    void a_join_that_fails_while_its_presence_join_is_under_way_leaves_the_user_absent() throws Exception {
        Recorder alice = new Recorder("alice");
        Promise<Void> presenceJoin = Promise.promise();
        presence.beforeJoin = presenceJoin::future;
        db.close(); // the store cannot be read: the join fails before presence has answered

        Future<Seat> joining = delivery.join(alice, "lobby", null, "j1", new Seat(0, 0));
        // The store read fails (and alice is taken out of the room) while presence has not answered.
        Await.until("the join's store read failed", Duration.ofSeconds(10), () -> delivery.localMembers("lobby") == 0);
        presenceJoin.complete(); // presence answers only now: alice's presence entry must be undone

        assertThatThrownBy(() -> await(joining)).hasCauseInstanceOf(dev.parley.store.StoreException.class);
        Await.until("alice absent from lobby again", Duration.ofSeconds(10), () -> presence.real.members("lobby").result().isEmpty());
        assertThat(delivery.localMembers("lobby")).isZero();
        assertThat(delivery.activeRooms()).doesNotContain("lobby");
    }

    /** Stores a room event the way the room routes do, and hands it to the delivery as they do. */
    private List<Message> change(String room, String target, RoomChange event) {
        store.ensureRoom(room);
        var changed = new RoomStore(db).change(room, "alice", target, st -> new RoomStore.Plan<>(
                List.of(new RoomStore.Write.Event("alice", event.type() + " " + target, event)), null));
        delivery.committed(changed.events());
        return changed.events();
    }

    @Test
    void an_event_that_removes_a_member_is_their_last_frame_of_the_room_and_leaves_the_others_in_it() throws Exception {
        Recorder alice = new Recorder("alice");
        Recorder bob = new Recorder("bob");
        await(delivery.join(alice, "lobby", null, "a", new Seat(0, 0)));
        Seat bobs = await(delivery.join(bob, "lobby", null, "b", new Seat(0, 0)));

        change("lobby", "bob", RoomChange.of(RoomChange.BANNED, "bob", "alice"));
        store.append("lobby", "alice", "c-1", "after the ban").get(10, TimeUnit.SECONDS);

        Await.until("alice got the message after the ban", Duration.ofSeconds(10), () -> alice.heard.contains("message 2"));
        assertThat(bob.heard.subList(1, bob.heard.size())).as("after joined").containsExactly("message 1", "left banned");
        assertThat(bobs.removed()).isTrue();
        assertThat(alice.heard).filteredOn(h -> h.startsWith("message")).containsExactly("message 1", "message 2");
        Await.until("bob gone from the room's presence", Duration.ofSeconds(10), () -> presence.real.members("lobby").result().equals(List.of("alice")));
        assertThat(alice.heard).contains("OFFLINE bob");
        assertThat(delivery.localMembers("lobby")).isEqualTo(1);
        assertThat(delivery.leave(bob, "lobby")).as("bob is out already").isFalse();
    }

    @Test
    void a_mute_after_the_join_changes_the_seat_and_one_before_it_does_not() throws Exception {
        Recorder bob = new Recorder("bob");
        long until = System.currentTimeMillis() + 60_000;
        change("lobby", "bob", new RoomChange(RoomChange.MUTED, "bob", "alice", null, null, until, null, null)); // seq 1
        // bob's join checked his access after seq 1 (and found him muted): replaying seq 1 changes nothing
        Seat seat = await(delivery.join(bob, "lobby", 0L, "b", new Seat(1, until)));
        Await.until("bob got the replay", Duration.ofSeconds(10), () -> bob.heard.contains("message 1"));
        assertThat(seat.mutedUntil()).isEqualTo(until);

        change("lobby", "bob", RoomChange.of(RoomChange.UNMUTED, "bob", "alice")); // seq 2, after his join
        Await.until("the unmute reached bob", Duration.ofSeconds(10), () -> bob.heard.contains("message 2"));
        assertThat(seat.mutedUntil()).isZero();
        assertThat(seat.removed()).isFalse();
    }

    @Test
    void a_removal_replayed_from_before_the_access_check_does_not_take_the_member_out() throws Exception {
        Recorder bob = new Recorder("bob");
        change("lobby", "bob", RoomChange.of(RoomChange.MEMBER_REMOVED, "bob", "alice")); // seq 1: an old removal
        Seat seat = await(delivery.join(bob, "lobby", 0L, "b", new Seat(1, 0)));
        Await.until("bob got the replay", Duration.ofSeconds(10), () -> bob.heard.contains("message 1"));
        assertThat(seat.removed()).isFalse();
        assertThat(bob.heard).doesNotContain("left removed");
        assertThat(delivery.localMembers("lobby")).isEqualTo(1);
    }

    @Test
    void a_join_whose_access_was_checked_before_a_removal_committed_is_refused_and_leaves_nothing_behind() throws Exception {
        Recorder bob = new Recorder("bob");
        store.ensureRoom("lobby");
        // bob's access was checked at seq 0; the ban commits before the join reads the room
        change("lobby", "bob", RoomChange.of(RoomChange.BANNED, "bob", "alice"));

        assertThatThrownBy(() -> await(delivery.join(bob, "lobby", null, "b", new Seat(0, 0)))).hasCauseInstanceOf(Delivery.Refused.class);
        assertThat(bob.heard).isEmpty();
        assertThat(delivery.localMembers("lobby")).isZero();
        Await.until("bob absent", Duration.ofSeconds(10), () -> presence.real.members("lobby").result().isEmpty());
    }

    @Test
    void a_mute_committed_between_the_access_check_and_the_join_applies_to_the_seat() throws Exception {
        Recorder bob = new Recorder("bob");
        store.ensureRoom("lobby");
        long until = System.currentTimeMillis() + 60_000;
        change("lobby", "bob", new RoomChange(RoomChange.MUTED, "bob", "alice", null, null, until, null, null));

        Seat seat = await(delivery.join(bob, "lobby", null, "b", new Seat(0, 0)));
        assertThat(seat.mutedUntil()).isEqualTo(until);
        assertThat(seat.accessSeq()).isEqualTo(1);
    }

    /** Another node deletes the room and makes it again, private, by carol. */
    private List<Message> deleteAndRemake(String room) {
        RoomStore rs = new RoomStore(db);
        var deleted = rs.change(room, "alice", null, st -> new RoomStore.Plan<>(List.of(
                new RoomStore.Write.Event("alice", "deleted", RoomChange.of(RoomChange.ROOM_DELETED, null, "alice")),
                new RoomStore.Write.DeleteRoom()), null));
        rs.purge(room);
        var made = rs.change(room, "carol", null, st -> new RoomStore.Plan<>(List.of(
                new RoomStore.Write.CreateRoom("private", null, null),
                new RoomStore.Write.PutMember("carol", "owner", null),
                new RoomStore.Write.Event("carol", "made", new RoomChange(RoomChange.ROOM_CREATED, null, "carol", null, null, null, "private", null))), null));
        return List.of(deleted.events().get(0), made.events().get(0));
    }

    @Test
    void a_node_that_missed_a_deletion_learns_it_from_the_store_before_anything_of_the_room_made_again() throws Exception {
        Recorder bob = new Recorder("bob");
        Seat seat = await(delivery.join(bob, "lobby", null, "b", new Seat(0, 0)));
        List<Message> events = deleteAndRemake("lobby");
        delivery.committed(List.of(events.get(1))); // the broker lost the deletion (seq 1): room_created (2) waits for it

        Await.until("bob taken out by the deletion read back from the store", Duration.ofSeconds(10), seat::removed);
        store.append("lobby", "carol", "c-1", "new private words").get(10, TimeUnit.SECONDS);
        assertThat(bob.heard.subList(1, bob.heard.size())).containsExactly("message 1", "left room_deleted");
    }

    @Test
    void a_join_checked_before_a_deletion_and_a_new_room_under_the_name_is_refused() throws Exception {
        store.ensureRoom("lobby");
        deleteAndRemake("lobby"); // after bob's access check at seq 0
        Recorder bob = new Recorder("bob");
        assertThatThrownBy(() -> await(delivery.join(bob, "lobby", null, "b", new Seat(0, 0)))).hasCauseInstanceOf(Delivery.Refused.class);
        assertThat(bob.heard).isEmpty();
    }
}
