package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Guarantee 5: presence is per user: online at the first join, offline after the last connection goes. */
class PresenceTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    /** The statuses the observer got about {@code user} in {@code room}, in order. */
    private static List<String> statuses(WsClient observer, String room, String user) {
        return observer.frames("presence").stream()
                .filter(f -> room.equals(f.path("room").asText()) && user.equals(f.path("user").asText()))
                .map(f -> f.get("status").asText()).toList();
    }

    /** Lets every event caused so far reach the observer: each client's frames are handled in order. */
    private static void settle(WsClient... clients) {
        for (WsClient c : clients) Ws.alive(c);
    }

    @Test
    void two_connections_of_one_user_go_online_once_and_offline_when_the_last_one_drops() {
        String user = ParleyServer.unique("twice");
        String token = server.http().register(user);
        String room = Ws.room("twice");
        try (WsClient observer = server.connect(server.newUser("observer"))) {
            Ws.join(observer, room);
            WsClient first = server.connect(token);
            WsClient second = server.connect(token);

            Ws.join(first, room);
            observer.await(Ws.presence(room, user, "online"), Ws.T, "online");
            JsonNode joined = Ws.join(second, room);
            settle(first, second, observer);
            assertThat(statuses(observer, room, user)).as("the second connection is not a new arrival").containsExactly("online");
            assertThat(joined.get("online").asInt()).isEqualTo(2);
            assertThat(joined.get("members")).extracting(JsonNode::asText).containsOnlyOnce(user);

            first.send("type", "leave", "room", room, "ref", "bye");
            first.await("left", "bye");
            settle(first, second, observer);
            assertThat(statuses(observer, room, user)).as("still online through the second connection").containsExactly("online");

            second.abort(); // dropped, not closed
            observer.await(Ws.presence(room, user, "offline"), Ws.T, "offline after the drop");
            settle(observer);
            assertThat(statuses(observer, room, user)).containsExactly("online", "offline");
            first.close();
        }
    }

    @Test
    void a_user_goes_offline_after_the_last_connection_closes_even_if_an_earlier_one_was_dropped() {
        String user = ParleyServer.unique("dropper");
        String token = server.http().register(user);
        String room = Ws.room("drops");
        try (WsClient observer = server.connect(server.newUser("observer"))) {
            Ws.join(observer, room);
            WsClient first = server.connect(token);
            WsClient second = server.connect(token);
            Ws.join(first, room);
            Ws.join(second, room);

            first.abort();
            // The drop is noticed once the server sees the socket close; the user stays online meanwhile.
            dev.parley.testing.Await.until("the dropped connection to be gone", Ws.T,
                    () -> server.server().metrics().openConnections() <= 2);
            settle(second, observer);
            assertThat(statuses(observer, room, user)).containsExactly("online");

            second.close();
            observer.await(Ws.presence(room, user, "offline"), Ws.T, "offline");
            assertThat(statuses(observer, room, user)).containsExactly("online", "offline");
        }
    }

    @Test
    void leaving_and_joining_again_announces_offline_then_online() {
        String user = ParleyServer.unique("flicker");
        String token = server.http().register(user);
        String room = Ws.room("flicker");
        try (WsClient observer = server.connect(server.newUser("observer")); WsClient c = server.connect(token)) {
            Ws.join(observer, room);
            Ws.join(c, room);
            c.send("type", "leave", "room", room, "ref", "l");
            c.await("left", "l");
            Ws.join(c, room);
            observer.await(f -> statuses(observer, room, user).size() >= 3, Ws.T, "three presence events");

            assertThat(statuses(observer, room, user)).containsExactly("online", "offline", "online");
            assertThat(c.frames("presence")).as("nobody is told about themselves").isEmpty();
        }
    }

    @Test
    void joined_lists_the_users_online_once_each_and_the_presence_route_agrees() {
        String alice = ParleyServer.unique("alice"), bob = ParleyServer.unique("bob");
        String ta = server.http().register(alice), tb = server.http().register(bob);
        String room = Ws.room("members");
        try (WsClient a1 = server.connect(ta); WsClient a2 = server.connect(ta); WsClient b = server.connect(tb)) {
            Ws.join(a1, room);
            Ws.join(a2, room);
            JsonNode joined = Ws.join(b, room);

            assertThat(joined.get("online").asInt()).isEqualTo(2);
            assertThat(joined.get("members")).extracting(JsonNode::asText).containsExactlyInAnyOrder(alice, bob);
            JsonNode route = server.http().get("/api/rooms/" + room + "/presence", tb).json();
            assertThat(route.get("users")).extracting(JsonNode::asText).containsExactlyInAnyOrder(alice, bob);
        }
    }
}
