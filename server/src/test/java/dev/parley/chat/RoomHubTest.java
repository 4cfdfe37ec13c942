package dev.parley.chat;

import dev.parley.event.Message;
import dev.parley.event.Notice;
import dev.parley.event.RoomEvent;
import dev.parley.broker.LocalBroker;
import dev.parley.config.ChatConfig;
import dev.parley.config.Setting;
import dev.parley.store.Database;
import dev.parley.store.MessageStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The hub's join seam for presence: what a member that is still joining hears about others. */
class RoomHubTest {
    @TempDir
    Path tmp;

    private Vertx vertx;
    private Database db;
    private MessageStore store;
    private RoomHub hub;

    /** Records what the hub tells it, as a connection would send it. */
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
        public void joined(Joined joined) {
            heard.add("joined " + joined.members());
        }

        @Override
        public void message(Message message) {
            heard.add("message " + message.seq());
        }

        @Override
        public void notice(Notice notice) {
            heard.add(notice.kind() + " " + notice.user());
        }
    }

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        String url = ChatConfig.load(Map.of(), Map.of(Setting.DATA_DIR, tmp.toString())).databaseUrl();
        db = new Database(url, "", "", 2);
        LocalBroker broker = new LocalBroker();
        store = new MessageStore(db, 64, committed -> {}, MessageStore.BatchObserver.NONE);
        hub = new RoomHub(vertx, store, broker, 100, 100, RoomHub.Listener.NONE);
        broker.start(hub::onEvent);
    }

    @AfterEach
    void stop() throws Exception {
        store.close();
        db.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void someone_who_comes_online_while_a_member_is_joining_is_announced_to_it_after_joined() throws Exception {
        Recorder alice = new Recorder("alice");
        Promise<List<String>> present = Promise.promise();
        Future<RoomHub.Membership> joining = hub.join(alice, "lobby", null, "j1", present::future);

        // bob comes online after alice's list of present users was read, before her join completes
        hub.onEvent(new RoomEvent.PresenceChanged("lobby", "bob", true));
        hub.onEvent(new RoomEvent.PresenceChanged("lobby", "alice", true)); // about herself: never told
        present.complete(List.of("alice"));
        joining.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertThat(alice.heard).containsExactly("joined [alice]", "ONLINE bob");
    }

    @Test
    void the_present_users_are_read_after_the_member_is_registered() throws Exception {
        Recorder alice = new Recorder("alice");
        List<String> order = new CopyOnWriteArrayList<>();
        hub.join(alice, "lobby", null, "j1", () -> {
            // a presence change now must already reach alice (after joined), so she is registered
            hub.onEvent(new RoomEvent.PresenceChanged("lobby", "carol", true));
            order.add("read");
            return Future.succeededFuture(List.of("alice"));
        }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertThat(order).containsExactly("read");
        assertThat(alice.heard).containsExactly("joined [alice]", "ONLINE carol");
    }
}
