package dev.parley.client;

import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.TcpProxy;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The client library (client/) against a real server in this JVM: accounts and their refusals, a
 * send answered by its ack and delivered once, a refused join, history and posts over HTTP, and the
 * resume across a cut connection (no message lost or doubled, what was sent meanwhile stored once).
 */
class ParleyClientTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    private static final Duration WAIT = Duration.ofSeconds(15);

    /** What a listener got, for a test to read from its own thread. */
    static final class Events {
        final List<Event> all = new ArrayList<>();

        synchronized void add(Event e) {
            all.add(e);
        }

        synchronized List<Event.Message> messages(String room) {
            return all.stream().filter(e -> e instanceof Event.Message m && m.room().equals(room)).map(Event.Message.class::cast).toList();
        }

        synchronized <T extends Event> List<T> of(Class<T> type) {
            return all.stream().filter(type::isInstance).map(type::cast).toList();
        }
    }

    @Test
    void register_and_login_give_sessions_and_refusals_are_exceptions_with_the_protocols_code() throws Exception {
        ParleyClient parley = new ParleyClient(server.baseUrl());
        String name = ParleyServer.unique("lib");
        Session s = parley.register(name, "password-1");
        assertThat(s.username()).isEqualTo(name);
        assertThat(s.expiresAt()).isNotNull();
        assertThat(s.toString()).doesNotContain(s.token());
        assertThat(parley.login(name, "password-1").username()).isEqualTo(name);
        assertThat(parley.registerOrLogin(name, "password-1").username()).isEqualTo(name);

        assertThatThrownBy(() -> parley.register(name, "password-1")).isInstanceOfSatisfying(ParleyException.class, e -> {
            assertThat(e.status()).isEqualTo(409);
            assertThat(e.code()).isEqualTo("conflict");
        });
        assertThatThrownBy(() -> parley.login(name, "wrong-password")).isInstanceOfSatisfying(ParleyException.class, e -> {
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.code()).isEqualTo("unauthorized");
        });
    }

    @Test
    void a_send_completes_with_its_ack_the_message_arrives_once_and_a_retry_with_its_client_id_stores_nothing_more() throws Exception {
        ParleyClient parley = new ParleyClient(server.baseUrl());
        Session alice = parley.register(ParleyServer.unique("alice"), "password-1");
        String room = ParleyServer.unique("lib-room").replace("_", "-");
        Events got = new Events();
        try (Connection c = parley.connect(TokenSource.fixed(alice.token()), got::add);
             WsClient bob = server.connect(server.newUser("bob"))) {
            Event.Joined joined = c.join(room).get(10, TimeUnit.SECONDS);
            assertThat(joined.room()).isEqualTo(room);
            assertThat(joined.members()).contains(alice.username());
            bob.send("type", "join", "room", room, "ref", "j");
            bob.await("joined", "j");

            Event.Ack ack = c.send(room, "hello from the library", "lib-1").get(10, TimeUnit.SECONDS);
            assertThat(ack.seq()).isPositive();
            assertThat(ack.clientId()).isEqualTo("lib-1");
            assertThat(c.send(room, "hello from the library", "lib-1").get(10, TimeUnit.SECONDS).seq())
                    .as("the same clientId: the first ack").isEqualTo(ack.seq());

            assertThat(bob.awaitMessages(room, 1, WAIT).get(0).get("text").asText()).isEqualTo("hello from the library");
            Await.until("alice's own message", WAIT, () -> !got.messages(room).isEmpty());
            c.ping().get(10, TimeUnit.SECONDS); // anything after the message has come
            assertThat(got.messages(room)).extracting(Event.Message::seq).containsExactly(ack.seq());
            assertThat(got.of(Event.Connected.class)).hasSize(1);

            Event.History page = c.history(room, 0, 10).get(10, TimeUnit.SECONDS);
            assertThat(page.messages()).extracting(Event.Message::text).containsExactly("hello from the library");
            assertThat(c.leave(room).get(10, TimeUnit.SECONDS).room()).isEqualTo(room);
            assertThatThrownBy(() -> c.send(room, "after leaving").get(10, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(ParleyException.class, e -> assertThat(e.code()).isEqualTo("not_joined"));
        }
    }

    @Test
    void a_refused_join_fails_with_the_servers_code_and_the_room_is_not_kept() throws Exception {
        ParleyClient parley = new ParleyClient(server.baseUrl());
        String owner = server.newUser("owner");
        String room = ParleyServer.unique("secret").replace("_", "-");
        assertThat(server.http().request("POST", "/api/rooms", owner, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}").status()).isEqualTo(201);
        Session mallory = parley.register(ParleyServer.unique("mallory"), "password-1");
        try (Connection c = parley.connect(TokenSource.fixed(mallory.token()), e -> {})) {
            CompletableFuture<Event.Joined> join = c.join(room);
            assertThatThrownBy(() -> join.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(ParleyException.class, e -> assertThat(e.code()).isEqualTo("forbidden"));
            assertThatThrownBy(() -> c.send(room, "let me in").get(10, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(ParleyException.class, e -> assertThat(e.code()).isEqualTo("not_joined"));
        }
    }

    @Test
    void history_pages_and_posts_over_http_take_the_protocols_shapes() throws Exception {
        ParleyClient parley = new ParleyClient(server.baseUrl());
        Session s = parley.register(ParleyServer.unique("poster"), "password-1");
        String room = ParleyServer.unique("posts").replace("_", "-");
        assertThat(server.http().request("POST", "/api/rooms", s.token(), "{\"name\":\"" + room + "\",\"visibility\":\"public\"}").status()).isEqualTo(201);
        Event.Ack first = parley.post(s.token(), room, "one", "p-1");
        Event.Ack again = parley.post(s.token(), room, "one", "p-1");
        parley.post(s.token(), room, "two", "p-2");
        assertThat(again.seq()).isEqualTo(first.seq());

        Event.History newest = parley.messagesBefore(s.token(), room, 0, 1);
        assertThat(newest.messages()).extracting(Event.Message::text).containsExactly("two");
        assertThat(newest.hasMore()).isTrue();
        Event.History all = parley.messagesAfter(s.token(), room, 0, 100);
        assertThat(all.messages()).filteredOn(m -> !m.isRoomEvent()).extracting(Event.Message::text).containsExactly("one", "two");
        assertThat(all.messages()).filteredOn(m -> !m.isRoomEvent()).allSatisfy(m -> {
            assertThat(m.from()).isEqualTo(s.username());
            assertThat(m.ts()).isNotNull();
        });
        assertThatThrownBy(() -> parley.messagesAfter(s.token(), "no-such-room-" + System.nanoTime(), 0, 10))
                .isInstanceOfSatisfying(ParleyException.class, e -> assertThat(e.code()).isEqualTo("not_found"));
    }

    @Test
    void after_a_cut_it_reconnects_resumes_with_since_and_sends_what_was_asked_meanwhile_each_message_once_in_order() throws Exception {
        ParleyClient direct = new ParleyClient(server.baseUrl());
        Session alice = direct.register(ParleyServer.unique("alice"), "password-1");
        String room = ParleyServer.unique("cut").replace("_", "-");
        Events got = new Events();
        try (TcpProxy line = TcpProxy.to(server.port());
             WsClient bob = server.connect(server.newUser("bob"))) {
            ParleyClient viaProxy = new ParleyClient("http://127.0.0.1:" + line.port());
            try (Connection c = viaProxy.connect(TokenSource.fixed(alice.token()), got::add)) {
                c.join(room).get(10, TimeUnit.SECONDS);
                bob.send("type", "join", "room", room, "ref", "j");
                bob.await("joined", "j");
                bob.send("type", "send", "room", room, "text", "before", "clientId", "b-0");
                Await.until("the first message", WAIT, () -> got.messages(room).size() == 1);

                line.cut();
                Await.until("the library to notice the cut", WAIT, () -> !got.of(Event.Disconnected.class).isEmpty());
                CompletableFuture<Event.Ack> meanwhile = c.send(room, "typed while cut off", "a-1");
                for (int i = 1; i <= 3; i++) bob.send("type", "send", "room", room, "text", "missed " + i, "clientId", "b-" + i);
                bob.awaitMessages(room, 4, WAIT);
                line.restore();

                Event.Ack ack = meanwhile.get(45, TimeUnit.SECONDS);
                Await.until("every message", Duration.ofSeconds(20), () -> got.messages(room).size() >= 5);
                c.ping().get(10, TimeUnit.SECONDS);
                assertThat(got.messages(room)).extracting(Event.Message::text)
                        .containsExactly("before", "missed 1", "missed 2", "missed 3", "typed while cut off");
                assertThat(got.messages(room)).extracting(Event.Message::seq).isSorted().doesNotHaveDuplicates();
                assertThat(got.messages(room).get(4).seq()).isEqualTo(ack.seq());
                assertThat(got.of(Event.Connected.class)).hasSizeGreaterThanOrEqualTo(2);
                assertThat(got.of(Event.Disconnected.class)).allSatisfy(d -> assertThat(d.willReconnect()).isTrue());
            }
            assertThat(got.of(Event.Disconnected.class).getLast().willReconnect()).as("closed by the client: for good").isFalse();
        }
    }
}
