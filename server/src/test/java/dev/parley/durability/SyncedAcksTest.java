package dev.parley.durability;

import dev.parley.config.Setting;
import dev.parley.metrics.ChatMetrics;
import dev.parley.testing.ParleyServer;
import dev.parley.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CHAT_JOURNAL_SYNC through a whole server: with {@code commit} (the default), a node syncs its
 * journal once per group commit that stores messages, before the acks of that commit; with
 * {@code none}, never. What is counted is the journal's own syncs ({@code parley_journal_syncs_total}), so the test
 * fails if the setting were read and the sync not done.
 */
class SyncedAcksTest {
    @RegisterExtension
    static ParleyServer synced = ParleyServer.create(); // the default

    @RegisterExtension
    static ParleyServer unsynced = ParleyServer.create().with(Setting.JOURNAL_SYNC, "none");

    @Test
    void by_default_every_acknowledged_send_was_synced_first() {
        try (WsClient c = synced.connect(synced.newUser("synced"))) {
            c.send("type", "join", "room", "synced", "ref", "j");
            c.await("joined", "j");
            for (int i = 1; i <= 3; i++) {
                double before = syncs(synced);
                double commitsBefore = commits(synced);
                c.send("type", "send", "room", "synced", "text", "message " + i, "clientId", "c" + i, "ref", "s" + i);
                c.await("ack", "s" + i);
                // The ack comes after its commit, and its commit after the sync: both are counted by now.
                assertThat(commits(synced)).as("commits after ack %d", i).isEqualTo(commitsBefore + 1);
                assertThat(syncs(synced)).as("syncs after ack %d", i).isEqualTo(before + 1);
            }
        }
        assertThat(synced.server().metrics().scrape()).contains("parley_journal_syncs_total");
        // Each sync's time is recorded too: as many as there were syncs, each taking some time.
        var times = synced.server().metrics().registry().get(ChatMetrics.JOURNAL_SYNC_TIME).timer();
        assertThat((double) times.count()).isEqualTo(syncs(synced));
        assertThat(times.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS)).isPositive();
        assertThat(synced.server().metrics().scrape()).contains("parley_journal_sync_seconds_bucket{le=\"0.001\"}");
    }

    @Test
    void with_none_nothing_is_synced() {
        try (WsClient c = unsynced.connect(unsynced.newUser("unsynced"))) {
            c.send("type", "join", "room", "unsynced", "ref", "j");
            c.await("joined", "j");
            for (int i = 1; i <= 3; i++) {
                c.send("type", "send", "room", "unsynced", "text", "message " + i, "clientId", "c" + i, "ref", "s" + i);
                c.await("ack", "s" + i);
            }
        }
        assertThat(commits(unsynced)).isGreaterThanOrEqualTo(1);
        assertThat(syncs(unsynced)).isZero();
        assertThat(unsynced.server().metrics().registry().get(ChatMetrics.JOURNAL_SYNC_TIME).timer().count()).isZero();
    }

    private static double syncs(ParleyServer server) {
        return server.server().metrics().registry().get(ChatMetrics.JOURNAL_SYNCS).functionCounter().count();
    }

    /** Group commits so far (each commit that stored messages is one journal write). */
    private static double commits(ParleyServer server) {
        return server.server().metrics().registry().get(ChatMetrics.APPEND_BATCH_SIZE).summary().count();
    }
}
