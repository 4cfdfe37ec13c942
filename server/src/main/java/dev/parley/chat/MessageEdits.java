package dev.parley.chat;

import dev.parley.chat.RoomRules.Action;
import dev.parley.chat.RoomRules.Role;
import dev.parley.delivery.Delivery;
import dev.parley.delivery.Seat;
import dev.parley.delivery.Subscriber;
import dev.parley.event.Message;
import dev.parley.store.MessageChanges;
import io.vertx.core.Future;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * The changes of a message (PROTOCOL.md, {@code edit}, {@code delete}, {@code react}): who may make
 * them, decided under the room's lock ({@link MessageChanges}), then the change's event handed to
 * the delivery, as a room change's are. Each answers once its event is durable, with the event, or
 * with none when it changed nothing.
 *
 * <p>Like a send, a change is made on a connection that has joined the room ({@code not_joined}
 * otherwise: so a room the user may not read answers as any room not joined, and says nothing of
 * it), and a muted user may not edit or react; they may delete their own messages.
 *
 * <p>{@link #edit} is the one path an edit takes: what must follow a new text (the mentions it
 * makes) belongs there.
 */
public final class MessageEdits {
    private final Limits limits;
    private final MessageChanges store;
    private final Delivery delivery;
    private final Predicate<String> isAdmin;
    private final Function<Callable<?>, Future<?>> blocking;

    /**
     * A change made: the message's seq, and its event (null: the message was so already, and
     * nothing was written or delivered).
     */
    public record Change(String room, long target, Message event) {}

    MessageEdits(Limits limits, MessageChanges store, Delivery delivery, Predicate<String> isAdmin, Function<Callable<?>, Future<?>> blocking) {
        this.limits = requireNonNull(limits, "limits");
        this.store = requireNonNull(store, "store");
        this.delivery = requireNonNull(delivery, "delivery");
        this.isAdmin = requireNonNull(isAdmin, "isAdmin");
        this.blocking = requireNonNull(blocking, "blocking");
    }

    /** The sender changes the text of their own message. */
    public Future<Change> edit(Subscriber sub, String room, Long seq, String text) {
        long target;
        String t;
        try {
            target = joined(sub, room, seq);
            notMuted(sub, room, "edit");
            t = limits.text(text);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        String user = sub.user();
        return made(room, target, () -> store.edit(room, target, user, t, m -> {
            if (!m.sender().equalsIgnoreCase(user)) throw forbidden("edit someone else's message");
            if (m.deleted()) throw deleted(target);
        }));
    }

    /** The sender deletes their message, or a moderator, the owner or an administrator anyone's. */
    public Future<Change> delete(Subscriber sub, String room, Long seq) {
        long target;
        try {
            target = joined(sub, room, seq);
        } catch (ChatException e) {
            return Future.failedFuture(e);
        }
        String user = sub.user();
        return made(room, target, () -> store.delete(room, target, user, m -> {
            if (m.sender().equalsIgnoreCase(user)) return;
            Role role = isAdmin.test(user) ? Role.ADMIN : Role.of(m.actorRole());
            if (!RoomRules.may(role, Action.DELETE_MESSAGE, m.roomKind())) throw forbidden("delete someone else's message");
        }));
    }

    /** Gives ({@code on}) or takes back a reaction with one emoji. */
    public Future<Change> react(Subscriber sub, String room, Long seq, String emoji, boolean on) {
        long target;
        String e;
        try {
            target = joined(sub, room, seq);
            e = Limits.emoji(emoji);
            notMuted(sub, room, "react");
        } catch (ChatException ex) {
            return Future.failedFuture(ex);
        }
        String user = sub.user();
        return made(room, target, () -> store.react(room, target, user, e, on, m -> {
            if (m.deleted()) throw deleted(target);
            if (m.emojis() > Limits.MAX_EMOJI_PER_MESSAGE) {
                throw new ChatException(ErrorCode.TOO_LARGE, "a message has reactions with at most " + Limits.MAX_EMOJI_PER_MESSAGE + " different emoji");
            }
        }));
    }

    /** Stores the change off the event loop and hands its event to the delivery: to this node's members, and published. */
    @SuppressWarnings("unchecked")
    private Future<Change> made(String room, long target, Callable<Message> change) {
        return (Future<Change>) blocking.apply(() -> {
            Message event = change.call();
            if (event != null) delivery.committed(List.of(event));
            return new Change(room, target, event);
        });
    }

    /** The message's seq, for a room this connection is in. */
    private long joined(Subscriber sub, String room, Long seq) {
        limits.room(room);
        if (!sub.inRoom(room)) throw new ChatException(ErrorCode.NOT_JOINED, "join " + room + " first");
        return Limits.messageSeq(seq, "seq");
    }

    private static void notMuted(Subscriber sub, String room, String what) {
        Seat seat = sub.seat(room);
        if (seat != null && seat.mutedUntil() > System.currentTimeMillis()) {
            throw new ChatException(ErrorCode.FORBIDDEN, "you are muted in " + room + " until " + Message.formatTs(seat.mutedUntil()) + ": you may not " + what);
        }
    }

    private static ChatException forbidden(String what) {
        return new ChatException(ErrorCode.FORBIDDEN, "you may not " + what);
    }

    private static ChatException deleted(long seq) {
        return new ChatException(ErrorCode.CONFLICT, "message " + seq + " was deleted");
    }
}
