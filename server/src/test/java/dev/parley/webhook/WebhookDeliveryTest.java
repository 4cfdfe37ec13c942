package dev.parley.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md, webhooks: deliveries to real HTTP receivers started here (the JDK's HTTP server), as
 * a room's owner sees them. A fast back-off (50 ms) and 3 attempts keep it quick; private addresses
 * are allowed, since the receivers are on 127.0.0.1.
 */
class WebhookDeliveryTest {
    static final String ADMIN = ParleyServer.unique("hookadmin");
    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.ADMINS, ADMIN)
            .with(Setting.WEBHOOK_ALLOW_PRIVATE, "true")
            .with(Setting.WEBHOOK_RETRY_BASE, "50ms")
            .with(Setting.WEBHOOK_ATTEMPTS, "3")
            .with(Setting.WEBHOOK_TIMEOUT, "5s")
            .with(Setting.API_RATE, "1000"); // the waits below read the list often

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final AtomicInteger ROOMS = new AtomicInteger();

    /** An owner, their token and a public room of theirs. */
    private record Owner(String user, String token, String room) {}

    private static Owner owner() {
        return owner("public");
    }

    private static Owner owner(String visibility) {
        String user = ParleyServer.unique("owner");
        String token = server.http().register(user);
        String room = "hooks-" + ROOMS.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        Http.Response made = server.http().request("POST", "/api/rooms", token, "{\"name\":\"" + room + "\",\"visibility\":\"" + visibility + "\"}");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        return new Owner(user, token, room);
    }

    /** Registers a webhook; returns its answer (with the secret). */
    private static JsonNode register(Owner o, String url, String events) {
        String body = "{\"url\":\"" + url + "\"" + (events == null ? "" : ",\"events\":" + events) + "}";
        Http.Response r = server.http().request("POST", "/api/rooms/" + o.room() + "/webhooks", o.token(), body);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json();
    }

    private static JsonNode listed(Owner o, String id) {
        Http.Response r = server.http().get("/api/rooms/" + o.room() + "/webhooks", o.token());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        for (JsonNode w : r.json().get("webhooks")) if (w.get("id").asText().equals(id)) return w;
        throw new AssertionError("webhook " + id + " not listed: " + r.body());
    }

    /** Sends texts and returns the acks' seqs, in order. */
    private static List<Long> send(WsClient c, String room, String... texts) {
        String tag = Long.toString(System.nanoTime(), 36);
        for (int i = 0; i < texts.length; i++) c.send("type", "send", "room", room, "text", texts[i], "clientId", tag + "-" + i, "ref", tag + "-" + i);
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) seqs.add(c.await("ack", tag + "-" + i).get("seq").asLong());
        return seqs;
    }

    private static void join(WsClient c, String room) {
        c.send("type", "join", "room", room, "ref", "j-" + room);
        c.await("joined", "j-" + room);
    }

    private static List<Long> seqs(List<Receiver.Delivery> deliveries) {
        return deliveries.stream().map(d -> d.json().get("seq").asLong()).toList();
    }

    @Test
    void a_good_receiver_gets_every_event_of_its_kinds_in_order_each_signed_with_its_secret() {
        Owner o = owner();
        String bob = ParleyServer.unique("bob");
        server.http().register(bob);
        try (Receiver all = new Receiver(); Receiver messagesOnly = new Receiver(); WsClient c = server.connect(o.token())) {
            JsonNode hook = register(o, all.url(), null);
            String secret = hook.get("secret").asText();
            assertThat(secret).startsWith("whsec_");
            assertThat(hook.get("events").toString()).isEqualTo("[\"message\",\"edited\",\"deleted\",\"reaction\",\"membership\",\"room\"]");
            JsonNode narrow = register(o, messagesOnly.url(), "[\"message\"]");

            join(c, o.room());
            List<Long> sent = send(c, o.room(), "one", "two", "three");
            c.send("type", "edit", "room", o.room(), "seq", sent.get(0), "text", "one, edited", "ref", "e1");
            c.await("ack", "e1");
            c.send("type", "react", "room", o.room(), "seq", sent.get(1), "emoji", "👍", "on", true, "ref", "r1");
            c.await("ack", "r1");
            c.send("type", "delete", "room", o.room(), "seq", sent.get(2), "ref", "d1");
            c.await("ack", "d1");
            assertThat(server.http().request("PUT", "/api/rooms/" + o.room() + "/members/" + bob, o.token(), "{}").status()).isEqualTo(201);
            List<Long> more = send(c, o.room(), "four");

            Await.until("8 events delivered", WAIT, () -> all.accepted().size() >= 8);
            Await.until("4 messages delivered", WAIT, () -> messagesOnly.accepted().size() >= 4);
            List<Receiver.Delivery> got = all.accepted();
            assertThat(got).hasSize(8);
            assertThat(got.stream().map(Receiver.Delivery::event).toList())
                    .containsExactly("message", "message", "message", "edited", "reaction", "deleted", "membership", "message");
            List<Long> seqs = seqs(got);
            assertThat(seqs).isSorted().doesNotHaveDuplicates();
            assertThat(seqs.get(7)).isEqualTo(more.get(0));
            long now = System.currentTimeMillis() / 1000;
            for (Receiver.Delivery d : got) {
                assertThat(Signature.verify(secret, d.signature(), d.body(), now, 300)).as(d.signature()).isTrue();
                assertThat(Signature.verify(narrow.get("secret").asText(), d.signature(), d.body(), now, 300)).isFalse();
                JsonNode body = d.json();
                assertThat(body.get("id").asText()).isEqualTo(d.eventId()).isEqualTo(body.get("message").get("id").asText());
                assertThat(body.get("webhook").asText()).isEqualTo(hook.get("id").asText()).isEqualTo(d.webhook());
                assertThat(body.get("room").asText()).isEqualTo(o.room());
                assertThat(body.get("type").asText()).isEqualTo(d.event());
            }
            JsonNode first = got.get(0).json();
            assertThat(first.get("message").get("from").asText()).isEqualTo(o.user());
            assertThat(got.get(3).json().get("message").get("event").get("type").asText()).isEqualTo("edited");
            assertThat(got.get(6).json().get("message").get("event").get("user").asText()).isEqualTo(bob);
            // A tampered body does not verify.
            byte[] forged = new String(got.get(1).body(), StandardCharsets.UTF_8).replace("two", "TWO").getBytes(StandardCharsets.UTF_8);
            assertThat(Signature.verify(secret, got.get(1).signature(), forged, now, 300)).isFalse();

            assertThat(seqs(messagesOnly.accepted())).containsExactly(sent.get(0), sent.get(1), sent.get(2), more.get(0));
            Await.until("the list shows the last seq delivered", WAIT, () -> listed(o, hook.get("id").asText()).get("lastDeliveredSeq").asLong() == more.get(0));
            JsonNode shown = listed(o, hook.get("id").asText());
            assertThat(shown.get("status").asText()).isEqualTo("active");
            assertThat(shown.get("failures").asInt()).isZero();
            assertThat(shown.get("lastDeliveredAt").isNull()).isFalse();
            assertThat(shown.has("secret")).isFalse();
        }
    }

    private static Http.Response call(String method, String path, String token, String json) {
        return server.http().request(method, path, token, json);
    }

    /** Posts a message over HTTP; returns its seq. */
    private static long post(String token, String room, String text) {
        Http.Response r = call("POST", "/api/rooms/" + room + "/messages", token, "{\"text\":\"" + text + "\",\"clientId\":\"" + text + "\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("seq").asLong();
    }

    private static List<String> ids(String token, String room) {
        Http.Response r = server.http().get("/api/rooms/" + room + "/webhooks", token);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        for (JsonNode w : r.json().get("webhooks")) ids.add(w.get("id").asText());
        return ids;
    }

    @Test
    void a_webhook_stops_once_its_creator_hands_the_ownership_over_and_gets_nothing_after_they_are_banned() {
        Owner alice = owner("private");
        String room = alice.room();
        String bob = ParleyServer.unique("bob"), bobToken = server.http().register(bob);
        assertThat(call("PUT", "/api/rooms/" + room + "/members/" + bob, alice.token(), "{}").status()).isEqualTo(201);
        try (Receiver alices = new Receiver(); Receiver bobs = new Receiver()) {
            String hook = register(alice, alices.url(), "[\"message\"]").get("id").asText();
            long before = post(alice.token(), room, "before");
            Await.until("alice's webhook delivers", WAIT, () -> alices.accepted().size() == 1);

            // A moderator may not manage the room's webhooks: hers end with the handover.
            assertThat(call("PUT", "/api/rooms/" + room + "/members/" + bob, alice.token(), "{\"role\":\"owner\"}").status()).isEqualTo(200);
            assertThat(ids(bobToken, room)).doesNotContain(hook).isEmpty();
            assertThat(call("PUT", "/api/rooms/" + room + "/bans/" + alice.user(), bobToken, "{}").status()).isEqualTo(204);
            String bobsHook = register(new Owner(bob, bobToken, room), bobs.url(), "[\"message\"]").get("id").asText();
            long after = post(bobToken, room, "after");

            Await.until("bob's webhook delivers", WAIT, () -> bobs.accepted().size() == 1);
            assertThat(seqs(bobs.accepted())).containsExactly(after);
            assertThat(seqs(alices.received())).as("alice, banned, gets nothing of the room").containsExactly(before);
            assertThat(ids(bobToken, room)).containsExactly(bobsHook);
        }
    }

    @Test
    void an_administrator_s_webhook_of_a_private_room_ends_when_they_are_removed_leave_or_are_banned() {
        Owner o = owner("private");
        String room = o.room();
        String admin = server.http().register(ADMIN);
        Owner asAdmin = new Owner(ADMIN, admin, room);
        try (Receiver admins = new Receiver(); Receiver owners = new Receiver()) {
            String ownersHook = register(o, owners.url(), "[\"message\"]").get("id").asText();
            String[][] ends = {{"DELETE", "/members/" + ADMIN, o.token()}, {"DELETE", "/members/" + ADMIN, admin}, {"PUT", "/bans/" + ADMIN, o.token()}};
            for (String[] end : ends) {
                assertThat(call("PUT", "/api/rooms/" + room + "/members/" + ADMIN, admin, "{}").status()).isEqualTo(201);
                String hook = register(asAdmin, admins.url(), "[\"message\"]").get("id").asText();
                assertThat(ids(o.token(), room)).contains(hook);
                Http.Response r = call(end[0], "/api/rooms/" + room + end[1], end[2], end[0].equals("PUT") ? "{}" : null);
                assertThat(r.status()).as(r.body()).isEqualTo(204);
                assertThat(ids(o.token(), room)).as("after " + end[0] + " " + end[1]).containsExactly(ownersHook);
            }
            long sent = post(o.token(), room, "members only");
            Await.until("the owner's webhook delivers", WAIT, () -> owners.accepted().size() == 1);
            assertThat(seqs(owners.accepted())).containsExactly(sent);
            assertThat(admins.received()).as("the administrator, no member, gets nothing of the room").isEmpty();
        }
    }

    @Test
    void a_receiver_that_always_fails_is_given_up_after_the_attempts_and_the_owner_sees_why_and_can_take_it_up_again() {
        Owner o = owner();
        try (Receiver failing = new Receiver(); WsClient c = server.connect(o.token())) {
            failing.answer(() -> 500);
            JsonNode hook = register(o, failing.url(), "[\"message\"]");
            String id = hook.get("id").asText();
            long start = hook.get("lastDeliveredSeq").asLong();
            join(c, o.room());
            List<Long> sent = send(c, o.room(), "a", "b");

            Await.until("disabled", WAIT, () -> listed(o, id).get("status").asText().equals("disabled"));
            JsonNode shown = listed(o, id);
            assertThat(shown.get("failures").asInt()).isEqualTo(3);
            assertThat(shown.get("lastError").asText()).isEqualTo("HTTP 500");
            assertThat(shown.get("lastDeliveredSeq").asLong()).isEqualTo(start);
            assertThat(shown.get("lastAttemptAt").isNull()).isFalse();
            assertThat(shown.get("nextAttemptAt").isNull()).isTrue();
            assertThat(failing.received()).hasSize(3); // the same first event, three times, then nothing more
            assertThat(seqs(failing.received())).containsOnly(sent.get(0));

            // Fixed, and taken up again: it goes on from the first event it missed.
            failing.answer(() -> 200);
            Http.Response enabled = server.http().request("PUT", "/api/rooms/" + o.room() + "/webhooks/" + id + "/enabled", o.token(), null);
            assertThat(enabled.status()).as(enabled.body()).isEqualTo(200);
            assertThat(enabled.json().get("status").asText()).isEqualTo("active");
            Await.until("both delivered", WAIT, () -> failing.accepted().size() == 2);
            assertThat(seqs(failing.accepted())).containsExactlyElementsOf(sent);
            Await.until("active again", WAIT, () -> listed(o, id).get("failures").asInt() == 0);
        }
    }

    @Test
    void a_receiver_that_holds_its_requests_does_not_hold_the_acks_of_the_room() {
        Owner o = owner();
        try (Receiver slow = new Receiver(); WsClient c = server.connect(o.token())) {
            register(o, slow.url(), "[\"message\"]");
            slow.hold();
            join(c, o.room());
            List<Long> first = send(c, o.room(), "first");
            Await.until("the receiver holds a delivery", WAIT, () -> slow.held() >= 1);
            // While the receiver holds its request, the room goes on: every send is acknowledged.
            List<Long> sent = send(c, o.room(), "2", "3", "4", "5", "6", "7", "8", "9", "10");
            assertThat(sent).hasSize(9).isSorted();
            assertThat(slow.accepted()).isEmpty(); // still held: nothing answered yet
            slow.release();
            Await.until("all ten delivered", WAIT, () -> slow.accepted().size() >= 10);
            List<Long> all = new ArrayList<>(first);
            all.addAll(sent);
            assertThat(seqs(slow.accepted())).containsExactlyElementsOf(all);
        }
    }

    @Test
    void a_receiver_that_answers_500_and_then_recovers_gets_every_event_in_order_and_accepts_each_once() {
        Owner o = owner();
        try (Receiver flaky = new Receiver(); WsClient c = server.connect(o.token())) {
            AtomicInteger calls = new AtomicInteger();
            flaky.answer(() -> calls.incrementAndGet() <= 2 ? 500 : 204); // two failures: fewer than the 3 attempts
            JsonNode hook = register(o, flaky.url(), "[\"message\"]");
            join(c, o.room());
            List<Long> sent = send(c, o.room(), "a", "b", "c", "d", "e");
            Await.until("five accepted", WAIT, () -> flaky.accepted().size() >= 5);
            assertThat(seqs(flaky.accepted())).containsExactlyElementsOf(sent);
            assertThat(flaky.accepted().stream().map(Receiver.Delivery::eventId).distinct().count()).isEqualTo(5);
            assertThat(flaky.received()).hasSize(7);
            String metrics = server.admin().get("/metrics", null).body();
            assertThat(metrics).containsPattern("parley_webhook_deliveries_total\\{outcome=\"delivered\"} [1-9]")
                    .containsPattern("parley_webhook_deliveries_total\\{outcome=\"failed\"} [1-9]");
            Await.until("active", WAIT, () -> listed(o, hook.get("id").asText()).get("status").asText().equals("active"));
            JsonNode shown = listed(o, hook.get("id").asText());
            assertThat(shown.get("failures").asInt()).isZero();
            assertThat(shown.get("lastError").asText()).isEqualTo("HTTP 500"); // the last failure stays to be read
        }
    }

    @Test
    void events_not_yet_delivered_when_the_node_stops_are_delivered_after_it_starts_again() {
        Owner o = owner();
        try (Receiver receiver = new Receiver()) {
            receiver.answer(() -> 503);
            JsonNode hook = register(o, receiver.url(), "[\"message\"]");
            List<Long> sent;
            try (WsClient c = server.connect(o.token())) {
                join(c, o.room());
                sent = send(c, o.room(), "x", "y", "z");
            }
            Await.until("a failure", WAIT, () -> !receiver.received().isEmpty());
            server.restart();
            receiver.answer(() -> 204);
            // Failed before the restart, perhaps disabled: it goes on from what the store says it delivered.
            server.http().request("PUT", "/api/rooms/" + o.room() + "/webhooks/" + hook.get("id").asText() + "/enabled", o.token(), null);
            Await.until("all three delivered", WAIT, () -> receiver.accepted().size() >= 3);
            assertThat(seqs(receiver.accepted())).containsExactlyElementsOf(sent);
        }
    }
}
