package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.auth.TokenService;
import dev.parley.testing.Await;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The refresh frame (PROTOCOL.md section 3) and guarantee 9: a token that expires unrefreshed closes with 4001. */
class RefreshAndExpiryTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    private static final TokenService TOKENS = TokenService.hs256(ParleyServer.SECRET, Duration.ofHours(1));

    /** A token of {@code user} that expires in about {@code seconds} (JWT expiry has whole seconds). */
    private static TokenService.Issued expiringIn(String user, int seconds) {
        return TOKENS.issue(user, Instant.now().plusSeconds(seconds));
    }

    private static void awaitPast(Instant instant) {
        Await.until("the clock to pass " + instant, Duration.ofSeconds(30), () -> Instant.now().isAfter(instant));
    }

    @Test
    void a_connection_whose_token_expires_without_a_refresh_is_closed_with_4001() {
        String user = ParleyServer.unique("expiring");
        server.http().register(user);
        String room = Ws.room("expiry");
        try (WsClient c = server.connect(expiringIn(user, 4).token())) {
            Ws.join(c, room);

            assertThat(c.awaitClose(Duration.ofSeconds(30))).isEqualTo(4001);
        }
    }

    @Test
    void a_client_closed_for_expiry_goes_offline_at_once_even_if_it_never_answers_the_close() {
        String user = ParleyServer.unique("mute");
        server.http().register(user);
        String room = Ws.room("mute-expiry");
        try (WsClient observer = server.connect(server.newUser("observer"));
             RawWebSocket raw = RawWebSocket.open(server.port(), expiringIn(user, 3).token())) {
            Ws.join(observer, room);
            raw.sendText("{\"type\":\"join\",\"room\":\"" + room + "\",\"ref\":\"j\"}");
            observer.await(Ws.presence(room, user, "online"), Ws.T, "online");

            // The raw client reads nothing from here on, so it never answers the server's close frame.
            JsonNode offline = observer.await(Ws.presence(room, user, "offline"), Duration.ofSeconds(8), "offline within seconds of the expiry");

            assertThat(offline.get("user").asText()).isEqualTo(user);
        }
    }

    @Test
    void a_refresh_with_a_new_token_of_the_same_user_keeps_the_connection_past_the_first_token_expiry() {
        String user = ParleyServer.unique("refresher");
        server.http().register(user);
        TokenService.Issued first = expiringIn(user, 4);
        String room = Ws.room("refresh");
        try (WsClient c = server.connect(first.token())) {
            Ws.join(c, room);
            c.send("type", "refresh", "token", TOKENS.issue(user, Instant.now().plusSeconds(3600)).token(), "ref", "r1");
            Ws.alive(c); // frames are handled in order: the refresh is done

            awaitPast(first.expiresAt().plusSeconds(2));

            assertThat(c.isOpen()).as("closed with %s", c.closeCode()).isTrue();
            Ws.alive(c);
            Ws.send(c, room, "still here", "still");
            assertThat(c.frames("error")).as("a refresh that worked has no error").isEmpty();
        }
    }

    @Test
    void a_refresh_with_a_token_of_another_user_is_forbidden_and_does_not_extend_the_connection() {
        String user = ParleyServer.unique("owner"), other = ParleyServer.unique("other");
        server.http().register(user);
        String otherToken = server.http().register(other);
        try (WsClient c = server.connect(expiringIn(user, 4).token())) {
            c.send("type", "refresh", "token", otherToken, "ref", "steal");
            JsonNode err = c.await(Ws.is("error", "steal"), Ws.T, "error");

            assertThat(err.get("code").asText()).isEqualTo("forbidden");
            assertThat(c.awaitClose(Duration.ofSeconds(30))).isEqualTo(4001);
        }
    }

    @Test
    void a_refresh_with_garbage_a_forged_or_an_expired_token_is_unauthorized_and_the_connection_stays() {
        String user = ParleyServer.unique("clumsy");
        String token = server.http().register(user);
        try (WsClient c = server.connect(token)) {
            c.send("type", "refresh", "token", "garbage", "ref", "g");
            c.send("type", "refresh", "token", TokenService.hs256("another-secret-0123456789-0123456789-xyz", Duration.ofHours(1))
                    .issue(user).token(), "ref", "f");
            c.send("type", "refresh", "token", TOKENS.issue(user, Instant.now().minusSeconds(10)).token(), "ref", "e");

            for (String ref : new String[]{"g", "f", "e"}) {
                assertThat(c.await(Ws.is("error", ref), Ws.T, "error " + ref).get("code").asText()).isEqualTo("unauthorized");
            }
            Ws.alive(c);
        }
    }
}
