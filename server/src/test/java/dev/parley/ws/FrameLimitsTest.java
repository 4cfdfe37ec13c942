package dev.parley.ws;

import dev.parley.chat.Limits;
import dev.parley.config.ChatConfig;
import dev.parley.ws.FrameLimits.Verdict;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The limits of each kind of frame (PROTOCOL.md section 12): a bucket per kind, refusals, typing
 * dropped, and a close with 4029 for whoever keeps at it. A burst is sent faster than any bucket
 * refills, so the counts are exact up to a token or two of refill.
 */
class FrameLimitsTest {
    private static final Limits LIMITS = new Limits(ChatConfig.load(Map.of("CHAT_MAX_ROOMS_PER_CONNECTION", "20"), Map.of()));

    private static List<Verdict> flood(FrameLimits f, ClientFrame frame, int n) {
        List<Verdict> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(f.take(frame));
        return out;
    }

    @Test
    void each_kind_has_its_own_bucket() {
        FrameLimits f = new FrameLimits(LIMITS);
        List<Verdict> pings = flood(f, new ClientFrame.Ping(null), 12);
        assertThat(pings.subList(0, 10)).containsOnly(Verdict.TAKE);
        assertThat(pings.get(11)).isEqualTo(Verdict.REFUSE);

        assertThat(f.take(new ClientFrame.History(null, "r", null, null))).as("history is not ping").isEqualTo(Verdict.TAKE);
        assertThat(f.send()).as("nor is send").isEqualTo(Verdict.TAKE);
    }

    @Test
    void join_and_leave_share_a_bucket_as_large_as_the_rooms_a_connection_may_be_in() {
        FrameLimits f = new FrameLimits(LIMITS);
        assertThat(flood(f, new ClientFrame.Join(null, "r", null), 10)).containsOnly(Verdict.TAKE);
        assertThat(flood(f, new ClientFrame.Leave(null, "r"), 10)).containsOnly(Verdict.TAKE);
        assertThat(f.take(new ClientFrame.Join(null, "r", null))).isEqualTo(Verdict.REFUSE);
        assertThat(f.rule(new ClientFrame.Leave(null, "r"))).isEqualTo("at most 20 join and leave frames at once, then 5 a second");
    }

    @Test
    void typing_past_its_rate_is_dropped_and_only_a_flood_of_it_closes() {
        FrameLimits f = new FrameLimits(LIMITS);
        List<Verdict> typing = flood(f, new ClientFrame.Typing(null, "r"), 5 + Limits.REFUSALS_BEFORE_CLOSE + 1);
        assertThat(typing.subList(0, 5)).containsOnly(Verdict.TAKE);
        assertThat(typing.subList(6, 5 + Limits.REFUSALS_BEFORE_CLOSE - 1)).containsOnly(Verdict.DROP);
        assertThat(typing.getLast()).isEqualTo(Verdict.CLOSE);
    }

    @Test
    void refusals_of_every_kind_but_send_count_together_towards_the_close() {
        FrameLimits f = new FrameLimits(LIMITS);
        flood(f, new ClientFrame.Ping(null), 10);
        flood(f, new ClientFrame.Refresh(null, "t"), 3);
        int refused = 0;
        Verdict last = null;
        for (int i = 0; refused <= Limits.REFUSALS_BEFORE_CLOSE && i < 1_000; i++) {
            last = i % 3 == 0 ? f.refused() : f.take(i % 3 == 1 ? new ClientFrame.Ping(null) : new ClientFrame.Refresh(null, "t"));
            if (last != Verdict.TAKE) refused++;
        }
        assertThat(last).isEqualTo(Verdict.CLOSE);
    }

    @Test
    void sends_keep_their_own_rule_twice_the_burst() {
        FrameLimits f = new FrameLimits(LIMITS);
        int burst = LIMITS.sendBurst();
        int taken = 0, refused = 0;
        Verdict v;
        while ((v = f.send()) != Verdict.CLOSE) {
            if (v == Verdict.TAKE) taken++;
            else refused++;
        }
        assertThat(taken).isBetween(burst, burst + 2);
        assertThat(refused).isEqualTo(2 * burst);
        assertThat(f.take(new ClientFrame.Ping(null))).as("other kinds are not closed by sends").isEqualTo(Verdict.TAKE);
    }
}
