package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.ErrorCode;
import dev.parley.config.Setting;
import dev.parley.testing.CapturedLogs;
import dev.parley.testing.DocumentedErrors;
import dev.parley.testing.FuzzJson;
import dev.parley.testing.FuzzJson.Sample;
import dev.parley.testing.Http;
import dev.parley.testing.ParleyServer;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The WebSocket frame decoder, and a real connection, fed random and malformed JSON (see
 * {@link FuzzJson}). The decoder gives a frame or a {@code bad_request}, nothing else. The server
 * answers each frame with frames of the protocol, its errors with a code of PROTOCOL.md section 8,
 * and keeps the connection open, except as documented (section 10): 1007 for text that is not
 * UTF-8, 1009 for a frame over the limit, 1008 for a stream of invalid frames. It never closes with
 * 1011 (an unexpected failure) or logs an error.
 */
class FrameFuzzTest {
    private static final Map<String, Integer> DOCUMENTED = DocumentedErrors.codes();
    /** The closes PROTOCOL.md section 10 gives for what a client sends; 1011 is not among them. */
    private static final Set<Integer> DOCUMENTED_CLOSES = Set.of(1007, 1008, 1009, 4029);
    private static final Duration T = Duration.ofSeconds(10);

    static ParleyServer server;
    static String token, otherToken;
    static int logMark;
    static RawWebSocket ws;
    static int errorsOnThisConnection;
    static int probes;
    /** Frames and closes the connection tries got, by type (and code), printed at the end: what the tries reached. */
    static final Map<String, Integer> ANSWERS = new TreeMap<>();

    @BeforeContainer
    static void start() throws IOException {
        server = ParleyServer.create()
                .with(Setting.DATA_DIR, Files.createTempDirectory("parley-fuzz").toString())
                // What is fuzzed is the decoding, not the send rate limit (rate_limited and 4029 are documented anyway).
                .with(Setting.RATE_LIMIT, "100000").with(Setting.RATE_BURST, "100000");
        server.start();
        token = server.newUser("fzframes");
        otherToken = server.newUser("fzother");
        logMark = CapturedLogs.mark();
    }

    @AfterContainer
    static void stop() {
        System.out.println("FrameFuzzTest answers: " + ANSWERS);
        if (ws != null) ws.close();
        if (server != null) server.stop();
    }

    /**
     * The fields of one kind of frame (or, once in eight, of all kinds at once), each with values a
     * valid frame would have, so that many frames get past the decoder to the connection's handling.
     */
    private static Map<String, List<String>> fields(Random r) {
        Map<String, List<String>> all = FuzzJson.fields(
                "type", List.of(),
                "ref", List.of("\"r\"", "\"" + "r".repeat(128) + "\""),
                "room", List.of("\"fuzz\"", "\"fuzz\"", "\"fuzz-2\"", "\"Fuzz\""),
                "text", List.of("\"hello\"", "\"\\ud83d\\ude00\"", "\" \""),
                "clientId", List.of("\"c-1\"", "\"c-2\""),
                "token", List.of("\"" + token + "\"", "\"" + otherToken + "\"", "\"not.a.token\""),
                "since", List.of("0", "1", "9223372036854775807"),
                "before", List.of("1", "2"),
                "limit", List.of("1", "50", "101"));
        String type = List.of("join", "leave", "send", "typing", "history", "refresh", "ping").get(r.nextInt(7));
        List<String> names = r.nextInt(8) == 0 ? List.copyOf(all.keySet()) : switch (type) {
            case "join" -> List.of("type", "ref", "room", "since");
            case "leave", "typing" -> List.of("type", "ref", "room");
            case "send" -> List.of("type", "ref", "room", "text", "clientId");
            case "history" -> List.of("type", "ref", "room", "before", "limit");
            case "refresh" -> List.of("type", "ref", "token");
            default -> List.of("type", "ref");
        };
        Map<String, List<String>> out = new java.util.LinkedHashMap<>();
        for (String n : names) out.put(n, n.equals("type") ? List.of("\"" + type + "\"") : all.get(n));
        return out;
    }

    @Property(tries = 2000)
    void the_decoder_gives_a_frame_or_bad_request(@ForAll long seed) {
        Random r = new Random(seed);
        Sample s = FuzzJson.sample(r, fields(r));
        try {
            ClientFrame f = FrameCodec.decode(s.text());
            assertThat(f).as(s.toString()).isNotNull();
            assertThat(f.ref() == null || !f.ref().isEmpty() && f.ref().length() <= 128).as("ref rules: " + s).isTrue();
        } catch (FrameException e) {
            assertThat(e.code()).as(s.toString()).isEqualTo(ErrorCode.BAD_REQUEST);
        } catch (Throwable t) {
            fail("decoding " + s + " threw " + t, t);
        }
    }

    @Property(tries = 300)
    void a_connection_answers_every_frame_as_documented(@ForAll long seed) {
        Random r = new Random(seed);
        Sample s = FuzzJson.sample(r, fields(r));
        RawWebSocket c = connection();
        c.send(RawWebSocket.TEXT, s.bytes());
        // A probe after it, answered at once in order: its answer says that the frame has been answered
        // (an async answer may come later and is read by the next try). A send to a room not joined,
        // not a ping: pings have a rate of 5 a second (PROTOCOL.md section 12), sends here 100,000.
        String probe = "probe-" + ++probes;
        c.sendText("{\"type\":\"send\",\"room\":\"fuzz-probe\",\"text\":\"p\",\"clientId\":\"" + probe + "\",\"ref\":\"" + probe + "\"}");
        while (true) {
            RawWebSocket.Frame f = c.readText(T);
            if (f == null) fail("the connection ended without a close frame after " + s);
            if (f.opcode() == RawWebSocket.CLOSE) {
                ANSWERS.merge("close " + f.closeCode(), 1, Integer::sum);
                assertThat(DOCUMENTED_CLOSES).as("close " + f.closeCode() + " after " + s).contains(f.closeCode());
                reconnect();
                break;
            }
            JsonNode frame = json(f.text(), s);
            String type = frame.path("type").asText();
            if (!probe.equals(frame.path("ref").asText())) ANSWERS.merge(type + (type.equals("error") ? " " + frame.path("code").asText() : ""), 1, Integer::sum);
            if (type.equals("error") && !probe.equals(frame.path("ref").asText())) {
                String code = frame.path("code").asText(null);
                assertThat(DOCUMENTED).as("error code of " + frame + " after " + s).containsKey(code);
                assertThat(code).as("after " + s).isNotIn("internal", "unavailable");
                errorsOnThisConnection++;
            }
            if (probe.equals(frame.path("ref").asText())) {
                assertThat(frame.path("code").asText()).as("the probe's answer").isEqualTo("not_joined");
                break;
            }
        }
        List<String> errors = new ArrayList<>();
        for (String line : CapturedLogs.since(logMark)) if (line.contains(" ERROR ")) errors.add(line);
        logMark = CapturedLogs.mark(); // one failure is reported once, not again by every try after it
        assertThat(errors).as("errors the server logged after " + s).isEmpty();
    }

    /**
     * The open connection, joined to "fuzz" so that sends can be stored; a new one before the invalid
     * frames on this one add up to the documented 1008 (100 errors in 10 s), which would end every
     * later try with a close that says nothing about the frame.
     */
    private static RawWebSocket connection() {
        if (ws == null || errorsOnThisConnection > 60) reconnect();
        return ws;
    }

    private static void reconnect() {
        if (ws != null) ws.close();
        ws = RawWebSocket.open(server.port(), token);
        errorsOnThisConnection = 0;
        ws.sendText("{\"type\":\"join\",\"room\":\"fuzz\",\"ref\":\"fuzz-join\"}");
        while (true) {
            RawWebSocket.Frame f = ws.readText(T);
            if (f == null || f.opcode() == RawWebSocket.CLOSE) fail("the join of a new connection failed: " + f);
            if (f.text().contains("\"fuzz-join\"")) break;
        }
    }

    private static JsonNode json(String text, Sample after) {
        try {
            return Http.JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("the server sent a frame that is not JSON: " + text + " after " + after, e);
        }
    }
}
