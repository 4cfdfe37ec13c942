package dev.parley.ws;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client written by hand on a plain socket, for what the JDK client will not do: send a
 * binary or an oversized frame, read the raw answer to a refused upgrade, and above all never answer
 * a ping (a frozen peer). Nothing is read unless the test asks for it.
 */
final class RawWebSocket implements AutoCloseable {
    static final int TEXT = 0x1, BINARY = 0x2, CLOSE = 0x8, PING = 0x9, PONG = 0xA;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    /** The answer to the upgrade request: its status line's code, and the body if it was not a 101. */
    record Handshake(int status, String head, String body, RawWebSocket socket) {}

    /** A frame from the server. */
    record Frame(int opcode, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The close code of a close frame, or -1. */
        int closeCode() {
            return opcode == CLOSE && payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }
    }

    private RawWebSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Sends the upgrade request for {@code pathAndQuery} with the extra headers and reads the answer. */
    static Handshake handshake(int port, String pathAndQuery, Map<String, String> headers) {
        return handshakeFrom("127.0.0.1", port, pathAndQuery, headers);
    }

    /** The same from a local address of the loopback network (127.0.0.2, ...): a client of another address. */
    static Handshake handshakeFrom(String localAddress, int port, String pathAndQuery, Map<String, String> headers) {
        return handshakeFrom(localAddress, port, pathAndQuery, headers, 0);
    }

    /**
     * The same with a receive buffer of {@code receiveBufferBytes} (0: the system's): a small one
     * makes a client that reads nothing fill the server's side in kilobytes rather than megabytes,
     * as a client on a slow link would.
     */
    static Handshake handshakeFrom(String localAddress, int port, String pathAndQuery, Map<String, String> headers, int receiveBufferBytes) {
        String key = Base64.getEncoder().encodeToString(randomBytes(16));
        Map<String, String> all = new LinkedHashMap<>();
        all.put("Upgrade", "websocket");
        all.put("Connection", "Upgrade");
        all.put("Sec-WebSocket-Key", key);
        all.put("Sec-WebSocket-Version", "13");
        all.putAll(headers);
        return request(localAddress, port, "GET", pathAndQuery, all, receiveBufferBytes);
    }

    /**
     * Sends one HTTP/1.1 request with exactly these headers (and Host) and reads the answer; a 101
     * leaves the socket open as a WebSocket.
     */
    static Handshake request(int port, String method, String pathAndQuery, Map<String, String> headers) {
        return request("127.0.0.1", port, method, pathAndQuery, headers, 0);
    }

    private static Handshake request(String localAddress, int port, String method, String pathAndQuery, Map<String, String> headers,
                                     int receiveBufferBytes) {
        try {
            Socket s = new Socket();
            // Before the connection: the window it announces is set then.
            if (receiveBufferBytes > 0) s.setReceiveBufferSize(receiveBufferBytes);
            s.bind(new java.net.InetSocketAddress(localAddress, 0));
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 15_000);
            s.setSoTimeout(15_000);
            StringBuilder req = new StringBuilder()
                    .append(method).append(' ').append(pathAndQuery).append(" HTTP/1.1\r\n")
                    .append("Host: 127.0.0.1:").append(port).append("\r\n");
            headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            req.append("\r\n");
            s.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            RawWebSocket ws = new RawWebSocket(s);
            String head = ws.readHead();
            int status = Integer.parseInt(head.split(" ", 3)[1]);
            if (status == 101) return new Handshake(status, head, "", ws);
            int length = contentLength(head);
            byte[] body = new byte[Math.max(0, length)];
            if (length > 0) ws.in.readFully(body);
            s.close();
            return new Handshake(status, head, new String(body, StandardCharsets.UTF_8), null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Opens a WebSocket with the token in the query string; fails unless the server upgrades. */
    static RawWebSocket open(int port, String token) {
        return open(port, token, 0);
    }

    /** The same with a receive buffer of this size (see {@link #handshakeFrom}). */
    static RawWebSocket open(int port, String token, int receiveBufferBytes) {
        Handshake h = handshakeFrom("127.0.0.1", port, "/ws?token=" + token, Map.of(), receiveBufferBytes);
        if (h.status() != 101) throw new AssertionError("upgrade refused: " + h.head() + h.body());
        return h.socket();
    }

    private String readHead() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) throw new EOFException("connection closed during the handshake: " + b);
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                return Integer.parseInt(line.substring(colon + 1).trim());
            }
        }
        return -1;
    }

    void sendText(String text) {
        send(TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends the texts as frames in one write: the server reads them together, before it can answer any. */
    synchronized void sendTextsAtOnce(java.util.List<String> texts) {
        try {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (String t : texts) {
                byte[] payload = t.getBytes(StandardCharsets.UTF_8);
                if (payload.length >= 126) throw new IllegalArgumentException("short texts only: " + t);
                byte[] mask = randomBytes(4);
                all.write(0x80 | TEXT);
                all.write(0x80 | payload.length);
                all.write(mask);
                for (int i = 0; i < payload.length; i++) all.write(payload[i] ^ mask[i & 3]);
            }
            out.write(all.toByteArray());
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void sendBinary(byte[] data) {
        send(BINARY, data);
    }

    /** Sends one final frame, masked as a client must. */
    void send(int opcode, byte[] payload) {
        send(opcode, payload, true);
    }

    /** Sends one frame; {@code fin} false starts or continues a fragmented message (continuation opcode 0). */
    void send(int opcode, byte[] payload, boolean fin) {
        send(opcode, payload, fin, true);
    }

    /** Sends one frame, unmasked if {@code masked} is false (which a client must never do). */
    synchronized void send(int opcode, byte[] payload, boolean fin, boolean masked) {
        try {
            ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
            f.write((fin ? 0x80 : 0) | opcode);
            int n = payload.length;
            int maskBit = masked ? 0x80 : 0;
            if (n < 126) {
                f.write(maskBit | n);
            } else if (n < 65536) {
                f.write(maskBit | 126);
                f.write(n >>> 8);
                f.write(n);
            } else {
                f.write(maskBit | 127);
                for (int i = 7; i >= 0; i--) f.write((int) ((long) n >>> (8 * i)));
            }
            byte[] mask = masked ? randomBytes(4) : new byte[4];
            if (masked) f.write(mask);
            for (int i = 0; i < n; i++) f.write(payload[i] ^ mask[i & 3]);
            out.write(f.toByteArray());
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next frame, whatever it is; null at the end of the stream. Answers nothing by itself. */
    Frame read(Duration timeout) {
        try {
            socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
            int b0 = in.read();
            if (b0 < 0) return null;
            int b1 = in.readUnsignedByte();
            long n = b1 & 0x7f;
            if (n == 126) n = in.readUnsignedShort();
            else if (n == 127) n = in.readLong();
            byte[] mask = null;
            if ((b1 & 0x80) != 0) {
                mask = new byte[4];
                in.readFully(mask);
            }
            byte[] payload = new byte[(int) n];
            in.readFully(payload);
            if (mask != null) for (int i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
            return new Frame(b0 & 0x0f, payload);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no frame within " + timeout);
        } catch (EOFException e) {
            return null;
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("reset")) return null;
            throw new UncheckedIOException(e);
        }
    }

    /** Reads until a text frame comes (skipping pings, which are not answered); null if the connection ended. */
    Frame readText(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Frame f = read(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
            if (f == null || f.opcode() == TEXT || f.opcode() == CLOSE) return f;
        }
    }

    /** Reads until the server closes: returns the close frame, or null if the TCP connection just ended. */
    Frame readUntilClosed(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Frame f = read(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
            if (f == null || f.opcode() == CLOSE) return f;
        }
    }

    /** Drops the TCP connection without a closing handshake, as a vanished client does. */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }
}
