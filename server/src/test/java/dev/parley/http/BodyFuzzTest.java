package dev.parley.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Await;
import dev.parley.testing.CapturedLogs;
import dev.parley.testing.DocumentedErrors;
import dev.parley.testing.FuzzJson;
import dev.parley.testing.FuzzJson.Sample;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every HTTP route that reads a body, fed random and malformed JSON (see {@link FuzzJson}): whatever
 * comes, the answer is a success the route documents or an error of PROTOCOL.md section 8 with that
 * code's own status and the usual body; never a 5xx, and nothing logged as an error by the server.
 * The path's room and user are fuzzed too where a route has them. One in-process server for all;
 * the tries are bounded so that the whole class takes seconds.
 */
class BodyFuzzTest {
    private static final int TRIES = 100;
    private static final Map<String, Integer> DOCUMENTED = DocumentedErrors.codes();

    static ParleyServer server;
    static int logMark;
    /** Holders of tokens for the routes; the victim is only ever acted upon. */
    static String admin, owner, account, leaver, victim, room, bot;
    static String adminToken, ownerToken, accountToken, accountPassword;
    static volatile String leaverToken;
    /** A user of browser sessions, and the refresh token of one, as its cookie holds it, and its access token. */
    static String sessionUser;
    static volatile String sessionCookie, sessionAccess;
    /** Answers by route and status (and code), printed at the end: what the tries reached. */
    static final Map<String, Integer> ANSWERS = new TreeMap<>();

    @BeforeContainer
    static void start() throws IOException {
        admin = ParleyServer.unique("fzadmin");
        server = ParleyServer.create()
                .with(Setting.DATA_DIR, Files.createTempDirectory("parley-fuzz").toString())
                .with(Setting.ADMINS, admin)
                // Every try comes from 127.0.0.1: the per-address limits would soon slow them all, and what is
                // fuzzed here is the bodies (a 429 is documented anyway; the throttles have tests of their own).
                .with(Setting.LOGIN_FAILURES_PER_IP, "100000").with(Setting.REGISTRATIONS_PER_IP, "100000");
        server.start();
        Http http = server.http();
        adminToken = http.register(admin);
        owner = ParleyServer.unique("fzowner");
        ownerToken = http.register(owner);
        account = ParleyServer.unique("fzaccount");
        accountToken = http.register(account);
        accountPassword = "password-" + account;
        leaver = ParleyServer.unique("fzleaver");
        leaverToken = http.register(leaver);
        sessionUser = ParleyServer.unique("fzsession");
        http.register(sessionUser);
        freshSession();
        victim = ParleyServer.unique("fzvictim");
        http.register(victim);
        room = "fuzz-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        Http.Response made = http.request("POST", "/api/rooms", ownerToken, "{\"name\":\"" + room + "\",\"visibility\":\"private\"}");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        bot = ParleyServer.unique("fzbot");
        Http.Response madeBot = http.request("POST", "/api/admin/bots", adminToken, "{\"name\":\"" + bot + "\"}");
        assertThat(madeBot.status()).as(madeBot.body()).isEqualTo(201);
        logMark = CapturedLogs.mark();
    }

    @AfterContainer
    static void stop() {
        System.out.println("BodyFuzzTest answers: " + ANSWERS);
        if (server != null) server.stop();
    }

    /** What the fuzzer found first: a valid timestamp whose milliseconds do not fit in a long was a 500. */
    @Example
    void a_timestamp_beyond_the_range_of_milliseconds_is_bad_request() {
        for (String t : List.of("+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "+292278995-01-01T00:00:00Z")) {
            Sample mute = new Sample("mutedUntil " + t, FuzzJson.utf8("{\"mutedUntil\":\"" + t + "\"}"));
            assertThat(fuzz("PUT", "/api/rooms/" + room + "/members/" + victim, ownerToken, mute, Set.of())).isEqualTo(400);
            Sample ban = new Sample("until " + t, FuzzJson.utf8("{\"until\":\"" + t + "\"}"));
            assertThat(fuzz("PUT", "/api/rooms/" + room + "/bans/" + victim, ownerToken, ban, Set.of())).isEqualTo(400);
        }
    }

    // --- the routes ---

    @Property(tries = TRIES)
    void register(@ForAll long seed) {
        Random r = new Random(seed);
        String fresh = literal("fz" + Long.toString(r.nextLong() & 0xffffffffL, 36));
        fuzz("POST", "/api/auth/register", null, FuzzJson.sample(r, FuzzJson.fields(
                "username", List.of(fresh, fresh, "\"" + victim + "\"", "\"nobody\\u0000\""),
                "password", List.of("\"correct horse battery\"", "\"short\"", "\"\\ud800 half a pair\""))), Set.of(201));
    }

    @Property(tries = TRIES)
    void login(@ForAll long seed) {
        Random r = new Random(seed);
        fuzz("POST", "/api/auth/login", null, FuzzJson.sample(r, FuzzJson.fields(
                "username", List.of("\"" + victim + "\"", "\"" + victim.toUpperCase() + "\"", "\"nobody-here\""),
                "password", List.of("\"wrong password\"", "\"password-" + victim + "\""),
                "session", List.of("\"cookie\"", "\"bearer\"", "\"Cookie\"", "1"))), Set.of(200));
    }

    @Property(tries = TRIES)
    void refresh_and_logout_by_the_cookie(@ForAll long seed) {
        Random r = new Random(seed);
        Sample body = r.nextInt(10) == 0 ? new Sample("empty", new byte[0]) : FuzzJson.sample(r, FuzzJson.fields("all", List.of("true", "false")));
        boolean access = r.nextInt(5) == 0; // an access token in the cookie, now and then
        boolean logout = r.nextBoolean();
        int status = fuzz("POST", logout ? "/api/auth/logout" : "/api/auth/refresh", null, access ? sessionAccess : sessionCookie, body, Set.of(200, 204));
        assertThat(access && status < 300).as("an access token taken as a refresh cookie").isFalse();
        if (logout && status == 204) freshSession(); // the session (or every one) is over now
    }

    @Property(tries = TRIES)
    void logout(@ForAll long seed) {
        Random r = new Random(seed);
        Sample body = r.nextInt(10) == 0 ? new Sample("empty", new byte[0]) : FuzzJson.sample(r, FuzzJson.fields("all", List.of("true", "false")));
        int status = fuzz("POST", "/api/auth/logout", leaverToken, body, Set.of(204));
        if (status == 204) leaverToken = freshToken(leaver); // this token (or every one) is revoked now
    }

    @Property(tries = TRIES)
    void password(@ForAll long seed) {
        Random r = new Random(seed);
        // The current password is never right here: a change would leave the account's password unknown.
        fuzz("POST", "/api/auth/password", accountToken, FuzzJson.sample(r, FuzzJson.fields(
                "current", List.of("\"not the password\""),
                "new", List.of("\"a new password\"", "\"x\"", "\"\\udfff\""))), Set.of(200));
    }

    @Property(tries = TRIES)
    void account_deletion(@ForAll long seed) {
        Random r = new Random(seed);
        // Never the right password: the account would be gone for the tries after this one.
        fuzz("DELETE", "/api/auth/account", accountToken, FuzzJson.sample(r, FuzzJson.fields(
                "password", List.of("\"not the password\"", "\"" + accountPassword + "x\""))), Set.of(204));
    }

    @Property(tries = TRIES)
    void admin_disabling(@ForAll long seed) {
        Random r = new Random(seed);
        String path = "/api/admin/users/" + pathUser(r, admin) + "/disabled";
        fuzz(r.nextBoolean() ? "PUT" : "DELETE", path, adminToken, FuzzJson.sample(r, FuzzJson.fields("disabled", List.of("true"))), Set.of(204));
    }

    @Property(tries = TRIES)
    void bots(@ForAll long seed) {
        Random r = new Random(seed);
        String fresh = literal("fzb" + Long.toString(r.nextLong() & 0xffffffffL, 36));
        fuzz("POST", "/api/admin/bots", adminToken, FuzzJson.sample(r, FuzzJson.fields(
                "name", List.of(fresh, fresh, "\"" + victim + "\"", "\"nobody\\u0000\""),
                "rooms", SCOPE_ROOMS, "actions", SCOPE_ACTIONS)), Set.of(201));
    }

    @Property(tries = TRIES)
    void bot_keys(@ForAll long seed) {
        Random r = new Random(seed);
        String path = "/api/admin/bots/" + (r.nextBoolean() ? bot : pathUser(r, admin)) + "/keys";
        fuzz("POST", path, adminToken, FuzzJson.sample(r, FuzzJson.fields("rooms", SCOPE_ROOMS, "actions", SCOPE_ACTIONS)), Set.of(201));
    }

    private static final List<String> SCOPE_ROOMS = List.of("\"*\"", "[\"lobby\"]", "[]", "[\"{x}\"]", "\"all\"", "[1]", "null");
    private static final List<String> SCOPE_ACTIONS = List.of("[\"post\"]", "[\"post\",\"read\",\"manage\"]", "[]", "[\"fly\"]", "\"post\"", "null");

    @Property(tries = TRIES)
    void posted_messages(@ForAll long seed) {
        Random r = new Random(seed);
        String path = "/api/rooms/" + pathRoom(r) + "/messages";
        fuzz("POST", path, ownerToken, FuzzJson.sample(r, FuzzJson.fields(
                "text", List.of("\"hello\"", "\"\"", "\"   \"", "\"\\ud800 half a pair\"", "null"),
                "clientId", List.of("\"c-1\"", literal("c-" + r.nextInt(1000)), "\"\"", literal("x".repeat(65)), "7"))), Set.of(200, 201));
    }

    @Property(tries = TRIES)
    void room_creation(@ForAll long seed) {
        Random r = new Random(seed);
        String fresh = literal("fz-" + Long.toString(r.nextLong() & 0xffffffffL, 36));
        fuzz("POST", "/api/rooms", ownerToken, FuzzJson.sample(r, FuzzJson.fields(
                "name", List.of(fresh, fresh, "\"" + room + "\"", "\"dm-aaaaaaaaaaaaaaaaaaaaaaaaaa\""),
                "visibility", List.of("\"public\"", "\"private\"", "\"direct\""),
                "topic", List.of("\"on call\"", "null", "\"\\u202e\\u200b\""))), Set.of(201));
    }

    @Property(tries = TRIES)
    void direct_rooms(@ForAll long seed) {
        Random r = new Random(seed);
        fuzz("POST", "/api/dms", ownerToken, FuzzJson.sample(r, FuzzJson.fields(
                "user", List.of("\"" + victim + "\"", "\"" + owner + "\"", "\"nobody-here\""))), Set.of(200, 201));
    }

    @Property(tries = TRIES)
    void members(@ForAll long seed) {
        Random r = new Random(seed);
        String path = "/api/rooms/" + pathRoom(r) + "/members/" + pathUser(r, owner);
        fuzz("PUT", path, ownerToken, FuzzJson.sample(r, FuzzJson.fields(
                "role", List.of("\"member\"", "\"moderator\"", "\"owner\"", "null"),
                "mutedUntil", List.of("null", "\"2999-01-01T00:00:00Z\"", "\"2000-01-01T00:00:00Z\"", "\"+999999999-12-31T23:59:59Z\"",
                        "\"-999999999-01-01T00:00:00Z\"", "\"2026-13-45T99:99:99Z\"", "\"2026-12-06T12:00:00+01:00\""))), Set.of(200, 201));
    }

    @Property(tries = TRIES)
    void bans(@ForAll long seed) {
        Random r = new Random(seed);
        String path = "/api/rooms/" + pathRoom(r) + "/bans/" + pathUser(r, owner);
        Sample body = r.nextInt(10) == 0 ? new Sample("empty", new byte[0]) : FuzzJson.sample(r, FuzzJson.fields(
                "reason", List.of("\"spam\"", "null", "\"\\u0007\""),
                "until", List.of("null", "\"2999-01-01T00:00:00Z\"", "\"+999999999-12-31T23:59:59Z\"", "\"-999999999-01-01T00:00:00Z\"",
                        "\"1970-01-01T00:00:00Z\"", "\"tomorrow\"")));
        fuzz("PUT", path, ownerToken, body, Set.of(204));
    }

    /**
     * Found while writing the fuzzer, by reading rather than by a failed try: a topic or a ban reason
     * with half a surrogate pair cannot be stored as sent (PROTOCOL.md 3.4: every string must be valid
     * Unicode), so it must be refused like such a text, not stored changed.
     */
    @Example
    void a_topic_or_reason_with_half_a_surrogate_pair_is_bad_request() {
        String name = "fz-half-" + Long.toString(System.nanoTime() % 1_000_000, 36);
        Sample topic = new Sample("topic", FuzzJson.utf8("{\"name\":\"" + name + "\",\"visibility\":\"public\",\"topic\":\"on \\ud800call\"}"));
        assertThat(fuzz("POST", "/api/rooms", ownerToken, topic, Set.of())).isEqualTo(400);
        Sample reason = new Sample("reason", FuzzJson.utf8("{\"reason\":\"spam \\udc00\"}"));
        assertThat(fuzz("PUT", "/api/rooms/" + room + "/bans/" + victim, ownerToken, reason, Set.of())).isEqualTo(400);
    }

    // --- sending and judging ---

    /**
     * Sends the body and checks the answer: a documented success, or a documented error code with its
     * own status and a message. @return the status
     */
    private static int fuzz(String method, String path, String token, Sample body, Set<Integer> success) {
        return fuzz(method, path, token, null, body, success);
    }

    /** The same, with a browser session's refresh cookie when {@code cookie} is not null. */
    private static int fuzz(String method, String path, String token, String cookie, Sample body, Set<Integer> success) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(15))
                .method(method, HttpRequest.BodyPublishers.ofByteArray(body.bytes()))
                .header("Content-Type", "application/json");
        if (token != null) b.header("Authorization", "Bearer " + token);
        if (cookie != null) b.header("Cookie", "parley_refresh=" + cookie);
        Http.Response r = Http.send(b.build());
        String what = method + " " + path + " with " + body + " -> " + r.status() + " " + r.body();
        String route = method + " " + path.replaceAll("/api/rooms/[^/]+/", "/api/rooms/R/").replaceAll("/(members|bans|users)/[^/]+", "/$1/U");
        String code = r.status() >= 400 ? " " + error(r.body()) : "";
        synchronized (ANSWERS) {
            ANSWERS.merge(route + " " + r.status() + code, 1, Integer::sum);
        }
        if (r.status() >= 200 && r.status() < 300) {
            assertThat(success).as(what).contains(r.status());
        } else {
            assertDocumentedError(what, r);
        }
        assertNoServerErrorLogged(what);
        return r.status();
    }

    private static String error(String body) {
        try {
            return Http.JSON.readTree(body).path("error").asText();
        } catch (IOException e) {
            return "(not JSON)";
        }
    }

    static void assertDocumentedError(String what, Http.Response r) {
        assertThat(r.status()).as("no 5xx: " + what).isBetween(400, 499);
        JsonNode error;
        try {
            error = Http.JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("the error body is not JSON: " + what, e);
        }
        String code = error.path("error").asText(null);
        assertThat(DOCUMENTED).as("a code of PROTOCOL.md section 8: " + what).containsKey(code);
        assertThat(DOCUMENTED.get(code)).as("the status of code " + code + ": " + what).isEqualTo(r.status());
        assertThat(error.path("message").isTextual()).as("a message: " + what).isTrue();
    }

    /** An exception the server did not expect is logged at ERROR (and answered 500): none may be. */
    private static void assertNoServerErrorLogged(String what) {
        List<String> errors = new ArrayList<>();
        for (String line : CapturedLogs.since(logMark)) if (line.contains(" ERROR ")) errors.add(line);
        logMark = CapturedLogs.mark(); // one failure is reported once, not again by every try after it
        assertThat(errors).as("errors the server logged after " + what).isEmpty();
    }

    /** A room in a path: the owner's, a fresh valid name, or any code points or bytes, percent-encoded. */
    private static String pathRoom(Random r) {
        return switch (r.nextInt(4)) {
            case 0, 1 -> room;
            case 2 -> "fz-" + r.nextInt(1000);
            default -> pathSegment(r);
        };
    }

    /**
     * A user in a path: the victim, the caller (whom no route here can lock out: an admin cannot
     * disable themselves, an owner cannot ban themselves), someone unknown, or any code points or
     * bytes, percent-encoded.
     */
    private static String pathUser(Random r, String caller) {
        return switch (r.nextInt(5)) {
            case 0, 1 -> victim;
            case 2 -> caller;
            case 3 -> "nobody-" + r.nextInt(1000);
            default -> pathSegment(r);
        };
    }

    private static String pathSegment(Random r) {
        StringBuilder b = new StringBuilder();
        if (r.nextBoolean()) {
            for (byte x : FuzzJson.string(r, 40).getBytes(StandardCharsets.UTF_8)) b.append(String.format("%%%02X", x & 0xff));
        } else {
            byte[] bytes = new byte[1 + r.nextInt(12)];
            r.nextBytes(bytes); // often not UTF-8 once decoded
            for (byte x : bytes) b.append(String.format("%%%02X", x & 0xff));
        }
        return b.isEmpty() ? "%20" : b.toString();
    }

    private static String literal(String s) {
        return "\"" + s + "\"";
    }

    /** A new browser session of the session user that the server accepts, as for {@link #freshToken}. */
    private static void freshSession() {
        Http http = server.http();
        Await.until("a working session for " + sessionUser, Duration.ofSeconds(10), () -> {
            Http.Response login = http.post("/api/auth/login",
                    "{\"username\":\"" + sessionUser + "\",\"password\":\"password-" + sessionUser + "\",\"session\":\"cookie\"}");
            if (login.status() != 200) return false;
            String set = login.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("parley_refresh=")).findFirst().orElseThrow();
            sessionCookie = set.substring("parley_refresh=".length(), set.indexOf(';'));
            sessionAccess = login.json().get("token").asText();
            return http.get("/api/rooms?limit=1", sessionAccess).status() == 200;
        });
    }

    /** A token of the user that the server accepts (a "log out everywhere" covers tokens issued until then). */
    private static String freshToken(String user) {
        Http http = server.http();
        String[] token = new String[1];
        Await.until("a working token for " + user, Duration.ofSeconds(10), () -> {
            Http.Response login = http.post("/api/auth/login", "{\"username\":\"" + user + "\",\"password\":\"password-" + user + "\"}");
            if (login.status() != 200) return false;
            token[0] = login.json().get("token").asText();
            return http.get("/api/rooms?limit=1", token[0]).status() == 200;
        });
        return token[0];
    }
}
