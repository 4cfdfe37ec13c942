package dev.parley.chat;

import dev.parley.event.Ids;
import dev.parley.store.RoomStore;
import dev.parley.store.WebhookStore;
import dev.parley.webhook.EventKind;
import dev.parley.webhook.Signature;
import dev.parley.webhook.UrlGuard;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * A room's outgoing webhooks (PROTOCOL.md, webhooks): registering one (its secret is answered once),
 * listing them with how their deliveries fare, removing one, and taking a disabled one up again.
 * The room's owner and administrators only, as for its retention: a webhook sends the whole room
 * away. A private room's non-member, an administrator too, is answered as for a room that does not
 * exist. A webhook lasts as long as whoever registered it may manage them: the room change that
 * takes that away ends it ({@code Rooms}). The deliveries themselves are {@code webhook.WebhookDispatcher}'s.
 */
public final class Webhooks {
    /** Webhooks a room may have at most. */
    public static final int MAX_PER_ROOM = 10;
    /** Webhooks a user may register an hour (on a node): each resolves a host name and may call out for hours. */
    public static final int CREATIONS_PER_HOUR = 20;
    private static final Pattern ID = Pattern.compile("wh_[0-9A-Za-z]{1,29}");

    private final Limits limits;
    private final RoomStore rooms;
    private final WebhookStore hooks;
    private final UrlGuard guard;
    private final Predicate<String> isAdmin;
    private final CreationQuota quota = new CreationQuota(CREATIONS_PER_HOUR);
    private final Function<Callable<?>, Future<?>> blocking;

    /**
     * A webhook as its owner sees it: never its secret.
     *
     * @param lastDeliveredSeq every event of the room up to this seq has been delivered (or is of no kind it takes)
     */
    public record View(String id, String room, String url, List<String> events, String status, int failures, String lastError,
                       Long lastAttemptAt, Long lastDeliveredAt, long lastDeliveredSeq, Long nextAttemptAt, String createdBy, long createdAt) {}

    /** A webhook just registered, and its secret: answered this once. */
    public record Created(View webhook, String secret) {}

    Webhooks(Limits limits, RoomStore rooms, WebhookStore hooks, UrlGuard guard, Predicate<String> isAdmin, Function<Callable<?>, Future<?>> blocking) {
        this.limits = requireNonNull(limits, "limits");
        this.rooms = requireNonNull(rooms, "rooms");
        this.hooks = requireNonNull(hooks, "hooks");
        this.guard = requireNonNull(guard, "guard");
        this.isAdmin = requireNonNull(isAdmin, "isAdmin");
        this.blocking = requireNonNull(blocking, "blocking");
    }

    @SuppressWarnings("unchecked")
    private <T> Future<T> blocking(Callable<T> work) {
        return (Future<T>) blocking.apply(work);
    }

    /** @param events the kinds' names, or null for every kind */
    public Future<Created> create(String user, String room, String url, List<String> events) {
        Set<EventKind> kinds;
        try {
            limits.room(room);
            kinds = kinds(events);
            if (url == null) throw ChatException.badRequest("url must be a string");
            if (url.length() > UrlGuard.MAX_LENGTH) throw ChatException.badRequest("url must be at most " + UrlGuard.MAX_LENGTH + " characters");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            String name = manage(user, room);
            // Before the quota is taken: a room that is full uses none of it. (add counts again under the room's lock.)
            if (hooks.count(name) >= MAX_PER_ROOM) throw full(room);
            // Before the URL's check, which resolves its host: the quota bounds a user's lookups too, so
            // a URL refused counts as a registration.
            long wait = quota.take(user);
            if (wait > 0) {
                throw new ChatException(ErrorCode.QUOTA_EXCEEDED, "you may register " + CREATIONS_PER_HOUR + " webhooks an hour; wait "
                        + Math.max(1, wait / 1000) + " s", Math.max(1, (wait + 999) / 1000));
            }
            try {
                guard.check(url); // resolves the host: off the event loop
            } catch (UrlGuard.Busy e) {
                throw new ChatException(ErrorCode.UNAVAILABLE, e.getMessage(), 1);
            } catch (UrlGuard.Refused e) {
                throw ChatException.badRequest(e.getMessage());
            }
            long now = System.currentTimeMillis();
            String secret = Signature.newSecret();
            // Checked again under the room's lock: a change that takes the right away (a removal, a ban,
            // a handover) ends the user's webhooks in its own transaction, so one added after it would
            // outlive it.
            WebhookStore.Added added = hooks.add("wh_" + Ids.next(now), name, url, EventKind.join(kinds), secret, user, now, MAX_PER_ROOM,
                    (kind, role) -> mayManage(user, room, kind, role));
            if (added.refusal() == WebhookStore.Refusal.NO_ROOM) throw Rooms.notFound(room);
            if (added.refusal() == WebhookStore.Refusal.TOO_MANY) throw full(room); // filled meanwhile
            return new Created(view(added.webhook()), secret);
        });
    }

    public Future<List<View>> list(String user, String room) {
        try {
            limits.room(room);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            List<View> out = new ArrayList<>();
            for (WebhookStore.Webhook w : hooks.list(manage(user, room))) out.add(view(w));
            return out;
        });
    }

    public Future<Void> delete(String user, String room, String id) {
        try {
            limits.room(room);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            String name = manage(user, room);
            if (!ID.matcher(id).matches() || hooks.find(name, id).isEmpty() || !hooks.delete(name, id)) throw noWebhook(id);
            return null;
        });
    }

    /** Takes a disabled (or failing) webhook up again at once, from the first event it has not delivered. */
    public Future<View> enable(String user, String room, String id) {
        try {
            limits.room(room);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            String name = manage(user, room);
            if (!ID.matcher(id).matches() || hooks.find(name, id).isEmpty() || !hooks.enable(name, id)) throw noWebhook(id);
            return view(hooks.find(name, id).orElseThrow(() -> noWebhook(id)));
        });
    }

    /**
     * The room's name if the user may manage its webhooks: 404 if they may not see it (as for a room
     * that does not exist), 403 if they may see it but are not its owner or an administrator. Blocking.
     *
     * <p>An administrator is no exception to seeing: a webhook reads every later message of the room,
     * and an administrator reads a private room only as a member, which its members see in the
     * timeline (SECURITY.md). So a private or direct room they are no member of is not found for them either.
     */
    private String manage(String user, String room) {
        RoomStore.Access a = rooms.access(room, user);
        if (a.room() == null) throw Rooms.notFound(room);
        mayManage(user, room, a.room().kind(), a.member() == null ? null : a.member().role());
        return a.room().name();
    }

    /** Refuses as {@link #manage} does, given the room's kind and the user's role in it (null: no member). */
    private void mayManage(String user, String room, String kind, String role) {
        if (!RoomStore.PUBLIC.equals(kind) && role == null) throw Rooms.notFound(room);
        if (!RoomRules.mayManageWebhooks(isAdmin.test(user), role, kind)) {
            throw new ChatException(ErrorCode.FORBIDDEN, "you may not manage the webhooks of " + room + ": its owner and administrators may");
        }
    }

    private static Set<EventKind> kinds(List<String> events) {
        if (events == null) return EnumSet.allOf(EventKind.class);
        if (events.isEmpty()) throw ChatException.badRequest("events must name at least one kind of event");
        Set<EventKind> kinds = EnumSet.noneOf(EventKind.class);
        for (String e : events) {
            EventKind k = e == null ? null : EventKind.named(e);
            if (k == null) throw ChatException.badRequest("events must be some of " + String.join(", ", names(EnumSet.allOf(EventKind.class))));
            kinds.add(k);
        }
        return kinds;
    }

    private static List<String> names(Set<EventKind> kinds) {
        return kinds.stream().map(EventKind::wire).toList();
    }

    private static ChatException full(String room) {
        return new ChatException(ErrorCode.CONFLICT, "room " + room + " has " + MAX_PER_ROOM + " webhooks, the most it may have; delete one first");
    }

    private static ChatException noWebhook(String id) {
        return ChatException.notFound("no webhook " + (id.length() > 40 ? id.substring(0, 40) + "…" : id));
    }

    static View view(WebhookStore.Webhook w) {
        return new View(w.id(), w.room(), w.url(), names(EventKind.split(w.events())), w.status(), w.failures(), w.lastError(), w.lastAttemptAt(),
                w.lastDeliveredAt(), w.lastSeq(), WebhookStore.FAILING.equals(w.status()) && w.nextAttemptAt() > 0 ? w.nextAttemptAt() : null,
                w.createdBy(), w.createdAt());
    }
}
