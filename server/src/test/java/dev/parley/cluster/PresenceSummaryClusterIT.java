package dev.parley.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.config.Setting;
import dev.parley.testing.Cluster;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Presence in a big room across nodes: each node summarises what it learns, from its own
 * connections and from the other node's through Redis, and the counts of the two agree. Frames are
 * counted, not timed.
 */
class PresenceSummaryClusterIT {
    private static final int CROWD = 30;
    private static final Duration T = Duration.ofSeconds(20);

    @RegisterExtension
    static Cluster cluster = Cluster.of(2)
            .with(Setting.PRESENCE_BATCH_THRESHOLD, "5")
            .with(Setting.PRESENCE_BATCH_INTERVAL, "200ms");

    @Test
    void a_join_storm_and_a_walk_out_spread_over_two_nodes_reach_every_member_as_summaries_that_agree() {
        String room = "big-" + System.nanoTime() % 100_000;
        List<String> names = new ArrayList<>();
        List<WsClient> crowd = new ArrayList<>();
        for (int i = 0; i < CROWD; i++) {
            String name = ParleyServer.unique("crowd" + i);
            names.add(name);
            crowd.add(cluster.node(1 + i % 2).connect(cluster.node(1).http().register(name)));
        }
        try {
            crowd.forEach(c -> c.send("type", "join", "room", room, "ref", "j"));
            for (WsClient c : crowd) {
                c.await("joined", "j");
                c.await(summary(CROWD), T, "a summary of " + CROWD + " online");
            }
            for (int i = 0; i < CROWD; i++) {
                WsClient c = crowd.get(i);
                int frames = c.frames("presence").size() + c.frames("presence_summary").size();
                assertThat(frames).as("presence frames of member " + i + ": fewer than the arrivals").isLessThan(CROWD - 1);
                assertThat(seen(c, room)).as("who member " + i + " on n" + (1 + i % 2) + " sees").isEqualTo(new TreeSet<>(names));
            }

            // Ten from each node walk out: the ten left, on both nodes, are told the same count.
            List<WsClient> stay = crowd.subList(0, 10);
            crowd.subList(10, CROWD).forEach(WsClient::close);
            for (WsClient c : stay) c.await(summary(10), T, "a summary of 10 online");
            for (WsClient c : stay) assertThat(seen(c, room)).isEqualTo(new TreeSet<>(names.subList(0, 10)));
        } finally {
            crowd.forEach(WsClient::close);
        }
    }

    private static Predicate<JsonNode> summary(int online) {
        return f -> "presence_summary".equals(f.path("type").asText()) && f.path("online").asInt() == online;
    }

    /** What a client shows: joined's list, then each presence frame and summary as set operations. */
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
                    f.get("joined").forEach(u -> online.add(u.asText()));
                    f.get("left").forEach(u -> online.remove(u.asText()));
                }
                default -> {}
            }
        }
        return online;
    }
}
