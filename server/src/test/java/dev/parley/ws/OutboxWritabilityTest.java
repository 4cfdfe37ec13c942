package dev.parley.ws;

import dev.parley.delivery.HandOff;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an outbox does while its socket takes nothing (issue 20), on Netty's EmbeddedChannel with its
 * clock frozen: the socket's writability is switched by hand, and time only passes when the test says.
 */
class OutboxWritabilityTest {
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final List<String> written = new ArrayList<>();
    private final List<Outbox.Overflow> overflows = new ArrayList<>();
    private final OutboxBudget budget = new OutboxBudget(Long.MAX_VALUE);
    private EmbeddedChannel channel;
    private Outbox outbox;

    @BeforeEach
    void open() {
        channel = new EmbeddedChannel();
        channel.freezeTime();
        channel.pipeline().addLast("socket", new ChannelDuplexHandler() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ByteBuf b = (ByteBuf) msg;
                written.add(b.toString(StandardCharsets.UTF_8));
                b.release();
                promise.setSuccess();
            }
        });
        channel.pipeline().addLast("connection", new ChannelInboundHandlerAdapter());
        outbox = new Outbox(channel.pipeline().context("connection"), 64, 1 << 20, 0, TIMEOUT_NANOS, budget, overflows::add);
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    /** What Netty does when more than the high water mark waits for the socket, and back. */
    private void socketWritable(boolean writable) {
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, writable);
        channel.runPendingTasks();
    }

    private void pass(long seconds) {
        channel.advanceTimeBy(seconds, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    private static ByteBuf frame(String text) {
        return Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    @Test
    void a_socket_unwritable_for_the_timeout_gives_up_on_the_connection_whatever_arrives_meanwhile() {
        socketWritable(false);
        pass(29);
        outbox.offerPong(frame("pong"));
        outbox.offerReply(frame("error"));
        assertThat(overflows).isEmpty();

        pass(2);

        assertThat(overflows).containsExactly(Outbox.Overflow.UNWRITABLE);
        assertThat(outbox.closed()).isTrue();
        assertThat(outbox.offer(frame("late"), HandOff.NONE)).isFalse();
    }

    @Test
    void a_socket_that_takes_data_again_in_time_is_not_given_up_and_its_clock_starts_again_next_time() {
        socketWritable(false);
        pass(20);
        socketWritable(true);
        pass(20);
        socketWritable(false);
        pass(20);
        assertThat(overflows).isEmpty();

        pass(11);
        assertThat(overflows).containsExactly(Outbox.Overflow.UNWRITABLE);
    }

    @Test
    void pongs_offered_while_the_socket_is_unwritable_are_not_queued_and_only_the_latest_goes_once_it_is_writable() {
        outbox.offer(frame("before"), HandOff.NONE);
        channel.runPendingTasks();
        socketWritable(false);
        for (int i = 1; i <= 1000; i++) assertThat(outbox.offerPong(frame("pong " + i))).isTrue();
        outbox.offer(frame("message"), HandOff.NONE);

        assertThat(outbox.size()).as("only the message is queued").isEqualTo(1);
        socketWritable(true);

        assertThat(written).containsExactly("before", "message", "pong 1000");
        assertThat(overflows).isEmpty();
    }

    @Test
    void a_pong_while_the_socket_is_writable_is_an_ordinary_reply() {
        outbox.offerPong(frame("pong 1"));
        outbox.offerPong(frame("pong 2"));
        channel.runPendingTasks();
        assertThat(written).containsExactly("pong 1", "pong 2");
    }

    @Test
    void the_node_budget_counts_the_bytes_queued_and_forgets_them_once_written() {
        socketWritable(false);
        outbox.offer(frame("12345"), HandOff.NONE);
        outbox.offerReply(frame("123"));
        assertThat(budget.queued()).isEqualTo(8);
        assertThat(outbox.bytes()).isEqualTo(8);

        socketWritable(true);
        assertThat(String.join("", written)).as("both, in order (in one buffer)").isEqualTo("12345123");
        assertThat(budget.queued()).isZero();
    }

    @Test
    void the_node_budget_forgets_what_a_closed_outbox_drops_and_what_comes_after() {
        socketWritable(false);
        outbox.offer(frame("12345"), HandOff.NONE);
        outbox.close();
        channel.runPendingTasks();
        assertThat(budget.queued()).isZero();

        assertThat(outbox.offer(frame("too late"), HandOff.NONE)).isFalse();
        channel.runPendingTasks();
        assertThat(budget.queued()).isZero();
    }

    @Test
    void a_full_queue_gives_up_as_full_and_the_budget_gives_up_as_budget() {
        socketWritable(false);
        for (int i = 0; i < 64; i++) assertThat(outbox.offer(frame("m" + i), HandOff.NONE)).isTrue();
        assertThat(outbox.offer(frame("one too many"), HandOff.NONE)).isFalse();
        channel.runPendingTasks();
        assertThat(overflows).containsExactly(Outbox.Overflow.FULL);

        // Another outbox, given up by the node's budget from another thread.
        List<Outbox.Overflow> other = new ArrayList<>();
        EmbeddedChannel second = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        try {
            Outbox o = new Outbox(second.pipeline().firstContext(), 64, 1 << 20, 0, TIMEOUT_NANOS, budget, other::add);
            o.overflow(Outbox.Overflow.BUDGET);
            o.overflow(Outbox.Overflow.BUDGET);
            second.runPendingTasks();
            assertThat(other).containsExactly(Outbox.Overflow.BUDGET);
        } finally {
            second.finishAndReleaseAll();
        }
    }
}
