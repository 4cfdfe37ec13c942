package dev.parley.rooms;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.rooms.RoomKit.User;
import dev.parley.testing.Await;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

import static dev.parley.rooms.RoomKit.T;
import static dev.parley.rooms.RoomKit.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROTOCOL.md 3.3, "who may do what": every route and every frame, by every role, in every kind of
 * room, allowed or refused with the exact status and code. One server for the class; each case makes
 * its own room.
 *
 * <p>The table below is the contract as read from PROTOCOL.md. A cell is what the actor gets:
 * <ul>
 *   <li>an HTTP status; an error status must carry its code of section 8 (400 bad_request,
 *       403 forbidden, 404 not_found, 409 conflict);</li>
 *   <li>{@code hide}: 404 byte for byte as for a room that does not exist (the private room is invisible);</li>
 *   <li>{@code yes}/{@code no}: the room is / is not in the actor's {@code GET /api/rooms};</li>
 *   <li>{@code ok} or an error code: the answer to a frame; {@code dropped}: a typing neither refused
 *       nor passed on;</li>
 *   <li>{@code a/b}: PROTOCOL.md does not say which of the two (each such cell is named in the report
 *       of the branch), either passes;</li>
 *   <li>{@code -}: no such case (a direct room has no owner, moderators, bans or mutes).</li>
 * </ul>
 * Besides the answer, every case checks the room's timeline: a refused or read-only request adds no
 * event, an allowed change adds exactly its event(s), with the right {@code user} and {@code by}.
 */
class AuthorizationMatrixTest {
    static final String ADMIN_NAME = ParleyServer.unique("admin");

    @RegisterExtension
    static ParleyServer server = ParleyServer.create().with(Setting.ADMINS, ADMIN_NAME)
            .with(Setting.ROOMS_PER_HOUR, "0") // alice makes a room per case, hundreds: the quota has its own tests
            .with(Setting.API_RATE, "0"); // and calls the routes a few thousand times in seconds: so does ApiRateTest

    enum Kind { PUBLIC, PRIVATE, DIRECT }

    enum Role { NONE, MEMBER, MODERATOR, OWNER, ADMIN, BANNED, MUTED }

    private static final List<Role> ROOM_ROLES = List.of(Role.NONE, Role.MEMBER, Role.MODERATOR, Role.OWNER, Role.ADMIN, Role.BANNED, Role.MUTED);
    private static final List<Role> DIRECT_ROLES = List.of(Role.NONE, Role.MEMBER, Role.ADMIN);

    //  action          | public:  none member moderator owner admin banned muted   | private: the same columns                 | direct: none member admin
    private static final String[] TABLE = {
        "list             | yes yes yes yes yes yes         yes       | no   yes yes yes no       no   yes       | no         yes        no",
        "get_room         | 200 200 200 200 200 200/403     200       | hide 200 200 200 hide     hide 200       | hide       200        hide",
        "get_messages     | 200 200 200 200 200 200/403     200       | hide 200 200 200 hide     hide 200       | hide       200        hide",
        "get_presence     | 200 200 200 200 200 200/403     200       | hide 200 200 200 hide     hide 200       | hide       200        hide",
        "get_members      | 200 200 200 200 200 200/403     200       | hide 200 200 200 200/hide hide 200       | hide       200        hide",
        "delete_room      | 403 403 403 204 204 403         403       | 404  403 403 204 204      404  403       | 404        403        204",
        "add_member       | 403 403 201 201 201 403         403       | 404  403 201 201 201      404  403       | 404        403/400    403/400",
        "add_self         | 403 -   -   -   201 403/409     -         | 404  -   -   -   201      404  -         | 404        -          403/400",
        "promote          | 403 403 403 200 200 403         403       | 404  403 403 200 200      404  403       | 404        403/400    403/400",
        "demote           | 403 403 403 200 200 403         403       | 404  403 403 200 200      404  403       | -          -          -",
        "transfer         | 403 403 403 200 200 403         403       | 404  403 403 200 200      404  403       | 404        403/400    403/400",
        "mute             | 403 403 200 200 200 403         403       | 404  403 200 200 200      404  403       | 404        403/400    403/400",
        "mute_moderator   | 403 403 403 200 200 403         403       | 404  403 403 200 200      404  403       | -          -          -",
        "unmute           | 403 403 200 200 200 403         403       | 404  403 200 200 200      404  403       | -          -          -",
        "kick             | 403 403 204 204 204 403         403       | 404  403 204 204 204      404  403       | 404        403/400    403/400",
        "kick_moderator   | 403 403 403 204 204 403         403       | 404  403 403 204 204      404  403       | -          -          -",
        "leave            | 404 204 204 400 404 404         204       | 404  204 204 400 404      404  204       | 404        400/403    404",
        "get_bans         | 403 403 200 200 200 403         403       | 404  403 200 200 200      404  403       | 404        403        -",
        "ban              | 403 403 204 204 204 403         403       | 404  403 204 204 204      404  403       | 404        403/400    403/400",
        "ban_moderator    | 403 403 403 204 204 403         403       | 404  403 403 204 204      404  403       | -          -          -",
        "unban            | 403 403 204 204 204 403         403       | 404  403 204 204 204      404  403       | 404        403/404    403/404",
        "join             | ok  ok  ok  ok  ok  forbidden   ok        | forbidden ok ok ok forbidden forbidden ok | forbidden ok forbidden",
        "send             | ok  ok  ok  ok  ok  not_joined  forbidden | not_joined ok ok ok not_joined not_joined forbidden | not_joined ok not_joined",
        "typing           | ok  ok  ok  ok  ok  not_joined  dropped   | not_joined ok ok ok not_joined not_joined dropped   | not_joined ok not_joined",
        "history          | ok  ok  ok  ok  ok  ok/forbidden ok       | hide ok  ok  ok  hide     hide ok        | hide       ok         hide",
    };

    static RoomKit kit;
    /** alice owns every room of the table (and is the other user of every direct room): she can always read it. */
    static User alice, admin, nora, memberUser, moderatorUser, bannedUser, mutedUser, tom, mia, ben, fresh;

    @BeforeAll
    static void cast() {
        kit = new RoomKit(server);
        alice = kit.user("alice");
        admin = new User(ADMIN_NAME, server.http().register(ADMIN_NAME));
        nora = kit.user("nora");           // signed in, member of nothing
        memberUser = kit.user("mem");
        moderatorUser = kit.user("mod");
        bannedUser = kit.user("banned");
        mutedUser = kit.user("muted");
        tom = kit.user("tom");             // a member, the usual target
        mia = kit.user("mia");             // a moderator, a target
        ben = kit.user("ben");             // banned, whose ban is lifted
        fresh = kit.user("fresh");         // someone invited
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String row : TABLE) {
            String[] parts = row.split("\\|");
            String action = parts[0].trim();
            addRow(out, action, Kind.PUBLIC, ROOM_ROLES, parts[1]);
            addRow(out, action, Kind.PRIVATE, ROOM_ROLES, parts[2]);
            addRow(out, action, Kind.DIRECT, DIRECT_ROLES, parts[3]);
        }
        return out.stream();
    }

    private static void addRow(List<Arguments> out, String action, Kind kind, List<Role> roles, String cells) {
        String[] c = cells.trim().split("\\s+");
        if (c.length != roles.size()) throw new IllegalStateException(action + " " + kind + ": " + c.length + " cells for " + roles);
        for (int i = 0; i < c.length; i++) {
            if (!c[i].equals("-")) out.add(Arguments.of(action, kind, roles.get(i), c[i]));
        }
    }

    /** One case's room and people. */
    record Scene(Kind kind, Role role, String room, User actor, User target) {}

    @ParameterizedTest(name = "{0} by {2} in a {1} room: {3}")
    @MethodSource("cases")
    void the_table(String action, Kind kind, Role role, String cell) {
        Set<String> expected = new LinkedHashSet<>(Arrays.asList(cell.split("/")));
        Scene s = scene(action, kind, role);
        long before = kit.lastSeq(alice, s.room());

        Outcome o = switch (action) {
            case "list" -> list(s);
            case "join", "send", "typing", "history" -> frame(action, s, expected);
            default -> route(action, s);
        };

        if (expected.size() > 1) System.out.println("AMBIGUOUS CELL " + action + " by " + role + " in " + kind + " (" + cell + "): " + o.detail());
        assertThat(o.tokens()).as("%s by %s (%s) in %s room %s: expected %s, got %s", action, role, s.actor().name(), kind, s.room(), cell, o.detail())
                .containsAnyElementsOf(expected);
        timeline(action, s, o, before);
    }

    /** What happened: the tokens of the table it matches (a 404 identical to a missing room's is both "404" and "hide"). */
    record Outcome(Set<String> tokens, String detail, boolean changed) {}

    // --- the scene ---

    private Scene scene(String action, Kind kind, Role role) {
        if (kind == Kind.DIRECT) {
            User peer = kit.user("peer");
            Http.Response r = kit.dm(alice, peer.name());
            assertThat(r.status()).as("POST /api/dms: %s", r.body()).isEqualTo(201);
            String room = r.json().get("name").asText();
            return switch (role) {
                case MEMBER -> new Scene(kind, role, room, peer, alice);
                case NONE -> new Scene(kind, role, room, nora, peer);
                case ADMIN -> new Scene(kind, role, room, admin, peer);
                default -> throw new IllegalStateException(role + " in a direct room");
            };
        }
        String room = kit.made(alice, RoomKit.room(action.replace('_', '-')), kind.name().toLowerCase(Locale.ROOT));
        User actor = switch (role) {
            case NONE -> nora;
            case MEMBER -> memberUser;
            case MODERATOR -> moderatorUser;
            case OWNER -> alice;
            case ADMIN -> admin;
            case BANNED -> bannedUser;
            case MUTED -> mutedUser;
        };
        switch (role) {
            case MEMBER -> kit.add(alice, room, memberUser, "member");
            case MODERATOR -> kit.add(alice, room, moderatorUser, "moderator");
            case BANNED -> {
                kit.add(alice, room, bannedUser, "member");
                kit.ban(alice, room, bannedUser);
            }
            case MUTED -> {
                kit.add(alice, room, mutedUser, "member");
                kit.mute(alice, room, mutedUser);
            }
            default -> { }
        }
        switch (action) {
            case "promote", "transfer", "mute", "kick", "ban" -> kit.add(alice, room, tom, "member");
            case "unmute" -> {
                kit.add(alice, room, tom, "member");
                kit.mute(alice, room, tom);
            }
            case "typing" -> {
                if (actor == alice) kit.add(alice, room, tom, "member"); // someone to see alice typing
            }
            case "demote", "mute_moderator", "kick_moderator", "ban_moderator" -> kit.add(alice, room, mia, "moderator");
            case "unban" -> {
                kit.add(alice, room, ben, "member");
                kit.ban(alice, room, ben);
            }
            default -> { }
        }
        return new Scene(kind, role, room, actor, tom);
    }

    /** A name of the same form as the scene's room that nobody has made. */
    private static String ghost(Scene s) {
        if (s.kind() != Kind.DIRECT) return RoomKit.room("ghost");
        StringBuilder b = new StringBuilder("dm-");
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        for (int i = 0; i < 26; i++) b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        return b.toString();
    }

    // --- GET /api/rooms ---

    private Outcome list(Scene s) {
        Http.Response r = kit.get(s.actor(), "/api/rooms?prefix=" + s.room());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode found = null;
        for (JsonNode n : r.json()) if (s.room().equals(n.path("name").asText())) found = n;
        if (found == null) return new Outcome(Set.of("no"), "not listed: " + r.body(), false);
        assertThat(found.path("kind").asText()).as(found.toString()).isEqualTo(s.kind().name().toLowerCase(Locale.ROOT));
        String role = switch (s.role()) {
            case MEMBER, MUTED -> "member";
            case MODERATOR -> "moderator";
            case OWNER -> "owner";
            default -> null;
        };
        if (role == null) assertThat(found.path("role").isNull()).as("role of %s in %s", s.role(), found).isTrue();
        else assertThat(found.path("role").asText()).as(found.toString()).isEqualTo(role);
        if (s.kind() == Kind.DIRECT) assertThat(found.path("with").asText()).as(found.toString()).isEqualTo(alice.name());
        return new Outcome(Set.of("yes"), "listed: " + found, false);
    }

    // --- HTTP routes ---

    private record Request(String method, String path, String body) {}

    private Request request(String action, Scene s, String room) {
        String base = "/api/rooms/" + room;
        String members = base + "/members/", bans = base + "/bans/";
        User target = s.kind() == Kind.DIRECT ? s.target() : null;
        return switch (action) {
            case "get_room" -> new Request("GET", base, null);
            case "get_messages" -> new Request("GET", base + "/messages", null);
            case "get_presence" -> new Request("GET", base + "/presence", null);
            case "get_members" -> new Request("GET", base + "/members", null);
            case "get_bans" -> new Request("GET", base + "/bans", null);
            case "delete_room" -> new Request("DELETE", base, null);
            case "add_member" -> new Request("PUT", members + fresh.name(), json("role", "member"));
            case "add_self" -> new Request("PUT", members + s.actor().name(), json("role", "member"));
            case "promote" -> new Request("PUT", members + s.target().name(), json("role", "moderator"));
            case "demote" -> new Request("PUT", members + mia.name(), json("role", "member"));
            case "transfer" -> new Request("PUT", members + s.target().name(), json("role", "owner"));
            case "mute" -> new Request("PUT", members + s.target().name(), json("mutedUntil", RoomKit.inFuture(3600)));
            case "mute_moderator" -> new Request("PUT", members + mia.name(), json("mutedUntil", RoomKit.inFuture(3600)));
            case "unmute" -> new Request("PUT", members + tom.name(), "{\"mutedUntil\":null}");
            case "kick" -> new Request("DELETE", members + s.target().name(), null);
            case "kick_moderator" -> new Request("DELETE", members + mia.name(), null);
            case "leave" -> new Request("DELETE", members + s.actor().name(), null);
            case "ban" -> new Request("PUT", bans + s.target().name(), json("reason", "spam"));
            case "ban_moderator" -> new Request("PUT", bans + mia.name(), json("reason", "spam"));
            case "unban" -> new Request("DELETE", bans + (target != null ? target.name() : ben.name()), null);
            default -> throw new IllegalArgumentException(action);
        };
    }

    private Outcome route(String action, Scene s) {
        Request q = request(action, s, s.room());
        Http.Response r = kit.http().request(q.method(), q.path(), s.actor().token(), q.body());
        String detail = q.method() + " " + q.path() + " -> " + r.status() + " " + r.body();
        Set<String> tokens = new LinkedHashSet<>();
        tokens.add(String.valueOf(r.status()));
        if (r.status() >= 400) {
            RoomKit.refused(r, r.status());
            if (r.status() == 404) {
                String ghost = ghost(s);
                Request g = request(action, s, ghost);
                Http.Response missing = kit.http().request(g.method(), g.path(), s.actor().token(), g.body());
                if (missing.status() == r.status() && missing.body().replace(ghost, s.room()).equals(r.body())) tokens.add("hide");
                else detail += " (a room that does not exist: " + missing.status() + " " + missing.body() + ")";
            }
            return new Outcome(tokens, detail, false);
        }
        checkBody(action, s, r);
        return new Outcome(tokens, detail, !q.method().equals("GET"));
    }

    /** A light look at what an allowed request answered. */
    private void checkBody(String action, Scene s, Http.Response r) {
        switch (action) {
            case "get_room" -> assertThat(r.json().path("name").asText()).as(r.body()).isEqualTo(s.room());
            case "get_messages" -> {
                assertThat(r.json().path("room").asText()).as(r.body()).isEqualTo(s.room());
                assertThat(r.json().path("messages").isArray()).as(r.body()).isTrue();
            }
            case "get_presence" -> assertThat(r.json().path("users").isArray()).as(r.body()).isTrue();
            case "get_members" -> {
                assertThat(r.json().path("room").asText()).as(r.body()).isEqualTo(s.room());
                List<String> users = new ArrayList<>();
                r.json().path("members").forEach(m -> users.add(m.path("user").asText()));
                assertThat(users).as(r.body()).contains(alice.name());
            }
            case "get_bans" -> assertThat(r.json().path("bans").isArray()).as(r.body()).isTrue();
            case "add_member", "add_self", "promote", "demote", "transfer", "mute", "mute_moderator", "unmute" -> {
                JsonNode m = r.json();
                assertThat(m.has("user") && m.has("role") && m.has("mutedUntil")).as("a member object: %s", r.body()).isTrue();
                String expectedRole = switch (action) {
                    case "promote" -> "moderator";
                    case "transfer" -> "owner";
                    case "demote", "add_member", "add_self" -> "member";
                    default -> null;
                };
                if (expectedRole != null) assertThat(m.path("role").asText()).as(r.body()).isEqualTo(expectedRole);
                if (action.startsWith("mute")) assertThat(m.path("mutedUntil").isNull()).as(r.body()).isFalse();
                if (action.equals("unmute")) assertThat(m.path("mutedUntil").isNull()).as(r.body()).isTrue();
            }
            default -> { }
        }
    }

    // --- frames ---

    private Outcome frame(String action, Scene s, Set<String> expected) {
        try (WsClient c = kit.connect(s.actor())) {
            if (action.equals("history")) return history(c, s);
            if (action.equals("typing")) return typing(c, s, expected);
            JsonNode joined = RoomKit.tryJoin(c, s.room());
            if (action.equals("join")) return answer(joined, "joined");
            JsonNode ack = RoomKit.trySend(c, s.room(), "hello from " + s.role());
            Outcome o = answer(ack, "ack");
            return new Outcome(o.tokens(), o.detail(), o.tokens().contains("ok"));
        }
    }

    private static Outcome answer(JsonNode a, String success) {
        String type = a.path("type").asText();
        if (type.equals(success)) return new Outcome(Set.of("ok"), a.toString(), false);
        assertThat(type).as(a.toString()).isEqualTo("error");
        return new Outcome(Set.of(a.path("code").asText()), a.toString(), false);
    }

    private Outcome history(WsClient c, Scene s) {
        String ref = RoomKit.ref("history");
        c.send("type", "history", "room", s.room(), "ref", ref);
        JsonNode a = c.await(RoomKit.answerTo(ref), T, "an answer to history");
        Outcome o = answer(a, "history");
        if (!o.tokens().contains("not_found")) return o;
        String ghost = ghost(s);
        String gref = RoomKit.ref("history");
        c.send("type", "history", "room", ghost, "ref", gref);
        JsonNode g = c.await(RoomKit.answerTo(gref), T, "an answer to history of a missing room");
        boolean same = g.path("code").asText().equals(a.path("code").asText())
                && g.path("message").asText().replace(ghost, s.room()).equals(a.path("message").asText());
        return new Outcome(same ? Set.of("not_found", "hide") : Set.of("not_found"), a + " (a room that does not exist: " + g + ")", false);
    }

    private static void pause() {
        try {
            Thread.sleep(20); // watching for an absence for a bounded time, not synchronising
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private Outcome typing(WsClient c, Scene s, Set<String> expected) {
        User observer = s.actor() == alice ? tom : alice;
        try (WsClient o = kit.connect(observer)) {
            RoomKit.join(o, s.room());
            RoomKit.tryJoin(c, s.room());
            String ref = RoomKit.ref("typing");
            c.send("type", "typing", "room", s.room(), "ref", ref);
            java.util.function.Predicate<JsonNode> seen = f -> "typing".equals(f.path("type").asText()) && s.actor().name().equals(f.path("user").asText());
            RoomKit.alive(c);
            if (expected.contains("dropped")) {
                // it may be dropped without a word: watch for a bounded time after the connection handled it
                RoomKit.alive(o);
                long until = System.nanoTime() + RoomKit.QUIET.toNanos();
                while (System.nanoTime() < until && c.frames().stream().noneMatch(RoomKit.answerTo(ref)) && o.frames().stream().noneMatch(seen)) {
                    pause();
                }
            } else {
                Await.until("an error about the typing, or the typing at " + observer.name(), T,
                        () -> c.frames().stream().anyMatch(RoomKit.answerTo(ref)) || o.frames().stream().anyMatch(seen));
            }
            List<JsonNode> errors = c.frames().stream().filter(RoomKit.answerTo(ref)).toList();
            if (!errors.isEmpty()) {
                assertThat(o.frames().stream().filter(seen)).as("a refused typing reaches nobody").isEmpty();
                return answer(errors.get(0), "none");
            }
            if (o.frames().stream().noneMatch(seen)) return new Outcome(Set.of("dropped"), "no error, and nobody saw the typing", false);
            return new Outcome(Set.of("ok"), "typing seen by " + observer.name(), false);
        }
    }

    // --- the timeline ---

    /** A refusal or a read adds nothing; an allowed change adds exactly its events. */
    private void timeline(String action, Scene s, Outcome o, long before) {
        if (!o.changed()) {
            assertThat(kit.lastSeq(alice, s.room())).as("nothing stored for %s (%s)", action, o.detail()).isEqualTo(before);
            return;
        }
        if (action.equals("delete_room")) {
            RoomKit.refused(kit.get(alice, "/api/rooms/" + s.room()), 404);
            return;
        }
        List<JsonNode> added = kit.messagesAfter(alice, s.room(), before);
        if (action.equals("send")) {
            assertThat(added).hasSize(1);
            assertThat(added.get(0).path("from").asText()).isEqualTo(s.actor().name());
            assertThat(added.get(0).has("event")).isFalse();
            return;
        }
        String user = switch (action) {
            case "add_member" -> fresh.name();
            case "add_self", "leave" -> s.actor().name();
            case "demote", "mute_moderator", "kick_moderator", "ban_moderator" -> mia.name();
            case "unban" -> ben.name();
            default -> s.target().name();
        };
        String type = switch (action) {
            case "add_member", "add_self" -> "member_added";
            case "promote", "demote", "transfer" -> "role_changed";
            case "mute", "mute_moderator" -> "muted";
            case "unmute" -> "unmuted";
            case "kick", "kick_moderator" -> "member_removed";
            case "leave" -> "member_left";
            case "ban", "ban_moderator" -> "banned";
            case "unban" -> "unbanned";
            default -> throw new IllegalArgumentException(action);
        };
        assertThat(added).as("the events of %s", action).hasSize(action.equals("transfer") ? 2 : 1);
        JsonNode first = added.get(0);
        assertThat(first.path("seq").asLong()).isEqualTo(before + 1);
        JsonNode e = RoomKit.event(first);
        assertThat(e.path("type").asText()).as(first.toString()).isEqualTo(type);
        assertThat(e.path("user").asText()).as(first.toString()).isEqualTo(user);
        if (!action.equals("leave")) {
            assertThat(e.path("by").asText()).as(first.toString()).isEqualTo(s.actor().name());
            assertThat(first.path("from").asText()).as("from is who made the change: %s", first).isEqualTo(s.actor().name());
        }
        assertThat(first.path("clientId").asText()).as(first.toString()).isEqualTo("event-" + first.path("id").asText());
        assertThat(first.path("text").asText()).as(first.toString()).isNotBlank();
        switch (action) {
            case "promote" -> assertThat(e.path("role").asText()).isEqualTo("moderator");
            case "demote" -> assertThat(e.path("role").asText()).isEqualTo("member");
            case "add_member", "add_self" -> assertThat(e.path("role").asText()).isEqualTo("member");
            case "ban", "ban_moderator" -> assertThat(e.path("reason").asText()).isEqualTo("spam");
            case "mute", "mute_moderator" -> assertThat(e.path("until").asText()).isNotBlank();
            case "transfer" -> {
                assertThat(e.path("role").asText()).as("the new owner first").isEqualTo("owner");
                JsonNode second = RoomKit.event(added.get(1));
                assertThat(second.path("type").asText()).isEqualTo("role_changed");
                assertThat(second.path("user").asText()).as("then the old owner").isEqualTo(alice.name());
                assertThat(second.path("role").asText()).isEqualTo("moderator");
            }
            default -> { }
        }
    }

    // --- what a non-member learns of a private room: nothing ---

    @Test
    void a_non_member_learns_nothing_about_a_private_or_direct_room_but_that_its_name_is_taken() {
        User bob = kit.user("bob"), outsider = kit.user("outsider"), exMember = kit.user("exmember");
        String secret = kit.made(alice, RoomKit.room("secret"), "private");
        kit.add(alice, secret, bob, "member");
        kit.add(alice, secret, exMember, "member");
        kit.ban(alice, secret, exMember);
        Http.Response d = kit.dm(alice, bob.name());
        assertThat(d.status()).as(d.body()).isEqualTo(201);
        String direct = d.json().get("name").asText();

        try (WsClient a = kit.connect(alice); WsClient b = kit.connect(bob)) {
            RoomKit.join(a, secret);
            RoomKit.join(a, direct);
            RoomKit.send(a, secret, "before anyone looks");
            for (String room : List.of(secret, direct)) {
                List<String> refusals = new ArrayList<>();
                String ghost = room.equals(direct) ? ghost(new Scene(Kind.DIRECT, Role.NONE, room, outsider, bob)) : RoomKit.room("ghost");
                for (User who : List.of(outsider, admin, exMember)) {
                    sameAsMissing(who, room, ghost);
                    long seq = kit.lastSeq(alice, room);
                    java.util.Map<String, String> membersBefore = kit.members(alice, room);

                    try (WsClient w = kit.connect(who)) {
                        JsonNode refusal = RoomKit.tryJoin(w, room);
                        assertThat(refusal.path("type").asText()).as(refusal.toString()).isEqualTo("error");
                        assertThat(refusal.path("code").asText()).as(refusal.toString()).isEqualTo("forbidden");
                        refusals.add(refusal.path("message").asText());
                        // a send and a typing pipelined after the refused join
                        String sref = RoomKit.ref("send"), tref = RoomKit.ref("typing");
                        w.send("type", "join", "room", room, "ref", RoomKit.ref("join-again"));
                        w.send("type", "send", "room", room, "text", "let me in", "clientId", sref, "ref", sref);
                        w.send("type", "typing", "room", room, "ref", tref);
                        assertThat(w.await(RoomKit.answerTo(sref), T, "send refused").path("code").asText()).isEqualTo("not_joined");
                        assertThat(w.await(RoomKit.answerTo(tref), T, "typing refused").path("code").asText()).isEqualTo("not_joined");

                        // the room goes on; none of it reaches the outsider's socket
                        int mark = a.frames().size();
                        RoomKit.join(b, room);
                        RoomKit.awaitFrom(a, mark, f -> "presence".equals(f.path("type").asText()) && room.equals(f.path("room").asText())
                                && bob.name().equals(f.path("user").asText()) && "online".equals(f.path("status").asText()), "bob online");
                        b.send("type", "typing", "room", room);
                        RoomKit.awaitFrom(a, mark, f -> "typing".equals(f.path("type").asText()) && room.equals(f.path("room").asText()), "bob typing");
                        JsonNode ack = RoomKit.send(b, room, "members only");
                        RoomKit.awaitFrom(a, mark, f -> "message".equals(f.path("type").asText()) && ack.get("seq").equals(f.get("seq"))
                                && room.equals(f.path("room").asText()), "the message at alice");
                        String lref = RoomKit.ref("leave");
                        b.send("type", "leave", "room", room, "ref", lref);
                        b.await(RoomKit.is("left", lref), T, "left");
                        RoomKit.awaitFrom(a, mark, f -> "presence".equals(f.path("type").asText()) && room.equals(f.path("room").asText())
                                && bob.name().equals(f.path("user").asText()) && "offline".equals(f.path("status").asText()), "bob offline");
                        RoomKit.alive(w);
                        RoomKit.staysQuiet(w, f -> room.equals(f.path("room").asText()) && !"error".equals(f.path("type").asText()),
                                who.name() + " gets nothing of " + room);
                        assertThat(w.frames().stream().filter(f -> room.equals(f.path("room").asText())
                                && !"error".equals(f.path("type").asText())).toList()).isEmpty();
                    }
                    // the refused join made and changed nothing
                    assertThat(kit.lastSeq(alice, room)).isEqualTo(seq + 1); // bob's message only
                    assertThat(kit.get(alice, "/api/rooms/" + room).json().path("kind").asText())
                            .isEqualTo(room.equals(direct) ? "direct" : "private");
                    assertThat(kit.members(alice, room)).isEqualTo(membersBefore);
                    sameAsMissing(who, room, ghost);
                    assertThat(listed(who, room)).as("%s lists %s", who.name(), room).isFalse();
                }
                // the refusal says nothing of why: a ban from a private room reads as any non-member's refusal
                assertThat(refusals.stream().map(m -> m.replace(outsider.name(), "X").replace(admin.name(), "X").replace(exMember.name(), "X")).distinct())
                        .as("join refusals of %s: %s", room, refusals).hasSize(1);
            }
        }
        // what does show: the name is taken, for anyone
        RoomKit.refused(kit.createRoom(outsider, secret, "public"), 409);
        RoomKit.refused(kit.createRoom(outsider, secret, "private"), 409);
        RoomKit.refused(kit.createRoom(admin, secret, "public"), 409);
    }

    /**
     * Every HTTP read of {@code room} by {@code who} answers byte for byte as one of {@code ghost}, which
     * does not exist. (A room's members are left out for an administrator: PROTOCOL.md's table lets
     * admins list those of a private room, while "Administrators are no exception to reading" does not;
     * those of a direct room are in the table's cell, get_members by admin in a direct room.)
     */
    private void sameAsMissing(User who, String room, String ghost) {
        for (String tail : List.of("", "/messages", "/messages?limit=5", "/messages?after=0", "/messages?before=3",
                "/messages?limit=0", "/messages?before=0", "/presence", "/members", "/members?limit=1", "/members?limit=0",
                "/members?cursor=" + alice.name())) {
            if (who == admin && tail.startsWith("/members")) continue;
            Http.Response mine = kit.get(who, "/api/rooms/" + room + tail);
            Http.Response missing = kit.get(who, "/api/rooms/" + ghost + tail);
            assertThat(mine.status()).as("GET /api/rooms/%s%s by %s: %s; a missing room: %s", room, tail, who.name(), mine.body(), missing.body())
                    .isEqualTo(missing.status());
            assertThat(mine.body()).as("GET /api/rooms/%s%s by %s", room, tail, who.name()).isEqualTo(missing.body().replace(ghost, room));
        }
        Http.Response head = kit.http().request("HEAD", "/api/rooms/" + room + "/messages", who.token(), null);
        Http.Response headMissing = kit.http().request("HEAD", "/api/rooms/" + ghost + "/messages", who.token(), null);
        assertThat(head.status()).as("HEAD").isEqualTo(headMissing.status());
        Http.Response plain = kit.get(who, "/api/rooms/" + room);
        RoomKit.refused(plain, 404);
        assertThat(plain.json().path("message").asText()).isEqualTo("no room " + room);
    }

    /** Whether {@code room} is anywhere in {@code who}'s room list, paged through with the cursor. */
    private boolean listed(User who, String room) {
        String cursor = null;
        while (true) {
            Http.Response r = kit.get(who, "/api/rooms?limit=500" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            if (r.json().isEmpty()) return false;
            for (JsonNode n : r.json()) if (room.equals(n.path("name").asText())) return true;
            if (r.json().size() < 500) return false;
            cursor = r.json().get(r.json().size() - 1).path("name").asText();
        }
    }

    @Test
    void the_room_list_shows_public_rooms_to_everyone_and_private_and_direct_ones_to_their_members_only() {
        User loner = kit.user("loner"), carol = kit.user("carol");
        String open = kit.made(alice, RoomKit.room("open"), "public");
        String closed = kit.made(alice, RoomKit.room("closed"), "private");
        kit.add(alice, closed, carol, "member");
        Http.Response d = kit.dm(alice, carol.name());
        String direct = d.json().get("name").asText();

        User dave = kit.user("dave");
        kit.add(alice, closed, dave, "moderator");
        JsonNode seen = kit.get(carol, "/api/rooms?prefix=" + closed).json().get(0);
        assertThat(seen.path("members").asInt()).as("alice, carol and dave: %s", seen).isEqualTo(3);
        assertThat(seen.path("role").asText()).isEqualTo("member");
        assertThat(seen.path("kind").asText()).isEqualTo("private");

        assertThat(listed(loner, open)).isTrue();
        assertThat(listed(loner, closed)).isFalse();
        assertThat(listed(loner, direct)).isFalse();
        assertThat(listed(carol, closed)).isTrue();
        assertThat(listed(carol, direct)).isTrue();
        assertThat(listed(admin, closed)).as("an admin does not see a private room they are no member of").isFalse();
        assertThat(listed(admin, direct)).isFalse();
        Http.Response privateOnes = kit.get(loner, "/api/rooms?kind=private&limit=500");
        Http.Response directOnes = kit.get(loner, "/api/rooms?kind=direct&limit=500");
        assertThat(privateOnes.json()).as("a member of nothing sees no private room at all").isEmpty();
        assertThat(directOnes.json()).isEmpty();
        Http.Response carolsDirect = kit.get(carol, "/api/rooms?kind=direct&limit=500");
        assertThat(carolsDirect.json()).hasSize(1);
        assertThat(carolsDirect.json().get(0).path("with").asText()).isEqualTo(alice.name());
    }
}
