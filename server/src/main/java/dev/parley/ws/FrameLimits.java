package dev.parley.ws;

import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;
import dev.parley.chat.Limits;
import dev.parley.chat.RateLimiter;

/**
 * The rate limits of one connection's frames (PROTOCOL.md section 12): a token bucket per kind of
 * frame ({@code send}; {@code join} and {@code leave} together; {@code history}; {@code typing};
 * {@code refresh}; {@code ping}; {@code edit}, {@code delete} and {@code react} together; {@code read}), each made when its kind is first used, so that an idle connection
 * holds few; and the counts of refusals that end a connection with 4029. Event loop only.
 *
 * <p>{@code send} keeps the rule it always had: more than twice its burst refused within 10 s
 * closes. The other kinds share one count ({@link Limits#REFUSALS_BEFORE_CLOSE}), which refusals
 * for too many frames in flight, or waiting for one join ({@link JoinWaits#MAX_WAITING}), join: a
 * client that keeps running into any of them is flooding.
 */
final class FrameLimits {
    private static final long WINDOW_NANOS = 10_000_000_000L;

    /** What becomes of a frame: taken, refused with {@code rate_limited}, dropped without a word (typing), or the connection is closed with 4029. */
    enum Verdict { TAKE, REFUSE, DROP, CLOSE }

    private final Limits limits;
    private RateLimiter send, join, history, typing, refresh, ping, change, read;
    private long windowStart = System.nanoTime();
    private int sendsRefused;
    private int othersRefused;

    FrameLimits(Limits limits) {
        this.limits = limits;
    }

    /**
     * Whether a frame may go on (PROTOCOL.md section 12): {@code TAKE}; {@code DROP} for a
     * {@code typing} past its rate; {@code CLOSE} (4029) for a connection that keeps running into
     * the limits. Else it throws {@code rate_limited}, saying which limit.
     *
     * @param sendHere whether it is a {@code send} to a room the connection is in: one elsewhere
     *                 costs nothing, as ChatService refuses it ({@code bad_request} for a name that
     *                 is not one, else {@code not_joined})
     * @param inFlight the connection's frames waiting for their answers
     */
    Verdict admit(ClientFrame frame, boolean sendHere, int inFlight) {
        boolean answeredLater = sendHere || frame instanceof ClientFrame.Join || frame instanceof ClientFrame.History
                || frame instanceof ClientFrame.Refresh || isChange(frame) || frame instanceof ClientFrame.Read;
        // The messages are made only for a refusal: this runs for every frame.
        if (answeredLater && inFlight >= limits.maxInFlight()) {
            return refuseOr(refused(), "more than " + limits.maxInFlight() + " frames of this connection wait for their answers; wait for some first");
        }
        if (frame instanceof ClientFrame.Send) {
            Verdict v = sendHere ? send() : Verdict.TAKE;
            return v == Verdict.REFUSE ? refuseOr(v, "more than " + number(limits.sendRate()) + " sends per second; slow down") : v;
        }
        Verdict v = take(frame);
        return v == Verdict.REFUSE ? refuseOr(v, "too many " + ClientFrame.typeOf(frame) + " frames (" + rule(frame) + "); slow down") : v;
    }

    /** Throws {@code rate_limited} with {@code why} for a refusal; any other verdict is returned. */
    private static Verdict refuseOr(Verdict v, String why) {
        if (v == Verdict.REFUSE) throw new ChatException(ErrorCode.RATE_LIMITED, why);
        return v;
    }

    /** A {@code send} to a room the connection is in. */
    Verdict send() {
        if (send == null) send = bucket(limits.send());
        if (send.tryAcquire()) return Verdict.TAKE;
        window();
        return ++sendsRefused > 2 * limits.sendBurst() ? Verdict.CLOSE : Verdict.REFUSE;
    }

    /** Any other frame; {@code ping}, {@code refresh}, {@code history}, {@code join}, {@code leave}, {@code typing} and {@code read} have a limit. */
    Verdict take(ClientFrame frame) {
        RateLimiter bucket = switch (frame) {
            case ClientFrame.Join j -> join = join != null ? join : bucket(limits.join());
            case ClientFrame.Leave l -> join = join != null ? join : bucket(limits.join());
            case ClientFrame.History h -> history = history != null ? history : bucket(limits.history());
            case ClientFrame.Typing t -> typing = typing != null ? typing : bucket(Limits.TYPING);
            case ClientFrame.Refresh r -> refresh = refresh != null ? refresh : bucket(Limits.REFRESH);
            case ClientFrame.Ping p -> ping = ping != null ? ping : bucket(Limits.PING);
            case ClientFrame.Edit e -> change = change != null ? change : bucket(Limits.CHANGE);
            case ClientFrame.Delete d -> change = change != null ? change : bucket(Limits.CHANGE);
            case ClientFrame.React r -> change = change != null ? change : bucket(Limits.CHANGE);
            case ClientFrame.Read r -> read = read != null ? read : bucket(Limits.READ);
            case ClientFrame.Send s -> throw new IllegalArgumentException("a send goes through send()");
        };
        if (bucket.tryAcquire()) return Verdict.TAKE;
        Verdict v = refused();
        return v == Verdict.REFUSE && frame instanceof ClientFrame.Typing ? Verdict.DROP : v;
    }

    /** The limit of the frame's kind, in words, for the refusal's message. */
    String rule(ClientFrame frame) {
        Limits.Bucket b = switch (frame) {
            case ClientFrame.Join j -> limits.join();
            case ClientFrame.Leave l -> limits.join();
            case ClientFrame.History h -> limits.history();
            case ClientFrame.Typing t -> Limits.TYPING;
            case ClientFrame.Refresh r -> Limits.REFRESH;
            case ClientFrame.Ping p -> Limits.PING;
            case ClientFrame.Edit e -> Limits.CHANGE;
            case ClientFrame.Delete d -> Limits.CHANGE;
            case ClientFrame.React r -> Limits.CHANGE;
            case ClientFrame.Read r -> Limits.READ;
            case ClientFrame.Send s -> limits.send();
        };
        String kind = frame instanceof ClientFrame.Join || frame instanceof ClientFrame.Leave ? "join and leave"
                : isChange(frame) ? "edit, delete and react" : ClientFrame.typeOf(frame);
        return "at most " + b.burst() + " " + kind + " frames at once, then " + number(b.rate()) + " a second";
    }

    /** {@code edit}, {@code delete} and {@code react}: one bucket, answered once stored. */
    private static boolean isChange(ClientFrame frame) {
        return frame instanceof ClientFrame.Edit || frame instanceof ClientFrame.Delete || frame instanceof ClientFrame.React;
    }

    private static String number(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    /** A frame refused for another reason that counts as flooding: too many in flight, or waiting for one join. */
    Verdict refused() {
        window();
        return ++othersRefused > Limits.REFUSALS_BEFORE_CLOSE ? Verdict.CLOSE : Verdict.REFUSE;
    }

    /** The counts are per 10 s, from the first refusal after the last window ended. */
    private void window() {
        long now = System.nanoTime();
        if (now - windowStart > WINDOW_NANOS) {
            windowStart = now;
            sendsRefused = 0;
            othersRefused = 0;
        }
    }

    private static RateLimiter bucket(Limits.Bucket b) {
        return new RateLimiter(b.rate(), b.burst());
    }
}
