package dev.parley.web;

import com.microsoft.playwright.Locator;
import dev.parley.config.ChatConfig;
import dev.parley.testing.Chromium;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.concurrent.TimeUnit;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;

/** The web client shows where a room's history starts once its retention removed the oldest messages (PROTOCOL.md 3.3, retention). */
class RetentionWebIT {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();
    @RegisterExtension
    static Chromium browser = Chromium.create();

    @Test
    void a_room_whose_oldest_messages_were_removed_says_its_history_starts_there() throws Exception {
        String room = "trimmed-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        String owner = server.newUser("owner");
        Http.Response made = server.http().request("POST", "/api/rooms", owner, "{\"name\":\"" + room + "\",\"visibility\":\"public\"}");
        org.assertj.core.api.Assertions.assertThat(made.status()).isEqualTo(201);
        try (WsClient c = server.connect(owner)) {
            c.send("type", "join", "room", room, "ref", "j");
            c.await("joined", "j");
            for (int i = 1; i <= 6; i++) c.send("type", "send", "room", room, "text", "old " + i, "clientId", "c" + i, "ref", "s" + i);
            for (int i = 1; i <= 6; i++) c.await("ack", "s" + i);
        }
        org.assertj.core.api.Assertions.assertThat(server.http().request("PUT", "/api/rooms/" + room + "/retention", owner, "{\"messages\":3}").status()).isEqualTo(200);
        ChatConfig config = server.server().config();
        try (Connection db = DriverManager.getConnection(config.databaseUrl(), config.databaseUser(), config.databasePassword());
             PreparedStatement ps = db.prepareStatement("UPDATE messages SET ts = ts - 3600000 WHERE room = ?")) {
            ps.setString(1, room);
            ps.executeUpdate();
        }
        server.server().sweepRetention(System.currentTimeMillis()).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

        ChatPage bob = new ChatPage(browser.newPage("bob"), "bob", server.baseUrl()).register(ParleyServer.unique("bob"), "bob-password");
        bob.join(room);
        assertThat(bob.messages()).hasCount(2); // old 5, old 6; the third kept is the retention_set event
        Locator marker = bob.page.locator("#messages .history-marker");
        assertThat(marker).hasText("History starts here: older messages were removed by the room's retention.");
    }
}
