package dev.parley.durability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A connection in a room that joins it again, and whose join fails (here H2 is down, so the access
 * check cannot be made): it is out of the room, as PROTOCOL.md says of a failed join, so it must
 * let go of the subscription it had. Before, it kept it: it went on receiving the room, and once
 * closed it stayed online there, since the close lets go of the rooms a connection holds.
 */
class RejoinFaultTest {
    private static final Duration T = Duration.ofSeconds(20);

    @RegisterExtension
    static ParleyServer node = ParleyServer.create();

    @Test
    void a_failed_join_again_takes_the_connection_out_of_the_room_and_the_others_see_it_go() throws Exception {
        String room = "rejoin";
        String alice = ParleyServer.unique("rejoiner");
        String aliceToken = node.http().register(alice);
        try (WsClient bob = node.connect(node.newUser("watcher")); WsClient a = node.connect(aliceToken)) {
            bob.send("type", "join", "room", room, "ref", "jb");
            bob.await(f -> "joined".equals(f.path("type").asText()), T, "bob's joined");
            a.send("type", "join", "room", room, "ref", "ja");
            a.await(f -> "joined".equals(f.path("type").asText()), T, "alice's joined");
            bob.await(presence(room, alice, "online"), T, "alice online");

            try (Connection raw = DriverManager.getConnection(node.server().config().databaseUrl()); Statement st = raw.createStatement()) {
                st.execute("SHUTDOWN IMMEDIATELY");
            } catch (SQLException e) {
                // H2 may report its own shutdown on the statement that asked for it
            }
            a.send("type", "join", "room", room, "ref", "again");
            JsonNode refused = a.await(f -> "again".equals(f.path("ref").asText()), T, "the answer to the join again");
            assertThat(refused.path("type").asText()).as(refused.toString()).isEqualTo("error");
            bob.await(presence(room, alice, "offline"), T, "alice offline after her failed join again");
        }
    }

    private static java.util.function.Predicate<JsonNode> presence(String room, String user, String status) {
        return f -> "presence".equals(f.path("type").asText()) && room.equals(f.path("room").asText())
                && user.equals(f.path("user").asText()) && status.equals(f.path("status").asText());
    }
}
