package dev.parley.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The deadline of request heads on Netty's EmbeddedChannel with a frozen clock, in a pipeline named as
 * Vert.x names its HTTP/1 pipeline: bytes arrive when the test writes them, and time passes when it says.
 */
class RequestHeadDeadlineTest {
    private static final long TIMEOUT_SECONDS = 10;

    private EmbeddedChannel channel;
    private final List<String> requests = new ArrayList<>();
    private int timeouts;
    /** Whether the stand-in for Vert.x answers each request at once. */
    private boolean answer = true;

    @BeforeEach
    void open() {
        channel = new EmbeddedChannel();
        channel.freezeTime();
        channel.pipeline().addLast("httpDecoder", new HttpRequestDecoder());
        channel.pipeline().addLast("httpEncoder", new HttpResponseEncoder());
        channel.pipeline().addLast("handler", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof HttpRequest r) {
                    requests.add(r.uri());
                    if (answer) {
                        DefaultFullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                        ok.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
                        ctx.writeAndFlush(ok);
                    }
                }
                ReferenceCountUtil.release(msg);
            }
        });
        RequestHeadDeadline.install(channel.pipeline(), TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS), () -> timeouts++);
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
    }

    private void send(String bytes) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.US_ASCII));
    }

    private void pass(long seconds) {
        channel.advanceTimeBy(seconds, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    /** Everything the server wrote so far, as text. */
    private String out() {
        StringBuilder s = new StringBuilder();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            s.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return s.toString();
    }

    @Test
    void a_head_trickled_a_byte_at_a_time_is_cut_at_the_deadline_counted_from_the_connection_opening() {
        String head = "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        for (int i = 0; i < head.length() && i < 9; i++) {
            send(head.substring(i, i + 1));
            pass(1);
        }
        assertThat(channel.isActive()).isTrue();
        assertThat(timeouts).isZero();

        send("a");
        pass(1);

        String answer = out();
        assertThat(answer).startsWith("HTTP/1.1 408 Request Timeout\r\n").contains("Connection: close\r\n")
                .contains("{\"error\":\"request_timeout\",");
        assertThat(timeouts).isEqualTo(1);
        channel.runPendingTasks();
        assertThat(channel.isActive()).as("closed after the 408").isFalse();
        assertThat(answer).doesNotContain("200 OK");
    }

    @Test
    void a_connection_that_sends_nothing_is_answered_408_at_the_deadline() {
        pass(TIMEOUT_SECONDS - 1);
        assertThat(out()).isEmpty();
        pass(1);
        assertThat(out()).startsWith("HTTP/1.1 408 ");
    }

    @Test
    void a_head_in_time_is_served_and_a_kept_alive_connection_may_then_wait_for_its_next_request() {
        pass(5);
        send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(out()).startsWith("HTTP/1.1 200 OK");

        pass(10 * TIMEOUT_SECONDS); // idle between requests: the idle timeout's business, not this
        assertThat(out()).isEmpty();
        assertThat(channel.isActive()).isTrue();

        send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(out()).startsWith("HTTP/1.1 200 OK");
        assertThat(requests).containsExactly("/a", "/b");
        assertThat(timeouts).isZero();
    }

    @Test
    void the_head_of_a_later_request_has_the_deadline_from_its_first_byte() {
        send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        out();
        pass(60);
        send("GET /b HTTP/1.1\r\n");
        pass(TIMEOUT_SECONDS - 1);
        assertThat(out()).isEmpty();
        send("Host: x\r\n");
        pass(1);

        assertThat(out()).startsWith("HTTP/1.1 408 ");
        assertThat(requests.get(0)).isEqualTo("/a"); // (at the close the decoder passes on what it had of /b, as a failed request)
    }

    @Test
    void a_slow_body_is_not_the_head_and_a_request_with_a_body_in_time_is_served() {
        send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab");
        pass(2 * TIMEOUT_SECONDS);
        send("cd");
        assertThat(out()).startsWith("HTTP/1.1 200 OK");
        assertThat(timeouts).isZero();
    }

    @Test
    void while_an_answer_is_owed_a_late_head_only_ends_the_connection_no_408_in_the_middle_of_it() {
        answer = false;
        send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\n");
        pass(30);
        // The start of a head that came in the same read as the end of the request before it is not
        // seen as a start (the decoder holds it): the clock starts at its next byte.
        send("Ho");
        pass(TIMEOUT_SECONDS);

        assertThat(out()).isEmpty();
        assertThat(timeouts).isEqualTo(1);
        assertThat(channel.isActive()).isFalse();
    }

    @Test
    void once_removed_as_for_a_websocket_nothing_is_timed_any_more() {
        send("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");
        out();
        RequestHeadDeadline.remove(channel.pipeline());
        send("frames that are not HTTP");
        pass(10 * TIMEOUT_SECONDS);
        assertThat(timeouts).isZero();
        assertThat(channel.isActive()).isTrue();
    }
}
