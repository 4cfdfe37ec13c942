package dev.parley.durability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A whole node on the embedded database when H2 closes under it on a fault (SHUTDOWN IMMEDIATELY
 * here: nothing unwritten is written, as when H2 stops on a full disk). The connection pool opens
 * H2 again, without the commits it had not written; the node must refuse it rather than give those
 * messages' seqs to new ones (docs/ARCHITECTURE.md), and a restart must bring back every
 * acknowledged message from the journal.
 */
class DatabaseFaultTest {
    private static final String ROOM = "fault";

    @RegisterExtension
    static ParleyServer node = ParleyServer.create();

    @Test
    void after_h2_closes_on_a_fault_no_send_is_acknowledged_and_a_restart_brings_back_every_acknowledged_message() throws Exception {
        String token = node.newUser("faulty");
        try (WsClient c = node.connect(token)) {
            c.send("type", "join", "room", ROOM, "ref", "j");
            c.await("joined", "j");
            for (int i = 1; i <= 3; i++) {
                c.send("type", "send", "room", ROOM, "text", "before " + i, "clientId", "b" + i, "ref", "b" + i);
                c.await("ack", "b" + i);
            }
            try (Connection raw = DriverManager.getConnection(node.server().config().databaseUrl()); Statement st = raw.createStatement()) {
                st.execute("SHUTDOWN IMMEDIATELY");
            } catch (SQLException e) {
                // H2 may report its own shutdown on the statement that asked for it
            }
            // The pool's old connections fail on use and are let go; every connection it opens after
            // them is to the H2 opened again, which the node refuses. More sends than the pool holds
            // connections: without the refusal, the later ones would be acknowledged.
            List<String> answers = new ArrayList<>();
            for (int i = 1; i <= 12; i++) {
                String ref = "a" + i;
                c.send("type", "send", "room", ROOM, "text", "after " + i, "clientId", ref, "ref", ref);
                JsonNode answer = c.await(f -> ref.equals(f.path("ref").asText()) && ("ack".equals(f.path("type").asText()) || "error".equals(f.path("type").asText())),
                        Duration.ofSeconds(10), "the answer to " + ref);
                answers.add(answer.path("type").asText() + " " + answer.path("code").asText());
            }
            assertThat(answers).as("what each send after the fault was answered").containsOnly("error unavailable");
        }
        Thread.sleep(1_000); // past the pool's 500 ms without a check, so the readiness check opens a connection of its own
        Http.Response ready = node.admin().get("/health/ready", null);
        assertThat(ready.status()).isEqualTo(503);
        assertThat(ready.json().path("checks").path("database").asText()).isEqualTo("DOWN");

        node.restart();
        JsonNode messages = node.http().get("/api/rooms/" + ROOM + "/messages?limit=50", token).json().get("messages");
        List<String> history = new ArrayList<>();
        for (JsonNode m : messages) history.add(m.get("seq").asLong() + " " + m.get("text").asText());
        assertThat(history).containsExactly("1 before 1", "2 before 2", "3 before 3");
    }
}
