package dev.parley.ws;

import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** Guarantee 7: a client hears only the rooms it joined, and cannot post or type into others. */
class IsolationTest {
    @RegisterExtension
    static ParleyServer server = ParleyServer.create();

    @Test
    void a_client_gets_no_message_typing_or_presence_of_a_room_it_did_not_join() {
        String mine = Ws.room("mine"), theirs = Ws.room("theirs");
        String bob = ParleyServer.unique("bob");
        try (WsClient outsider = server.connect(server.newUser("outsider"));
             WsClient a = server.connect(server.newUser("alice"));
             WsClient b = server.connect(server.http().register(bob))) {
            Ws.join(outsider, mine);
            Ws.join(a, theirs);

            Ws.join(b, theirs);                                    // presence online
            Ws.send(a, theirs, "secret", "s1");                    // message
            b.send("type", "typing", "room", theirs);              // typing
            a.await(Ws.is("typing"), Ws.T, "typing in their room");
            b.send("type", "leave", "room", theirs, "ref", "l");   // presence offline
            a.await(Ws.presence(theirs, bob, "offline"), Ws.T, "bob offline");
            Ws.alive(outsider);

            assertThat(outsider.frames().stream().filter(f -> theirs.equals(f.path("room").asText()))).isEmpty();
            assertThat(outsider.frames("message")).isEmpty();
            assertThat(outsider.frames("typing")).isEmpty();
            assertThat(outsider.frames("presence")).isEmpty();
        }
    }

    @Test
    void sending_or_typing_to_a_room_not_joined_is_not_joined_and_stores_nothing() {
        String theirs = Ws.room("closed");
        String memberToken = server.newUser("member");
        try (WsClient outsider = server.connect(server.newUser("outsider")); WsClient member = server.connect(memberToken)) {
            Ws.join(member, theirs);

            outsider.send("type", "send", "room", theirs, "text", "let me in", "clientId", "x", "ref", "s");
            outsider.send("type", "typing", "room", theirs, "ref", "t");
            outsider.send("type", "leave", "room", theirs, "ref", "l");

            assertThat(outsider.await(Ws.is("error", "s"), Ws.T, "error").get("code").asText()).isEqualTo("not_joined");
            assertThat(outsider.await(Ws.is("error", "t"), Ws.T, "error").get("code").asText()).isEqualTo("not_joined");
            assertThat(outsider.await(Ws.is("error", "l"), Ws.T, "error").get("code").asText()).isEqualTo("not_joined");
            Ws.alive(outsider);
            Ws.alive(member);
            assertThat(member.frames("message")).isEmpty();
            assertThat(member.frames("typing")).isEmpty();
            assertThat(Ws.history(server, memberToken, theirs)).isEmpty();
        }
    }

    @Test
    void after_leaving_a_room_a_client_hears_nothing_more_from_it() {
        String room = Ws.room("left-behind");
        try (WsClient leaver = server.connect(server.newUser("leaver")); WsClient stayer = server.connect(server.newUser("stayer"))) {
            Ws.join(leaver, room);
            Ws.join(stayer, room);
            leaver.send("type", "leave", "room", room, "ref", "l");
            leaver.await("left", "l");

            Ws.send(stayer, room, "after", "a1");
            stayer.send("type", "typing", "room", room);
            try (WsClient third = server.connect(server.newUser("third"))) {
                Ws.join(third, room);
                stayer.await(f -> "presence".equals(f.path("type").asText()) && "online".equals(f.path("status").asText())
                        && !f.path("user").asText().startsWith("leaver"), Ws.T, "third online");
            }
            Ws.alive(stayer);
            Ws.alive(leaver);

            var frames = leaver.frames();
            var afterLeaving = frames.subList(frames.indexOf(leaver.await("left", "l")) + 1, frames.size());
            assertThat(afterLeaving.stream().filter(f -> room.equals(f.path("room").asText()))).isEmpty();
        }
    }
}
