package dev.parley.broker;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import static java.util.Objects.requireNonNull;

/**
 * The publishing half of the Redis broker: one plain socket on which Redis is told
 * {@code CLIENT REPLY OFF}, written only by the broker's publishing thread.
 *
 * <p>Why not Lettuce, which the subscribing half uses: the broker publishes at most once and has no
 * use for {@code PUBLISH}'s reply (the number of subscribers). Through Lettuce every batch was handed
 * to its I/O thread to be written, and every reply was read back, woke that thread and was matched to
 * a future. Here a batch is one {@code write} by the thread that encoded it, and Redis writes nothing
 * back. Measured in docs/BENCHMARKS.md (change 24): two nodes, 1 x 100 fanout, the Lettuce threads
 * went from 0.055 to 0.034 core and Redis from 0.026 to 0.023.
 *
 * <p>What Lettuce did that is done here: connecting with a timeout, TLS for {@code rediss://}
 * (verified as Lettuce verifies it), {@code AUTH} and a client name;
 * noticing at once that the connection is gone (a reader thread blocks on the socket: Redis sends
 * nothing on it, so end of stream or an error is the news); a write that Redis does not take within
 * {@link #WRITE_TIMEOUT} closes the connection; reconnecting with a back-off of 0.1 to 1 s.
 */
final class RedisPublisher implements Publisher {
    private static final Logger log = LoggerFactory.getLogger(RedisPublisher.class);
    static final Duration WRITE_TIMEOUT = Duration.ofSeconds(5);
    private static final long FIRST_RETRY_MILLIS = 100;
    private static final long LAST_RETRY_MILLIS = 1_000;
    /** How often the reader looks at a write in progress. */
    private static final int READER_TICK_MILLIS = 500;
    private static final int KEEP_BUFFER = 64 << 10;

    private static final byte[] PUBLISH = ascii("PUBLISH");
    private static final byte[] CLIENT = ascii("CLIENT");

    private final SSLSocketFactory tls;  // null for redis://
    private final boolean verifyHost;
    private final String host;
    private final int port;
    private final String user;
    private final char[] password;
    private final String name;
    private final Duration connectTimeout;
    private final ScheduledExecutorService thread;
    private final Runnable stateChanged;

    private final AtomicReference<Socket> current = new AtomicReference<>();
    private OutputStream stream;  // the publishing thread's, like everything below
    private byte[] buf = new byte[KEEP_BUFFER];
    private int len;
    private int commands;
    private long retryMillis = FIRST_RETRY_MILLIS;
    private volatile long writingSince; // System.nanoTime() when a write began; 0 while none is
    private volatile CompletableFuture<Void> pong;
    private volatile boolean closed;
    private boolean reportedError; // the reader thread's

    /**
     * @param url            {@code redis://} or {@code rediss://[[user]:password@]host[:port]}, with {@code ?verifyPeer=NONE|CA|FULL} for TLS
     * @param thread         the one thread that calls {@link #add}, {@link #flush} and {@link #connect}; reconnects run on it
     * @param stateChanged   told (on any thread) when the connection goes up or down
     * @throws IllegalArgumentException for a URL this publisher cannot use
     */
    RedisPublisher(String url, String name, Duration connectTimeout, ScheduledExecutorService thread, Runnable stateChanged) {
        RedisURI uri = RedisURI.create(requireNonNull(url, "url"));
        if (uri.getSentinels() != null && !uri.getSentinels().isEmpty() || uri.getSocket() != null) {
            throw new IllegalArgumentException("this publisher takes redis:// or rediss://[[user]:password@]host[:port] (Sentinel goes through LettucePublisher; Unix sockets are not supported)");
        }
        this.tls = uri.isSsl() ? tls(uri.getVerifyMode()) : null;
        this.verifyHost = uri.isSsl() && uri.getVerifyMode() == SslVerifyMode.FULL;
        this.host = uri.getHost();
        this.port = uri.getPort();
        this.user = uri.getUsername();
        this.password = uri.getPassword() == null || uri.getPassword().length == 0 ? null : uri.getPassword();
        this.name = requireNonNull(name, "name");
        this.connectTimeout = requireNonNull(connectTimeout, "connectTimeout");
        this.thread = requireNonNull(thread, "thread");
        this.stateChanged = requireNonNull(stateChanged, "stateChanged");
    }

    @Override
    public boolean takes() {
        return up();
    }

    @Override
    public boolean up() {
        return current.get() != null;
    }

    /** Queues a {@code PUBLISH} for the next {@link #flush}. */
    @Override
    public void add(byte[] channel, byte[] message) {
        command(PUBLISH, channel, message);
        commands++;
    }

    /**
     * Writes what {@link #add} queued in one go.
     *
     * @return how many of the queued events may not have reached Redis (0, or all of them)
     */
    @Override
    public int flush() {
        if (commands == 0) return 0;
        int n = commands;
        Socket s = current.get();
        try {
            if (s == null) return n;
            writingSince = System.nanoTime() | 1;
            stream.write(buf, 0, len);
            return 0;
        } catch (IOException e) {
            lost(s, "a write failed: " + e.getMessage());
            return n;
        } finally {
            writingSince = 0;
            len = 0;
            commands = 0;
            if (buf.length > KEEP_BUFFER) buf = new byte[KEEP_BUFFER];
        }
    }

    /** Connects, authenticates, names the connection and turns replies off. On the publishing thread, or before it starts. */
    void connect() throws IOException {
        Socket s = new Socket(); // the TCP socket: closing it ends whatever TLS is doing on top of it
        try {
            s.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            s.setSoTimeout((int) connectTimeout.toMillis());
            Socket io = s;
            if (tls != null) {
                SSLSocket ssl = (SSLSocket) tls.createSocket(s, host, port, true);
                if (verifyHost) {
                    SSLParameters params = ssl.getSSLParameters();
                    params.setEndpointIdentificationAlgorithm("HTTPS");
                    ssl.setSSLParameters(params);
                }
                ssl.startHandshake();
                io = ssl;
            }
            OutputStream out = io.getOutputStream();
            InputStream in = new BufferedInputStream(io.getInputStream(), 512);
            len = 0;
            commands = 0;
            if (password != null) {
                byte[] pw = new String(password).getBytes(StandardCharsets.UTF_8);
                if (user == null) command(ascii("AUTH"), pw);
                else command(ascii("AUTH"), user.getBytes(StandardCharsets.UTF_8), pw);
                out.write(buf, 0, len);
                Arrays.fill(buf, 0, len, (byte) 0); // not left in the heap longer than needed
                len = 0;
                // The reply names the failure (WRONGPASS, NOAUTH), never the password.
                expectOk(in, "the credentials");
            }
            command(CLIENT, ascii("SETNAME"), name.getBytes(StandardCharsets.UTF_8));
            out.write(buf, 0, len);
            len = 0;
            expectOk(in, "CLIENT SETNAME");
            // No reply to this one, nor to anything after it. Should a server refuse it, its error and
            // PUBLISH's replies arrive anyway, and the reader reads them and drops them.
            command(CLIENT, ascii("REPLY"), ascii("OFF"));
            out.write(buf, 0, len);
            len = 0;
            s.setSoTimeout(READER_TICK_MILLIS);
            stream = out;
            current.set(s); // before the reader starts: an end it sees at once must find this socket current
            Thread.ofPlatform().name("parley-redis-publish-reader").daemon(true).start(() -> read(s, in));
            retryMillis = FIRST_RETRY_MILLIS;
        } catch (IOException | RuntimeException e) {
            len = 0;
            current.compareAndSet(s, null);
            closeQuietly(s);
            throw e;
        }
        stateChanged.run();
    }

    /**
     * Asks Redis to answer again and to answer a {@code PING}: its {@code PONG} comes after every
     * {@code PUBLISH} written before it has been taken. Then closes. Once the publishing thread has
     * stopped.
     */
    @Override
    public void close(Duration wait) {
        closed = true;
        Socket s = current.get();
        if (s == null) return;
        try {
            CompletableFuture<Void> confirmed = new CompletableFuture<>();
            pong = confirmed;
            command(CLIENT, ascii("REPLY"), ascii("ON"));
            command(ascii("PING"));
            writingSince = System.nanoTime() | 1; // a Redis that takes nothing is cut off by the reader
            stream.write(buf, 0, len);
            writingSince = 0;
            len = 0;
            confirmed.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.debug("Redis publisher closes without confirming its last publishes: {}", e.toString());
        } finally {
            closeNow();
        }
    }

    /**
     * Closes without a word to Redis, on any thread: what the publishing thread is writing fails
     * (the way out of a write to a Redis that takes nothing).
     */
    @Override
    public void closeNow() {
        closed = true;
        Socket s = current.getAndSet(null);
        if (s != null) closeQuietly(s);
    }

    /** On the reader thread: Redis sends nothing here, so whatever happens to the read is news. */
    private void read(Socket s, InputStream in) {
        while (true) {
            try {
                reply(line(in));
            } catch (SocketTimeoutException e) {
                long since = writingSince;
                if (since != 0 && System.nanoTime() - since > WRITE_TIMEOUT.toNanos()) {
                    log.warn("Redis took nothing for {} s from the publishing connection: closing it", WRITE_TIMEOUT.toSeconds());
                    lost(s, "Redis took nothing for " + WRITE_TIMEOUT.toSeconds() + " s");
                    return;
                }
            } catch (IOException e) {
                lost(s, e.getMessage());
                return;
            }
        }
    }

    /** A line Redis sent: only {@code PONG} (at close) and errors matter; numbers are replies to PUBLISH if replies are on. */
    private void reply(String line) {
        if (line.equals("+PONG")) {
            CompletableFuture<Void> p = pong;
            if (p != null) p.complete(null);
        } else if (line.startsWith("-") && !reportedError) {
            reportedError = true;
            log.warn("Redis answered the publishing connection with an error (once; later ones are not logged): {}", line.substring(1));
        }
    }

    /** The connection {@code s} is gone: on whichever thread saw it first. */
    private void lost(Socket s, String why) {
        closeQuietly(s);
        if (!current.compareAndSet(s, null)) return;
        if (!closed) log.info("Redis publishing connection lost: {}", why);
        stateChanged.run();
        retryLater();
    }

    private void retryLater() {
        if (closed) return;
        try {
            thread.schedule(this::retry, retryMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void retry() {
        if (closed || up()) return;
        try {
            connect();
            log.debug("Redis publishing connection is back");
        } catch (IOException | RuntimeException e) {
            log.debug("Redis publishing connection: reconnect failed: {}", e.toString());
            retryMillis = Math.min(retryMillis * 2, LAST_RETRY_MILLIS);
            retryLater();
        }
    }

    // --- RESP ---

    private void command(byte[]... args) {
        ensure(16);
        buf[len++] = '*';
        number(args.length);
        for (byte[] a : args) {
            ensure(16 + a.length);
            buf[len++] = '$';
            number(a.length);
            System.arraycopy(a, 0, buf, len, a.length);
            len += a.length;
            buf[len++] = '\r';
            buf[len++] = '\n';
        }
    }

    private void number(int n) {
        int start = len;
        do {
            buf[len++] = (byte) ('0' + n % 10);
            n /= 10;
        } while (n > 0);
        for (int i = start, j = len - 1; i < j; i++, j--) {
            byte t = buf[i];
            buf[i] = buf[j];
            buf[j] = t;
        }
        buf[len++] = '\r';
        buf[len++] = '\n';
    }

    private void ensure(int more) {
        if (len + more > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
    }

    /** One line of RESP without its CR LF (at most 512 characters kept). */
    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) throw new IOException("Redis closed the connection");
            if (b != '\r' && sb.length() < 512) sb.append((char) b);
        }
        return sb.toString();
    }

    private static void expectOk(InputStream in, String what) throws IOException {
        String reply = line(in);
        if (!reply.startsWith("+")) throw new IOException("Redis refused " + what + ": " + (reply.isEmpty() ? "(no reply)" : reply.substring(1)));
    }

    /**
     * TLS as Lettuce does it for the same URL: {@code verifyPeer=FULL} (the default) checks the
     * certificate against the JVM's trust store and the host name, {@code CA} the certificate only,
     * {@code NONE} nothing.
     */
    private static SSLSocketFactory tls(SslVerifyMode mode) {
        if (mode != SslVerifyMode.NONE) return (SSLSocketFactory) SSLSocketFactory.getDefault();
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
