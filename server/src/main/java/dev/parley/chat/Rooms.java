package dev.parley.chat;

import dev.parley.chat.RoomRules.Action;
import dev.parley.chat.RoomRules.Role;
import dev.parley.delivery.Delivery;
import dev.parley.event.ReadState;
import dev.parley.event.RoomChange;
import dev.parley.presence.Presence;
import dev.parley.store.MessageStore;
import dev.parley.store.RoomStore;
import dev.parley.store.RoomStore.Plan;
import dev.parley.store.RoomStore.State;
import dev.parley.store.RoomStore.Write;
import dev.parley.store.UserStore;
import io.vertx.core.Future;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * (Longer than 400 lines: every room change is here, each with its rules read in one piece.)
 *
 * <p>The room use cases of PROTOCOL.md 3.3: making rooms and direct rooms, listing them, members,
 * roles, mutes, bans and deleting. Each change is decided under the room's lock ({@link RoomStore#change})
 * by {@link RoomRules}, stored with its events, and then handed to the delivery, which brings the
 * events to the room's connections on this node and publishes them to the others.
 *
 * <p>Reads of a private or direct room by someone who is not its member fail exactly as for a room
 * that does not exist ({@link #notFound}); only a change's refusals may say more, to those who may
 * see the room.
 */
public final class Rooms {
    static final int LIST_DEFAULT = 100, LIST_MAX = 500;
    static final List<String> ROLES = List.of("owner", "moderator", "member");

    private final Limits limits;
    private final RoomStore store;
    private final MessageStore messages;
    private final UserStore users;
    private final Delivery delivery;
    private final Presence presence;
    private final Predicate<String> isAdmin;
    private final boolean creationByAnyone;
    private final Consumer<String> quota;
    private final Function<Callable<?>, Future<?>> blocking;

    /**
     * @param historyStart      where the room's history starts: seqs below it are gone
     * @param retentionDays     the room's own retention by age, null for the server's
     * @param retentionMessages the room's own retention by count, null for the server's
     * @param read              the caller's read state as of {@code lastSeq}, or null if they have no marker in the room (never joined it)
     */
    public record RoomView(String name, String kind, String topic, String role, int members, String with, long lastSeq, int online,
                           long historyStart, Integer retentionDays, Long retentionMessages, ReadState read) {}

    /** A room's own retention: null for the server's default. */
    public record RetentionView(String room, Integer days, Long messages) {}

    public record MemberView(String user, String role, Long mutedUntil) {}

    /** @param until epoch millis, or null for a ban until lifted */
    public record BanView(String user, String by, String reason, Long until, long at) {}

    /** One page and the cursor of the next, null on the last. */
    public record Page<T>(List<T> items, String next) {}

    /** An answer, and whether the request made it (201) or found it (200). */
    public record Made<T>(T value, boolean made) {}

    /** @param quota takes one room of a user's quota of rooms made, or throws {@code quota_exceeded} */
    Rooms(Limits limits, RoomStore store, MessageStore messages, UserStore users, Delivery delivery, Presence presence, Predicate<String> isAdmin,
          boolean creationByAnyone, Consumer<String> quota, Function<Callable<?>, Future<?>> blocking) {
        this.limits = requireNonNull(limits, "limits");
        this.store = requireNonNull(store, "store");
        this.messages = requireNonNull(messages, "messages");
        this.users = requireNonNull(users, "users");
        this.delivery = requireNonNull(delivery, "delivery");
        this.presence = requireNonNull(presence, "presence");
        this.isAdmin = requireNonNull(isAdmin, "isAdmin");
        this.creationByAnyone = creationByAnyone;
        this.quota = requireNonNull(quota, "quota");
        this.blocking = requireNonNull(blocking, "blocking");
    }

    @SuppressWarnings("unchecked")
    private <T> Future<T> blocking(Callable<T> work) {
        return (Future<T>) blocking.apply(work);
    }

    /** The one answer to a room someone may not see, and to a room that does not exist: the same status and body. */
    static ChatException notFound(String room) {
        return ChatException.notFound("no room " + room);
    }

    /** Whether {@code user} may make rooms. */
    boolean mayCreate(String user) {
        return creationByAnyone || isAdmin.test(user);
    }

    boolean admin(String user) {
        return isAdmin.test(user);
    }

    /** The room and the user's access to it if they may read it, else {@link #notFound}. Blocking. */
    RoomStore.Access readable(String user, String room) {
        RoomStore.Access a = store.access(room, user);
        if (a.room() == null || !RoomStore.PUBLIC.equals(a.room().kind()) && a.member() == null) throw notFound(room);
        return a;
    }

    // --- reads ---

    public Future<Page<RoomView>> list(String user, String cursor, Integer limit, String prefix, String kind) {
        int n;
        try {
            n = limit(limit);
            if (cursor != null && (cursor.isEmpty() || cursor.length() > Limits.ROOM_NAME_MAX)) throw ChatException.badRequest("cursor must be a room name");
            if (prefix != null && (prefix.isEmpty() || prefix.length() > Limits.ROOM_NAME_MAX)) throw ChatException.badRequest("prefix must be 1 to " + Limits.ROOM_NAME_MAX + " characters");
            if (kind != null && !List.of(RoomStore.PUBLIC, RoomStore.PRIVATE, RoomStore.DIRECT).contains(kind)) {
                throw ChatException.badRequest("kind must be public, private or direct");
            }
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        record Read(List<RoomStore.Listed> page, boolean more, Map<String, ReadState> states) {}
        return blocking(() -> {
            List<RoomStore.Listed> listed = store.list(user, cursor, n, prefix, kind);
            boolean more = listed.size() > n;
            List<RoomStore.Listed> page = more ? listed.subList(0, n) : listed;
            Map<String, Long> lasts = new HashMap<>();
            for (RoomStore.Listed l : page) lasts.put(l.room().name(), l.room().lastSeq());
            return new Read(page, more, messages.readStates(user, lasts));
        }).compose(read -> {
            List<RoomStore.Listed> page = read.page();
            // Counts that may be a second or two old (Presence.listedCounts): clients list rooms often.
            return online(page.stream().map(l -> l.room().name()).toList(), true).map(counts -> {
                List<RoomView> views = new ArrayList<>(page.size());
                for (int i = 0; i < page.size(); i++) {
                    RoomStore.Room r = page.get(i).room();
                    views.add(view(user, r, page.get(i).role(), counts.get(i), read.states().get(r.name())));
                }
                return new Page<>(views, read.more() ? page.get(page.size() - 1).room().name() : null);
            });
        });
    }

    public Future<RoomView> get(String user, String room) {
        try {
            limits.room(room);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        record Read(RoomStore.Access access, ReadState state) {}
        return blocking(() -> {
            RoomStore.Access a = readable(user, room);
            return new Read(a, messages.readStates(user, Map.of(room, a.room().lastSeq())).get(room));
        }).compose(read -> online(List.of(room), false).map(counts -> {
            RoomStore.Access a = read.access();
            return view(user, a.room(), a.member() == null ? null : a.member().role(), counts.get(0), read.state());
        }));
    }

    public Future<Page<MemberView>> members(String user, String room, String cursor, Integer limit) {
        int n;
        try {
            limits.room(room);
            n = limit(limit);
            userCursor(cursor);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            // An administrator may list a private room's members (to run it), not a direct room's:
            // who talks with whom is the two users' business.
            RoomStore.Access a = store.access(room, user);
            if (!admin(user) || a.room() == null || RoomStore.DIRECT.equals(a.room().kind())) readable(user, room);
            long now = System.currentTimeMillis();
            return page(store.members(room, cursor, n), n, RoomStore.Member::user,
                    m -> new MemberView(m.user(), m.role(), m.mutedUntil() == null || m.mutedUntil() <= now ? null : m.mutedUntil()));
        });
    }

    /** A page of the room's bans in force, by username, as members are paged: anyone with an account can be banned, so they may be many. */
    public Future<Page<BanView>> bans(String user, String room, String cursor, Integer limit) {
        int n;
        try {
            limits.room(room);
            n = limit(limit);
            userCursor(cursor);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> {
            RoomStore.Access a = admin(user) ? store.access(room, user) : readable(user, room);
            if (a.room() == null) throw notFound(room);
            if (!RoomRules.may(role(user, a.member()), Action.LIST_BANS, a.room().kind())) throw forbidden("see the bans of " + room);
            return page(store.bans(room, cursor, n), n, RoomStore.Ban::user, b -> new BanView(b.user(), b.by(), b.reason(), b.until(), b.at()));
        });
    }

    // --- changes ---

    public Future<Made<RoomView>> create(String user, String name, String visibility, String topic) {
        String t, key;
        try {
            limits.room(name);
            if (Limits.isDirectName(name)) throw ChatException.badRequest("names of the form dm-... are kept for direct rooms");
            key = limits.newRoomKey(name);
            if (!RoomStore.PUBLIC.equals(visibility) && !RoomStore.PRIVATE.equals(visibility)) throw ChatException.badRequest("visibility must be public or private");
            t = Limits.note("topic", topic, Limits.TOPIC_MAX);
            if (!mayCreate(user)) throw forbidden("make rooms: only administrators may (CHAT_ROOM_CREATION=admins)");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return change(name, user, null, s -> {
            if (s.room() != null) throw new ChatException(ErrorCode.CONFLICT, "room " + name + " exists");
            quota.accept(user); // only a room made counts: a refusal above takes nothing
            RoomChange made = new RoomChange(RoomChange.ROOM_CREATED, null, user, null, null, null, visibility, t);
            return new Plan<>(List.of(new Write.CreateRoom(visibility, t, null, key), new Write.PutMember(user, "owner", null),
                    new Write.Event(user, user + " made the " + visibility + " room " + name + (t == null ? "" : ": " + t), made)), true);
        }).compose(c -> made(user, name, new RoomView(name, visibility, t, "owner", 1, null, last(c), 0, 1, null, null, ReadState.caughtUp(name, last(c), last(c)))));
    }

    /**
     * A room just made, as it is now: a room made again under the name of a deleted one starts its
     * history at the deletion's event, which only the store knows. {@code fallback} if it is gone already.
     */
    private Future<Made<RoomView>> made(String user, String name, RoomView fallback) {
        return blocking(() -> store.access(name, user)).map(a -> new Made<>(a.room() == null ? fallback
                : view(user, a.room(), a.member() == null ? fallback.role() : a.member().role(), 0, fallback.read()), true));
    }

    /** The direct room of {@code user} and {@code other}: made the first time, found afterwards. */
    public Future<Made<RoomView>> direct(String user, String other) {
        try {
            limits.username(other);
            if (other.equalsIgnoreCase(user)) throw ChatException.badRequest("a direct room is with someone else");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return blocking(() -> account(other)).compose(peer -> {
            String name = directName(user, peer);
            String pair = user.compareToIgnoreCase(peer) < 0 ? user + " " + peer : peer + " " + user;
            return change(name, user, null, s -> {
                if (s.room() != null) {
                    // Only a room made before direct rooms existed can have such a name.
                    if (!RoomStore.DIRECT.equals(s.room().kind())) throw new ChatException(ErrorCode.CONFLICT, "room " + name + " exists and is not a direct room");
                    return new Plan<>(List.of(), false);
                }
                RoomChange made = new RoomChange(RoomChange.ROOM_CREATED, null, user, null, null, null, RoomStore.DIRECT, null);
                return new Plan<>(List.of(new Write.CreateRoom(RoomStore.DIRECT, null, pair), new Write.PutMember(user, "member", null),
                        new Write.PutMember(peer, "member", null), new Write.Event(user, user + " started a direct conversation with " + peer, made)), true);
            }).compose(c -> c.answer() ? made(user, name, new RoomView(name, RoomStore.DIRECT, null, "member", 2, peer, last(c), 0, 1, null, null, ReadState.caughtUp(name, last(c), last(c))))
                    : get(user, name).map(v -> new Made<>(v, false)));
        });
    }

    public Future<Void> delete(String user, String room) {
        try {
            limits.room(room);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return change(room, user, null, s -> {
            Role actor = actor(s, user, room);
            if (!RoomRules.may(actor, Action.DELETE_ROOM, s.room().kind())) throw forbidden("delete " + room);
            return new Plan<>(List.of(new Write.Event(user, user + " deleted the room", RoomChange.of(RoomChange.ROOM_DELETED, null, user)),
                    new Write.DeleteRoom()), null);
        }).onSuccess(x -> blocking(() -> store.purge(room))).mapEmpty();
    }

    /**
     * {@code PUT .../retention}: how long the room keeps its messages, by age and by count; a null is
     * the server's default. The owner and administrators only (it deletes history for everyone, as
     * deleting the room does); a room event says it. A room never keeps more than the server allows.
     */
    public Future<RetentionView> setRetention(String user, String room, Long days, Long messages) {
        Integer d;
        try {
            limits.room(room);
            d = retention("days", days, Limits.RETENTION_DAYS_MAX, limits.retentionDays(), "CHAT_RETENTION_DAYS") == null ? null : days.intValue();
            retention("messages", messages, Limits.RETENTION_MESSAGES_MAX, limits.retentionMessages(), "CHAT_RETENTION_MESSAGES");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return change(room, user, null, s -> {
            Role actor = actor(s, user, room);
            if (!RoomRules.may(actor, Action.SET_RETENTION, s.room().kind())) throw forbidden("set how long " + room + " keeps its messages");
            RetentionView answer = new RetentionView(room, d, messages);
            if (java.util.Objects.equals(s.room().retentionDays(), d) && java.util.Objects.equals(s.room().retentionMessages(), messages)) {
                return new Plan<>(List.of(), answer); // nothing changes: no event
            }
            String kept = d == null && messages == null ? "the server's default"
                    : (d == null ? "" : d + (d == 1 ? " day" : " days")) + (d != null && messages != null ? ", " : "")
                    + (messages == null ? "" : "the newest " + messages + (messages == 1 ? " message" : " messages"));
            return new Plan<>(List.of(new Write.SetRetention(d, messages),
                    event(user, user + " set how long the room keeps messages: " + kept, RoomChange.retention(user, d, messages))), answer);
        }).map(RoomStore.Changed::answer);
    }

    /** A retention value: null (the server's), or from 1 to the most, and no more than the server's own limit if it has one. */
    private static Long retention(String field, Long value, long most, long server, String setting) {
        if (value == null) return null;
        long max = server > 0 ? server : most;
        if (value < 1 || value > max) {
            throw ChatException.badRequest(field + " must be null (the server's default) or a whole number from 1 to " + max
                    + (server > 0 ? ": this server keeps messages no longer than that (" + setting + ")" : ""));
        }
        return value;
    }

    /**
     * {@code PUT .../members/{target}}: adds, changes the role, mutes or unmutes.
     *
     * @param setMute   whether the body had {@code mutedUntil}
     * @param mutedUntil its value: epoch millis, or null to lift the mute
     */
    public Future<Made<MemberView>> putMember(String user, String room, String target, String role, boolean setMute, Long mutedUntil) {
        try {
            limits.room(room);
            limits.username(target);
            if (role != null && !ROLES.contains(role)) throw ChatException.badRequest("role must be owner, moderator or member");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return targeted(room, user, target, (s, peer) -> {
            Role actor = actor(s, user, room);
            String kind = s.room().kind();
            RoomStore.Member tm = s.target();
            if (RoomStore.DIRECT.equals(kind)) throw forbidden("change the members of a direct room");
            List<Write> writes = new ArrayList<>();
            boolean added = tm == null;
            String now = tm == null ? null : tm.role();
            if (added) {
                if (!RoomRules.may(actor, Action.ADD, kind)) throw forbidden("add members to " + room);
                if (s.targetBan() != null) throw new ChatException(ErrorCode.CONFLICT, peer + " is banned from " + room + "; lift the ban first");
                now = "member";
                if ("moderator".equals(role)) {
                    // Added as a moderator: one event says both.
                    if (!RoomRules.may(actor, Action.SET_ROLE, kind)) throw forbidden("change roles in " + room);
                    now = role;
                }
                writes.add(new Write.PutMember(peer, now, null));
                writes.add(event(user, user + " added " + peer + ("moderator".equals(now) ? " as a moderator" : ""),
                        new RoomChange(RoomChange.MEMBER_ADDED, peer, user, now, null, null, null, null)));
            }
            if (role != null && !role.equals(now)) {
                if (peer.equalsIgnoreCase(user) && "owner".equals(now)) throw ChatException.badRequest("the owner's role changes only by handing the ownership to someone else");
                if ("owner".equals(now)) throw ChatException.badRequest("the owner's role changes only by handing the ownership to someone else");
                if ("owner".equals(role)) {
                    if (!RoomRules.may(actor, Action.TRANSFER, kind)) throw forbidden("hand over the ownership of " + room);
                    writes.add(new Write.PutMember(peer, "owner", null)); // an owner is never muted: nobody could lift it
                    writes.add(event(user, user + " made " + peer + " the owner", new RoomChange(RoomChange.ROLE_CHANGED, peer, user, "owner", null, null, null, null)));
                    RoomStore.Member owner = s.owner();
                    if (owner != null && !owner.user().equalsIgnoreCase(peer)) {
                        writes.add(new Write.PutMember(owner.user(), "moderator", owner.mutedUntil()));
                        endWebhooksUnlessAllowed(writes, kind, owner.user(), "moderator");
                        writes.add(event(user, owner.user() + " is a moderator now", new RoomChange(RoomChange.ROLE_CHANGED, owner.user(), user, "moderator", null, null, null, null)));
                    }
                } else {
                    if (!RoomRules.may(actor, Action.SET_ROLE, kind)) throw forbidden("change roles in " + room);
                    writes.add(new Write.PutMember(peer, role, tm == null ? null : tm.mutedUntil()));
                    endWebhooksUnlessAllowed(writes, kind, peer, role);
                    writes.add(event(user, user + " made " + peer + " a " + role, new RoomChange(RoomChange.ROLE_CHANGED, peer, user, role, null, null, null, null)));
                }
                now = role;
            }
            Long mute = tm == null ? null : tm.mutedUntil();
            if (mute != null && mute <= s.now()) mute = null;
            if (setMute) {
                if (!RoomRules.may(actor, Action.MODERATE, kind)) throw forbidden("mute members of " + room);
                if ("owner".equals(now)) throw ChatException.badRequest("the owner cannot be muted");
                if (!RoomRules.mayModerate(actor, Role.of(tm == null ? null : tm.role()))) throw forbidden("mute " + peer);
                if (mutedUntil != null && mutedUntil <= s.now()) throw ChatException.badRequest("mutedUntil must be in the future");
                if (mutedUntil != null) {
                    writes.add(new Write.PutMember(peer, now, mutedUntil));
                    writes.add(event(user, user + " muted " + peer + " until " + dev.parley.event.Message.formatTs(mutedUntil),
                            new RoomChange(RoomChange.MUTED, peer, user, null, null, mutedUntil, null, null)));
                    mute = mutedUntil;
                } else if (mute != null) {
                    writes.add(new Write.PutMember(peer, now, null));
                    writes.add(event(user, user + " unmuted " + peer, RoomChange.of(RoomChange.UNMUTED, peer, user)));
                    mute = null;
                }
            }
            return new Plan<>(writes, new Made<>(new MemberView(peer, now, mute), added));
        });
    }

    /** {@code DELETE .../members/{target}}: removes someone, or leaves when it is the caller. */
    public Future<Void> removeMember(String user, String room, String target) {
        try {
            limits.room(room);
            limits.username(target);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        Future<Void> done = targeted(room, user, target, true, (s, peer) -> {
            Role actor = actor(s, user, room);
            String kind = s.room().kind();
            RoomStore.Member tm = s.target();
            if (peer.equalsIgnoreCase(user)) {
                if (tm == null) throw ChatException.notFound("you are no member of " + room);
                if (RoomStore.DIRECT.equals(kind)) throw forbidden("leave a direct room");
                if ("owner".equals(tm.role())) throw ChatException.badRequest("the owner cannot leave: hand the ownership over first, or delete the room");
                List<Write> writes = new ArrayList<>();
                writes.add(new Write.DeleteMember(peer));
                endWebhooksUnlessAllowed(writes, kind, peer, null);
                writes.add(event(peer, peer + " left", RoomChange.of(RoomChange.MEMBER_LEFT, peer, null)));
                return new Plan<>(writes, null);
            }
            if (!RoomRules.may(actor, Action.MODERATE, kind)) throw forbidden("remove members of " + room);
            if (tm != null && "owner".equals(tm.role())) throw ChatException.badRequest("the owner cannot be removed");
            if (!RoomRules.mayModerate(actor, Role.of(tm == null ? null : tm.role()))) throw forbidden("remove " + peer);
            // From a public room anyone joined can be removed (they may join again: a ban keeps them out).
            if (tm == null && !RoomStore.PUBLIC.equals(kind)) throw ChatException.notFound(peer + " is no member of " + room);
            List<Write> writes = new ArrayList<>();
            if (tm != null) writes.add(new Write.DeleteMember(peer));
            endWebhooksUnlessAllowed(writes, kind, peer, null);
            writes.add(event(user, user + " removed " + peer, RoomChange.of(RoomChange.MEMBER_REMOVED, peer, user)));
            return new Plan<>(writes, null);
        });
        return done;
    }

    public Future<Void> ban(String user, String room, String target, String reason, Long until) {
        String r;
        try {
            limits.room(room);
            limits.username(target);
            r = Limits.note("reason", reason, Limits.REASON_MAX);
            if (target.equalsIgnoreCase(user)) throw ChatException.badRequest("you cannot ban yourself");
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return targeted(room, user, target, true, (s, peer) -> {
            Role actor = actor(s, user, room);
            String kind = s.room().kind();
            RoomStore.Member tm = s.target();
            if (!RoomRules.may(actor, Action.MODERATE, kind)) throw forbidden("ban from " + room);
            if (tm != null && "owner".equals(tm.role())) throw ChatException.badRequest("the owner cannot be banned");
            if (!RoomRules.mayModerate(actor, Role.of(tm == null ? null : tm.role()))) throw forbidden("ban " + peer);
            if (until != null && until <= s.now()) throw ChatException.badRequest("until must be in the future");
            List<Write> writes = new ArrayList<>();
            if (tm != null) writes.add(new Write.DeleteMember(peer));
            endWebhooksUnlessAllowed(writes, kind, peer, null);
            writes.add(new Write.PutBan(peer, user, r, until));
            String text = user + " banned " + peer + (until == null ? "" : " until " + dev.parley.event.Message.formatTs(until)) + (r == null ? "" : ": " + r);
            writes.add(event(user, text, new RoomChange(RoomChange.BANNED, peer, user, null, r, until, null, null)));
            return new Plan<>(writes, (Void) null);
        });
    }

    public Future<Void> unban(String user, String room, String target) {
        try {
            limits.room(room);
            limits.username(target);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        return targeted(room, user, target, true, (s, peer) -> {
            Role actor = actor(s, user, room);
            if (!RoomRules.may(actor, Action.MODERATE, s.room().kind())) throw forbidden("lift bans in " + room);
            if (s.targetBan() == null) throw ChatException.notFound(peer + " is not banned from " + room);
            return new Plan<>(List.of(new Write.DeleteBan(peer), event(user, user + " lifted the ban of " + peer, RoomChange.of(RoomChange.UNBANNED, peer, user))), (Void) null);
        });
    }

    // --- how a change is made ---

    /** A change about an account, named as written in its account (404 if there is none). */
    private <T> Future<T> targeted(String room, String user, String target, java.util.function.BiFunction<State, String, Plan<T>> decide) {
        return targeted(room, user, target, false, decide);
    }

    /** @param deletedToo whether a deleted account may be named: to remove it, or ban it or lift its ban */
    private <T> Future<T> targeted(String room, String user, String target, boolean deletedToo, java.util.function.BiFunction<State, String, Plan<T>> decide) {
        return blocking(() -> account(target, deletedToo)).compose(peer -> change(room, user, peer, s -> decide.apply(s, peer)).map(RoomStore.Changed::answer));
    }

    /** Decides and stores the change, then hands its events to the delivery. */
    private <T> Future<RoomStore.Changed<T>> change(String room, String user, String target, Function<State, Plan<T>> decide) {
        return blocking(() -> {
            RoomStore.Changed<T> changed = store.change(room, user, target, decide);
            if (!changed.events().isEmpty()) delivery.committed(changed.events());
            return changed;
        });
    }

    /**
     * The caller's role in the room the change is about; {@link #notFound} if there is no such room
     * or it is not one they may see (an administrator may act in any room).
     */
    private Role actor(State s, String user, String room) {
        if (s.room() == null) throw notFound(room);
        boolean admin = admin(user);
        if (!admin && !RoomStore.PUBLIC.equals(s.room().kind()) && s.actor() == null) throw notFound(room);
        return role(user, s.actor());
    }

    private Role role(String user, RoomStore.Member m) {
        return admin(user) ? Role.ADMIN : Role.of(m == null ? null : m.role());
    }

    /** The account's name as written, or 404. Blocking. */
    private String account(String name) {
        return account(name, false);
    }

    private String account(String name, boolean deletedToo) {
        return users.find(name).filter(u -> deletedToo || !u.deleted()).map(UserStore.User::username)
                .orElseThrow(() -> ChatException.notFound("no user " + name));
    }

    /**
     * Ends {@code user}'s webhooks of the room if, after this change, they may no longer manage the
     * room's webhooks (a removal, a ban, leaving, handing the ownership over). A webhook sends the room
     * to whoever registered it: it lasts no longer than their right to register it. In the change's
     * own transaction, so nothing of the room from the change on is delivered to them, and no
     * delivery has to ask who may still read.
     *
     * @param role their role after the change, null if they are no member
     */
    private void endWebhooksUnlessAllowed(List<Write> writes, String kind, String user, String role) {
        if (!RoomRules.mayManageWebhooks(admin(user), role, kind)) writes.add(new Write.DeleteWebhooksBy(user));
    }

    private static Write.Event event(String from, String text, RoomChange change) {
        return new Write.Event(from, text, change);
    }

    private static ChatException forbidden(String what) {
        return new ChatException(ErrorCode.FORBIDDEN, "you may not " + what);
    }

    private static long last(RoomStore.Changed<?> c) {
        return c.events().isEmpty() ? 0 : c.events().get(c.events().size() - 1).seq();
    }

    /** A cursor that is a username (a page of members or bans goes on after it). */
    static void userCursor(String cursor) {
        if (cursor != null && (cursor.isEmpty() || cursor.length() > 64)) throw ChatException.badRequest("cursor must be a username");
    }

    /**
     * The page of {@code found}, read as {@code n + 1} rows by username: the one past {@code n} says
     * there is a next page, which goes on after this page's last name.
     */
    private static <S, V> Page<V> page(List<S> found, int n, Function<S, String> name, Function<S, V> view) {
        boolean more = found.size() > n;
        List<S> page = more ? found.subList(0, n) : found;
        return new Page<>(page.stream().map(view).toList(), more ? name.apply(page.get(page.size() - 1)) : null);
    }

    private static int limit(Integer limit) {
        if (limit == null) return LIST_DEFAULT;
        if (limit < 1 || limit > LIST_MAX) throw ChatException.badRequest("limit must be between 1 and " + LIST_MAX);
        return limit;
    }

    private Future<List<Integer>> online(List<String> names, boolean listed) {
        if (names.isEmpty()) return Future.succeededFuture(List.of());
        return (listed ? presence.listedCounts(names) : presence.counts(names)).map(counts -> names.stream().map(n -> counts.getOrDefault(n, 0)).toList());
    }

    private static RoomView view(String user, RoomStore.Room r, String role, int online, ReadState read) {
        String with = null;
        if (r.directUsers() != null) {
            String[] two = r.directUsers().split(" ", 2);
            with = two[0].equalsIgnoreCase(user) ? two[1] : two[0];
        }
        return new RoomView(r.name(), r.kind(), r.topic(), role, r.members(), with, r.lastSeq(), online,
                r.historyStart(), r.retentionDays(), r.retentionMessages(), read);
    }

    /**
     * The direct room's name of two users: {@code dm-} and 26 base-32 letters and digits of a SHA-256
     * of their names in lower case, in order. The same for the pair whoever asks, fits the default
     * room pattern, and says nothing of who is in it to whoever sees the name.
     */
    static String directName(String a, String b) {
        String x = a.toLowerCase(Locale.ROOT), y = b.toLowerCase(Locale.ROOT);
        String pair = x.compareTo(y) < 0 ? x + "\n" + y : y + "\n" + x;
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(pair.getBytes(StandardCharsets.UTF_8));
            StringBuilder out = new StringBuilder("dm-");
            String alphabet = "abcdefghijklmnopqrstuvwxyz234567";
            long bits = 0;
            int n = 0;
            for (int i = 0; out.length() < 29; ) {
                if (n < 5) {
                    bits = bits << 8 | (h[i++] & 0xff);
                    n += 8;
                }
                out.append(alphabet.charAt((int) (bits >>> (n - 5)) & 31));
                n -= 5;
            }
            return out.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A timestamp of a request body: ISO-8601 with a zone, as {@code ts}. @return epoch millis */
    public static Long timestamp(String field, String value) {
        if (value == null) return null;
        try {
            return Instant.parse(value).toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            // ArithmeticException: Instant takes years up to 1,000,000,000, milliseconds since 1970 in a
            // long only about 292 million; such a timestamp was an unexpected failure (500, found by BodyFuzzTest).
            throw ChatException.badRequest(field + " must be a timestamp like 2026-12-06T12:00:00Z");
        }
    }
}
