package dev.parley.ws;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Presence in big rooms (PROTOCOL.md 7, {@code presence_summary}): past the threshold, a join storm
 * costs each member one summary per interval instead of a presence frame per arrival, and what a
 * client makes of its frames (joined's list, then each frame applied as set operations) is who is
 * there. Frames are counted, not timed: the bound on summaries is the intervals that went by.
 */
class PresenceSummaryTest {
    private static final int THRESHOLD = 5;
    private static final long INTERVAL_MILLIS = 200;
    private static final int CROWD = 50;

    @RegisterExtension
    static ParleyServer server = ParleyServer.create()
            .with(Setting.PRESENCE_BATCH_THRESHOLD, String.valueOf(THRESHOLD))
            .with(Setting.PRESENCE_BATCH_INTERVAL, INTERVAL_MILLIS + "ms");

    private record Member(String name, WsClient ws) {}

    @Test
    void a_join_storm_and_a_walk_out_in_a_big_room_cost_each_member_a_summary_per_interval() {
        String room = Ws.room("big");
        List<Member> crowd = new ArrayList<>();
        for (int i = 0; i < CROWD; i++) {
            String name = ParleyServer.unique("crowd" + i);
            crowd.add(new Member(name, server.connect(server.http().register(name))));
        }
        TreeSet<String> everyone = new TreeSet<>();
        crowd.forEach(m -> everyone.add(m.name));
        try {
            long start = System.nanoTime();
            for (Member m : crowd) m.ws.send("type", "join", "room", room, "ref", "j");
            for (Member m : crowd) {
                m.ws.await(Ws.is("joined", "j"), Ws.T, m.name + " joined");
                m.ws.await(summary(room, CROWD), Ws.T, m.name + " told " + CROWD + " are online");
            }
            long intervals = (System.nanoTime() - start) / 1_000_000 / INTERVAL_MILLIS + 1;
            for (Member m : crowd) {
                Ws.alive(m.ws);
                int perUser = m.ws.frames("presence").size(), summaries = m.ws.frames("presence_summary").size();
                assertThat(perUser).as(m.name + "'s presence frames: only while the room was small").isLessThanOrEqualTo(THRESHOLD);
                assertThat(summaries).as(m.name + "'s summaries, over " + intervals + " intervals").isLessThanOrEqualTo((int) intervals + 1);
                assertThat(perUser + summaries).as(m.name + ": fewer frames than arrivals").isLessThan(CROWD - 1);
                assertThat(seen(m.ws, room)).as("who " + m.name + " sees online").isEqualTo(everyone);
                assertThat(last(m.ws).get("online").asInt()).isEqualTo(CROWD);
            }

            // 40 walk out at once: the 10 who stay (still above the threshold) get summaries only.
            List<Member> stay = crowd.subList(0, 10), go = crowd.subList(10, CROWD);
            int[] before = stay.stream().mapToInt(m -> m.ws.frames().size()).toArray();
            long out = System.nanoTime();
            go.forEach(m -> m.ws.close());
            for (Member m : stay) m.ws.await(summary(room, stay.size()), Ws.T, m.name + " told " + stay.size() + " are online");
            long outIntervals = (System.nanoTime() - out) / 1_000_000 / INTERVAL_MILLIS + 1;
            TreeSet<String> left = new TreeSet<>();
            stay.forEach(m -> left.add(m.name));
            for (int i = 0; i < stay.size(); i++) {
                WsClient ws = stay.get(i).ws;
                Ws.alive(ws);
                List<JsonNode> since = ws.frames().subList(before[i], ws.frames().size());
                assertThat(since).as("no presence frame per departure").noneMatch(Ws.is("presence"));
                assertThat(since.stream().filter(Ws.is("presence_summary")).count()).isLessThanOrEqualTo(outIntervals + 1);
                assertThat(seen(ws, room)).as("who is left online").isEqualTo(left);
            }
        } finally {
            crowd.forEach(m -> m.ws.close());
        }
    }

    @Test
    void a_room_at_the_threshold_keeps_a_presence_frame_per_user_and_no_summary() {
        String room = Ws.room("small");
        List<Member> few = new ArrayList<>();
        for (int i = 0; i < THRESHOLD; i++) {
            String name = ParleyServer.unique("few" + i);
            few.add(new Member(name, server.connect(server.http().register(name))));
        }
        try {
            WsClient first = few.get(0).ws;
            Ws.join(first, room);
            for (Member m : few.subList(1, THRESHOLD)) {
                Ws.join(m.ws, room);
                first.await(Ws.presence(room, m.name, "online"), Ws.T, m.name + " online");
            }
            few.get(THRESHOLD - 1).ws.close();
            first.await(Ws.presence(room, few.get(THRESHOLD - 1).name, "offline"), Ws.T, "offline");
            Ws.alive(first);
            assertThat(first.frames("presence")).hasSize(THRESHOLD);
            assertThat(first.frames("presence_summary")).isEmpty();
        } finally {
            few.forEach(m -> m.ws.close());
        }
    }

    private static java.util.function.Predicate<JsonNode> summary(String room, int online) {
        return f -> Ws.is("presence_summary").test(f) && room.equals(f.path("room").asText()) && f.path("online").asInt() == online;
    }

    private static JsonNode last(WsClient ws) {
        List<JsonNode> s = ws.frames("presence_summary");
        return s.get(s.size() - 1);
    }

    /** What a client shows: joined's list, then every presence frame and summary applied in order as set operations. */
    private static TreeSet<String> seen(WsClient ws, String room) {
        TreeSet<String> online = new TreeSet<>();
        for (JsonNode f : ws.frames()) {
            if (!room.equals(f.path("room").asText())) continue;
            switch (f.path("type").asText()) {
                case "joined" -> f.get("members").forEach(u -> online.add(u.asText()));
                case "presence" -> {
                    if (f.get("status").asText().equals("online")) online.add(f.get("user").asText());
                    else online.remove(f.get("user").asText());
                }
                case "presence_summary" -> {
                    assertThat(f.get("more").asInt()).as("nothing left out of a summary of 50").isZero();
                    f.get("joined").forEach(u -> online.add(u.asText()));
                    f.get("left").forEach(u -> online.remove(u.asText()));
                }
                default -> {}
            }
        }
        return online;
    }
}
