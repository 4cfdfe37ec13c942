package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PROTOCOL.md 10, close code 4003: a revoked token's connections close, and only those. */
class SessionRevocationTest {
    static final String ADMIN = ParleyServer.unique("wsadmin");

    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ADMINS, ADMIN);

    /** Generous, for a shared machine; on this node a revocation closes at once. */
    private static final Duration CLOSE = Duration.ofSeconds(5);

    private static Http.Response logout(String token, boolean all) {
        return server.http().request("POST", "/api/auth/logout", token, all ? "{\"all\":true}" : null);
    }

    @Test
    void a_logout_closes_that_tokens_connections_with_4003_and_leaves_the_users_other_token_connected() {
        String user = ParleyServer.unique("twodevices");
        String phone = server.http().register(user), laptop = server.http().login(user);
        String room = Ws.room("revoke-one");
        try (WsClient p = server.connect(phone); WsClient l = server.connect(laptop)) {
            Ws.join(p, room);
            Ws.join(l, room);

            assertThat(logout(phone, false).status()).isEqualTo(204);

            assertThat(p.awaitClose(CLOSE)).isEqualTo(4003);
            assertThat(p.closeReason()).isEqualTo("session revoked");
            assertThat(server.server().metrics().registry().get(dev.parley.metrics.ChatMetrics.REVOKED_CLOSES).counter().count()).isPositive();
            Ws.alive(l);
            Ws.send(l, room, "still here", "still-1");
            assertThat(l.isOpen()).isTrue();
        }
    }

    @Test
    void a_logout_everywhere_closes_every_connection_of_the_user_and_no_one_elses() {
        String user = ParleyServer.unique("allout");
        String a = server.http().register(user), b = server.http().login(user);
        String other = server.newUser("neighbour");
        try (WsClient ca = server.connect(a); WsClient cb = server.connect(b); WsClient co = server.connect(other)) {
            Ws.alive(ca);
            Ws.alive(cb);

            assertThat(logout(b, true).status()).isEqualTo(204);

            assertThat(ca.awaitClose(CLOSE)).isEqualTo(4003);
            assertThat(cb.awaitClose(CLOSE)).isEqualTo(4003);
            Ws.alive(co);
        }
    }

    @Test
    void a_revoked_token_cannot_open_a_connection_nor_refresh_one() {
        String user = ParleyServer.unique("deadtoken");
        String revoked = server.http().register(user), live = server.http().login(user);
        assertThat(logout(revoked, false).status()).isEqualTo(204);

        assertThatThrownBy(() -> server.connect(revoked)).isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(401));
        try (WsClient c = server.connect(live)) {
            c.send("type", "refresh", "token", revoked, "ref", "r");
            JsonNode err = c.await(Ws.is("error", "r"), Ws.T, "error");
            assertThat(err.get("code").asText()).isEqualTo("unauthorized");
            Ws.alive(c);
        }
    }

    @Test
    void a_connection_that_refreshed_to_a_new_token_outlives_the_logout_of_its_first_one() {
        String user = ParleyServer.unique("refreshed");
        String first = server.http().register(user), second = server.http().login(user);
        try (WsClient c = server.connect(first)) {
            c.send("type", "refresh", "token", second, "ref", "r");
            Ws.alive(c); // frames are handled in order: the refresh is done

            assertThat(logout(first, false).status()).isEqualTo(204);
            Ws.alive(c);

            assertThat(logout(second, false).status()).isEqualTo(204);
            assertThat(c.awaitClose(CLOSE)).isEqualTo(4003);
        }
    }

    @Test
    void a_password_change_closes_the_users_other_sessions_but_not_the_callers() {
        String user = ParleyServer.unique("rotated");
        String caller = server.http().register(user), stolen = server.http().login(user);
        try (WsClient mine = server.connect(caller); WsClient theirs = server.connect(stolen)) {
            Ws.alive(mine);
            Ws.alive(theirs);

            Http.Response r = server.http().request("POST", "/api/auth/password", caller,
                    "{\"current\":\"password-" + user + "\",\"new\":\"a brand new one\"}");

            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(theirs.awaitClose(CLOSE)).isEqualTo(4003);
            Ws.alive(mine);
        }
    }

    @Test
    void disabling_an_account_closes_its_connections_with_4003() {
        String admin = server.http().register(ADMIN);
        String user = ParleyServer.unique("banned");
        String token = server.http().register(user);
        try (WsClient c = server.connect(token)) {
            Ws.alive(c);

            assertThat(server.http().request("PUT", "/api/admin/users/" + user + "/disabled", admin, null).status()).isEqualTo(204);

            assertThat(c.awaitClose(CLOSE)).isEqualTo(4003);
        }
    }

    @Test
    void every_message_stored_before_the_close_had_its_ack_sent_before_the_close_frame() {
        String user = ParleyServer.unique("lastsend");
        String token = server.http().register(user);
        String room = Ws.room("revoke-ack");
        try (WsClient c = server.connect(token)) {
            Ws.join(c, room);
            Ws.send(c, room, "first", "c-first");
            for (int i = 0; i < 20; i++) c.send("type", "send", "room", room, "text", "m" + i, "clientId", "c" + i, "ref", "s" + i);

            assertThat(logout(token, false).status()).isEqualTo(204);
            assertThat(c.awaitClose(CLOSE)).isEqualTo(4003);

            // Sends read before the close was decided are answered before it; those after are not
            // taken, so not stored: either way the client knows what to resend.
            java.util.Set<String> acked = new java.util.HashSet<>();
            c.frames("ack").forEach(f -> acked.add(f.get("clientId").asText()));
            for (JsonNode m : Ws.history(server, server.newUser("reader"), room)) {
                assertThat(acked).as("ack of stored message " + m.get("clientId").asText()).contains(m.get("clientId").asText());
            }
        }
    }
}
