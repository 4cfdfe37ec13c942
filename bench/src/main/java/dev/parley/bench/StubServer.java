package dev.parley.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.concurrent.FastThreadLocal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server that speaks just enough of PROTOCOL.md for the bench (register, login, {@code join},
 * {@code send}) and does almost nothing: no database, no JSON library, no token check. A send gets a
 * seq, an ack, and one pre-encoded frame written to every member, flushed once per event-loop turn.
 * Measuring the bench against it measures the bench's own ceiling: where it stops, the bench is the
 * bottleneck, not the server.
 */
final class StubServer implements AutoCloseable {
    private static final Pattern USERNAME = Pattern.compile("\"username\"\\s*:\\s*\"([^\"]*)\"");
    private static final byte[] ROOM = Scan.ascii("\"room\":\"");

    private final MultiThreadIoEventLoopGroup group;
    private final Channel server;
    private final Map<String, Room> rooms = new ConcurrentHashMap<>();
    private final FastThreadLocal<Flusher> flushers = new FastThreadLocal<>() {
        @Override
        protected Flusher initialValue() {
            return new Flusher();
        }
    };

    StubServer(String host, int port, int threads) throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(threads, Thread.ofPlatform().name("stub-loop-", 0).factory(), NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), new Http());
                    }
                })
                .bind(host, port).sync().channel();
    }

    int port() {
        return ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    /** Register, login and the upgrade. */
    private final class Http extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String path = req.uri();
            if (req.method() == HttpMethod.POST && (path.equals("/api/auth/register") || path.equals("/api/auth/login"))) {
                Matcher m = USERNAME.matcher(req.content().toString(StandardCharsets.UTF_8));
                String user = m.find() ? m.group(1) : "anonymous";
                respond(ctx, path.endsWith("register") ? HttpResponseStatus.CREATED : HttpResponseStatus.OK,
                        "{\"token\":\"stub-" + user + "\",\"username\":\"" + user + "\",\"expiresAt\":\"2099-01-01T00:00:00Z\"}");
            } else if (req.method() == HttpMethod.GET && path.startsWith("/ws")) {
                String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION, "Bearer stub-anonymous");
                String user = auth.substring(auth.indexOf("stub-") < 0 ? 0 : auth.indexOf("stub-") + 5);
                WebSocketServerHandshaker hs = new WebSocketServerHandshakerFactory("ws://stub/ws", null, false, 1 << 20).newHandshaker(req);
                if (hs == null) {
                    WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                    return;
                }
                ctx.pipeline().replace(this, "stub-ws", new Member(user));
                hs.handshake(ctx.channel(), req);
            } else {
                respond(ctx, HttpResponseStatus.NOT_FOUND, "{\"error\":\"not_found\",\"message\":\"the stub serves register, login and /ws\"}");
            }
        }

        private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String json) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            ctx.writeAndFlush(r);
        }
    }

    /** One WebSocket: join and send; every other frame is ignored. */
    private final class Member extends SimpleChannelInboundHandler<WebSocketFrame> {
        final String user;
        ChannelHandlerContext ctx;
        final List<Room> joined = new ArrayList<>();
        boolean dirty;

        Member(String user) {
            this.user = user;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame t) {
                ByteBuf b = t.content();
                int at = b.readerIndex(), end = b.writerIndex();
                if (end - at <= Scan.TYPE_AT) return;
                byte type = b.getByte(at + Scan.TYPE_AT);
                String room = Scan.string(b, Scan.after(b, at, end, ROOM), end);
                if (type == 'j') {
                    Room r = rooms.computeIfAbsent(room, Room::new);
                    joined.add(r);
                    long last = r.join(this);
                    write(frame("{\"type\":\"joined\",\"room\":\"" + room + "\",\"lastSeq\":" + last
                            + ",\"online\":1,\"members\":[],\"recovered\":true}"));
                } else if (type == 's') {
                    Room r = rooms.get(room);
                    if (r == null) return;
                    String clientId = Scan.string(b, Scan.after(b, at, end, Scan.CLIENT_ID), end);
                    String text = Scan.string(b, Scan.after(b, at, end, Scan.TEXT), end);
                    r.send(this, clientId, text);
                }
            } else if (frame instanceof PingWebSocketFrame p) {
                ctx.writeAndFlush(new PongWebSocketFrame(p.content().retain()));
            } else if (frame instanceof CloseWebSocketFrame) {
                ctx.close();
            }
        }

        /** Writes without flushing; the loop's flusher flushes once this turn. On the member's loop. */
        void write(ByteBuf frame) {
            ctx.write(frame, ctx.voidPromise());
            if (!dirty) {
                dirty = true;
                flushers.get().add(this);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            for (Room r : joined) r.leave(this);
        }
    }

    /** Flushes each connection written this turn once, after the turn's reads. One per event loop. */
    private static final class Flusher implements Runnable {
        private final List<Member> dirty = new ArrayList<>();
        private boolean scheduled;

        void add(Member m) {
            dirty.add(m);
            if (!scheduled) {
                scheduled = true;
                m.ctx.channel().eventLoop().execute(this);
            }
        }

        @Override
        public void run() {
            scheduled = false;
            for (Member m : dirty) {
                m.dirty = false;
                m.ctx.flush();
            }
            dirty.clear();
        }
    }

    private static final class Room {
        final String name;
        long seq;
        final Map<EventLoop, List<Member>> byLoop = new HashMap<>();

        Room(String name) {
            this.name = name;
        }

        synchronized long join(Member m) {
            byLoop.computeIfAbsent(m.ctx.channel().eventLoop(), l -> new ArrayList<>()).add(m);
            return seq;
        }

        synchronized void leave(Member m) {
            List<Member> ms = byLoop.get(m.ctx.channel().eventLoop());
            if (ms != null) ms.remove(m);
        }

        synchronized void send(Member from, String clientId, String text) {
            long s = ++seq;
            from.write(frame("{\"type\":\"ack\",\"room\":\"" + name + "\",\"clientId\":\"" + clientId + "\",\"seq\":" + s
                    + ",\"id\":\"stub-" + s + "\",\"ts\":\"2026-01-01T00:00:00.000Z\"}"));
            ByteBuf message = frame("{\"type\":\"message\",\"room\":\"" + name + "\",\"seq\":" + s + ",\"id\":\"stub-" + s
                    + "\",\"from\":\"" + from.user + "\",\"text\":\"" + text + "\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"clientId\":\""
                    + clientId + "\"}");
            for (Map.Entry<EventLoop, List<Member>> e : byLoop.entrySet()) {
                List<Member> members = List.copyOf(e.getValue());
                if (e.getKey().inEventLoop()) {
                    for (Member m : members) m.write(message.retainedDuplicate());
                } else {
                    ByteBuf shared = message.retainedDuplicate();
                    e.getKey().execute(() -> {
                        for (Member m : members) m.write(shared.retainedDuplicate());
                        shared.release();
                    });
                }
            }
            message.release();
        }
    }

    /** A complete unmasked text frame, header included, in a direct buffer. */
    static ByteBuf frame(String json) {
        byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        int n = payload.length;
        ByteBuf b = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(n + 10);
        b.writeByte(0x81);
        if (n < 126) {
            b.writeByte(n);
        } else if (n < 65536) {
            b.writeByte(126).writeShort(n);
        } else {
            b.writeByte(127).writeLong(n);
        }
        return b.writeBytes(payload);
    }
}
