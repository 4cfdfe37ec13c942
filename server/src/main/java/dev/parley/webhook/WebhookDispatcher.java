package dev.parley.webhook;

import dev.parley.event.Message;
import dev.parley.event.RoomChange;
import dev.parley.store.MessageStore;
import dev.parley.store.WebhookStore;
import dev.parley.store.WebhookStore.Webhook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Delivers rooms' events to their webhooks, apart from chat: its own threads, its own HTTP client,
 * and nothing on the send path (it reads the events from the store, as a resuming client does).
 *
 * <p><b>Order and durability.</b> Each webhook has a {@code last_seq} in the store: everything of
 * its room up to there is delivered. One delivery is in flight per webhook: the next event goes
 * after the answer to the one before, so a receiver gets them in the room's seq order. What follows
 * {@code last_seq} is read from the store, so a restart or a crash loses nothing: delivery goes on
 * from the stored {@code last_seq}. An event delivered whose {@code last_seq} was not yet written
 * (a crash between the two) is delivered again: at least once, with the event's id to drop it.
 *
 * <p><b>One node per webhook.</b> A node delivers for the webhooks it holds the lease of (a row's
 * {@code lease_node} and {@code lease_until} in the store: {@link #LEASE_MILLIS}, renewed every
 * third of it). A node that stops gives its leases up; one that dies keeps them until they expire,
 * and then the next node to claim takes them over. Every write of an outcome is conditional on the
 * lease, so a node that lost it (a pause longer than the lease) stops after at most one delivery,
 * which may then be made twice.
 *
 * <p><b>Failures.</b> A connection refused, a timeout or a status other than 2xx is a failure: the
 * webhook is {@code failing} and the same event is tried again after an exponential back-off with
 * jitter, up to {@code attempts} failures in a row, when it is {@code disabled} until its owner
 * re-enables it. A success ends the streak.
 *
 * <p><b>Why the JDK's HttpClient.</b> Chat runs on Vert.x's (Netty's) event loops; Vert.x's client
 * would run deliveries on those same loops, where a slow receiver's TLS handshakes and bodies would
 * share the threads of chat. The JDK's client has a selector thread of its own and is called here
 * from a pool of {@link #THREADS} threads of this class's own, with a connect timeout and a request
 * timeout, no redirects followed (a redirect could point anywhere, past the URL check), and no
 * dependency added. A dead receiver holds one of those threads for at most the timeout.
 */
public final class WebhookDispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookDispatcher.class);
    /** Deliveries in flight on a node at most: one per webhook, this many webhooks at once. */
    static final int THREADS = 4;
    /** How often the store is asked which webhooks have something to deliver. */
    static final long POLL_MILLIS = 250;
    /** How long a node's lease of a webhook lasts; renewed every third of it. */
    static final long LEASE_MILLIS = 30_000;
    /** Events read from the store at once for one webhook. */
    private static final int PAGE = 100;
    /** The longest wait between two tries of a failing webhook. */
    static final long MAX_BACKOFF_MILLIS = 3_600_000;

    /**
     * @param timeout   connect timeout, and the time a receiver has to answer
     * @param retryBase the wait after the first failure; it doubles with each failure after
     * @param attempts  failures in a row after which the webhook is disabled
     */
    public record Settings(Duration timeout, Duration retryBase, int attempts) {}

    private final WebhookStore hooks;
    private final MessageStore messages;
    private final UrlGuard guard;
    private final String node;
    private final Settings settings;
    private final LongSupplier clock;
    private final Consumer<String> outcomes;
    private final ScheduledExecutorService poller;
    private final ExecutorService senders;
    private final ExecutorService httpThreads;
    private final HttpClient http;
    private final Set<String> running = ConcurrentHashMap.newKeySet();
    private long nextSweep;
    private volatile long quietUntil; // a store that is down is said once a minute, not at every poll
    private volatile boolean closed;

    /** @param outcomes told each delivery's outcome ({@code delivered}, {@code failed}, {@code disabled}): the metrics */
    public WebhookDispatcher(WebhookStore hooks, MessageStore messages, UrlGuard guard, String node, Settings settings, LongSupplier clock,
                             Consumer<String> outcomes) {
        this.hooks = requireNonNull(hooks, "hooks");
        this.messages = requireNonNull(messages, "messages");
        this.guard = requireNonNull(guard, "guard");
        this.node = requireNonNull(node, "node");
        this.settings = requireNonNull(settings, "settings");
        this.clock = requireNonNull(clock, "clock");
        this.outcomes = requireNonNull(outcomes, "outcomes");
        this.poller = Executors.newSingleThreadScheduledExecutor(threads("parley-webhook-poll"));
        this.senders = Executors.newFixedThreadPool(THREADS, threads("parley-webhook"));
        this.httpThreads = Executors.newFixedThreadPool(2, threads("parley-webhook-http"));
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).executor(httpThreads).build();
    }

    public void start() {
        poller.scheduleWithFixedDelay(this::poll, 0, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Stops delivering and gives the leases up, so that another node goes on at once. A delivery
     * under way is cut off (its HTTP exchange cancelled, not its thread interrupted: an interrupt
     * during a JDBC call can close H2's file) and made again by whoever goes on. Blocking.
     */
    @Override
    public void close() {
        closed = true;
        poller.shutdown();
        http.shutdownNow();
        senders.shutdown();
        try {
            poller.awaitTermination(5, TimeUnit.SECONDS);
            senders.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        httpThreads.shutdown();
        try {
            hooks.release(node);
        } catch (RuntimeException e) {
            log.warn("could not give the webhook leases up ({}): another node takes them when they expire", e.toString());
        }
    }

    private void poll() {
        if (closed) return;
        try {
            long now = clock.getAsLong();
            // Every poll, so that a webhook registered a moment ago (or one a dead node held) is taken
            // at once; the statement changes only rows that are free or due for renewal.
            hooks.claim(node, now, now + LEASE_MILLIS, now + LEASE_MILLIS * 2 / 3);
            if (now >= nextSweep) {
                hooks.sweep();
                nextSweep = now + LEASE_MILLIS;
            }
            for (Webhook w : hooks.due(node, now)) {
                if (!running.add(w.id())) continue; // one in flight per webhook
                senders.execute(() -> {
                    try {
                        run(w.id());
                    } catch (RuntimeException e) {
                        // The store is down, most likely: the next poll tries again from the stored last_seq.
                        warn("webhook " + w.id() + " of " + w.room() + ": " + e);
                    } finally {
                        running.remove(w.id());
                    }
                });
            }
        } catch (RuntimeException e) {
            warn("webhook poll failed: " + e);
        }
    }

    private void warn(String what) {
        long now = clock.getAsLong();
        if (now < quietUntil) return;
        quietUntil = now + 60_000;
        log.warn("{} (the next such warning a minute from now at the earliest)", what);
    }

    /** Delivers what the webhook has not had, in order, until it is caught up, fails, or is no longer this node's. */
    private void run(String id) {
        while (!closed) {
            Webhook w = hooks.leased(node, id, clock.getAsLong()).orElse(null);
            if (w == null || w.nextAttemptAt() > clock.getAsLong()) return;
            MessageStore.Page page = messages.page(w.room(), null, w.lastSeq(), PAGE);
            if (page.messages().isEmpty()) return;
            // Asked again after the page is read: a room change that ended the webhook (its creator
            // removed, banned, no longer owner) commits with its event, so if the page holds that
            // event, the webhook is gone here. Nothing from the change on is sent.
            if (hooks.leased(node, id, clock.getAsLong()).isEmpty()) return;
            Set<EventKind> kinds = EventKind.split(w.events());
            int failures = w.failures();
            long skipped = -1; // the last seq passed over since the last write: not of the webhook's kinds
            for (Message m : page.messages()) {
                if (closed) return;
                EventKind kind = EventKind.of(m);
                if (kinds.contains(kind)) {
                    String error;
                    try {
                        error = send(w, kind, m);
                    } catch (UrlGuard.Busy e) {
                        return; // not the receiver's failure: the next poll tries again
                    }
                    if (error != null && closed) return; // cut off by close(): not the receiver's failure
                    long now = clock.getAsLong();
                    if (error == null) {
                        outcomes.accept("delivered");
                        if (!hooks.advanced(node, id, m.seq(), now)) return;
                        failures = 0;
                        skipped = -1;
                    } else {
                        if (skipped > 0 && !hooks.advanced(node, id, skipped, null)) return;
                        failures++;
                        boolean disabled = failures >= settings.attempts();
                        outcomes.accept(disabled ? "disabled" : "failed");
                        hooks.failed(node, id, failures, error, now, disabled ? 0 : now + backoff(settings.retryBase().toMillis(), failures), disabled);
                        if (disabled) log.info("webhook {} of {} disabled after {} failures in a row: {}", id, w.room(), failures, error);
                        return;
                    }
                } else {
                    skipped = m.seq();
                }
                if (m.event() != null && RoomChange.ROOM_DELETED.equals(m.event().type())) {
                    hooks.ended(node, id); // the room is gone, and the webhook with it
                    return;
                }
            }
            if (skipped > 0 && !hooks.advanced(node, id, skipped, null)) return;
            if (!page.hasMore()) return;
        }
    }

    /** One delivery. @return null on a 2xx, else what went wrong, for the owner to read */
    private String send(Webhook w, EventKind kind, Message m) throws UrlGuard.Busy {
        URI uri;
        try {
            uri = guard.check(w.url());
        } catch (UrlGuard.Busy e) {
            throw e;
        } catch (UrlGuard.Refused e) {
            return e.getMessage();
        }
        byte[] body = Payload.of(w.id(), kind, m);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .header("User-Agent", "Parley-Webhook/1")
                .header(Signature.HEADER, Signature.header(w.secret(), clock.getAsLong() / 1000, body))
                .header("X-Parley-Event", kind.wire())
                .header("X-Parley-Event-Id", m.id())
                .header("X-Parley-Webhook", w.id())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            // The body is not read: closing it unread drops the connection, so a receiver that answers
            // with an endless body costs nothing past its status line.
            response.body().close();
            int status = response.statusCode();
            return status >= 200 && status < 300 ? null : "HTTP " + status;
        } catch (HttpTimeoutException e) {
            return "timed out after " + settings.timeout().toMillis() + " ms";
        } catch (ConnectException e) {
            return "could not connect: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        } catch (IOException e) {
            return "failed: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted: the node stopped";
        } catch (IllegalArgumentException e) {
            return "failed: " + e.getMessage();
        }
    }

    /**
     * The wait after the {@code failures}-th failure in a row: the base doubled for each one before,
     * at most {@link #MAX_BACKOFF_MILLIS}, of which a random half ("equal jitter"), so that the
     * webhooks of a receiver that went down together do not all come back at the same moment.
     */
    static long backoff(long base, int failures) {
        long full = Math.min(MAX_BACKOFF_MILLIS, base << Math.min(failures - 1, 30));
        if (full <= 0) full = MAX_BACKOFF_MILLIS; // the shift went past a long
        return full / 2 + ThreadLocalRandom.current().nextLong(full / 2 + 1);
    }

    private static java.util.concurrent.ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
