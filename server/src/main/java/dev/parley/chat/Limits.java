package dev.parley.chat;

import dev.parley.config.ChatConfig;

import java.util.regex.Pattern;

/**
 * The validation rules of PROTOCOL.md, with their configured values, and the other limits a client
 * keeps to, which {@code GET /api/limits} advertises. Each check throws a ChatException naming the field.
 *
 * <p>Over 400 lines: one short check per field of the protocol, kept in one place so that the rules a
 * client reads in {@code GET /api/limits} and the ones enforced cannot drift apart.
 */
public final class Limits {
    public static final int HISTORY_DEFAULT = 50;
    public static final int HISTORY_MAX = 100;
    public static final int CLIENT_ID_MAX = 64;
    /** The most a room's retention may say, when the server sets no limit of its own (PROTOCOL.md 3.3, retention). */
    public static final long RETENTION_DAYS_MAX = dev.parley.config.ChatConfig.MAX_RETENTION_DAYS,
            RETENTION_MESSAGES_MAX = dev.parley.config.ChatConfig.MAX_RETENTION_MESSAGES;
    /** The rooms.name and messages.room columns are VARCHAR(128): a longer name could never be stored. */
    public static final int ROOM_NAME_MAX = 128;
    /** The users.username column is VARCHAR(64) (so is a token's sub): no longer name is looked at. */
    public static final int USERNAME_MAX = 64;
    /** {@code typing} frames a connection may send a second; more are dropped without a word. */
    public static final int TYPING_PER_SECOND = 5;

    /** A token bucket of one kind of frame, per connection: {@code rate} frames a second, {@code burst} at once. */
    public record Bucket(double rate, int burst) {}

    /**
     * {@code join} and {@code leave} (one bucket), and {@code history}, a second each. Their burst is
     * the rooms a connection may be in, and at least {@value #BURST_MIN}: a client that reconnects
     * joins all its rooms again at once, and the web client then reads a page of each.
     */
    public static final double JOIN_PER_SECOND = 5, HISTORY_PER_SECOND = 5;
    public static final int BURST_MIN = 20;
    /** {@code ping}: a keepalive needs one every few seconds (a client that checks its link closely, a few a second). */
    public static final Bucket PING = new Bucket(5, 10);
    /** {@code refresh}: once a token's lifetime is enough; a few to recover from a bad token. */
    public static final Bucket REFRESH = new Bucket(0.1, 3);
    public static final Bucket TYPING = new Bucket(TYPING_PER_SECOND, TYPING_PER_SECOND);
    /**
     * {@code edit}, {@code delete} and {@code react} together: each is a room event, fanned out like a
     * message, but people make them far less often than they send; the burst lets someone click a few
     * reactions in a row.
     */
    public static final Bucket CHANGE = new Bucket(5, 20);
    /** Different emoji one message may have reactions with. */
    public static final int MAX_EMOJI_PER_MESSAGE = 20;
    /** The longest reaction, in UTF-16 code units: the longest emoji sequences (families, flags of regions) take 15 or so. */
    public static final int EMOJI_MAX = 32;
    /**
     * {@code read}: each one is a write to the database, so a client marks a room read when its user
     * has seen the newest message, not per message (the web client at most once a second a room); the
     * burst lets a client that reconnects mark the rooms it shows.
     */
    public static final Bucket READ = new Bucket(2, 20);
    /**
     * Frames other than {@code send} refused or dropped by their limits (in-flight refusals included)
     * that a connection may run into within 10 s; one more closes it with 4029. ({@code send} keeps
     * its own count: twice its burst.)
     */
    public static final int REFUSALS_BEFORE_CLOSE = 100;

    private final Pattern username;
    private final Pattern room;
    private final int passwordMin;
    private final int passwordMax;
    private final int textMax;
    private final double sendRate;
    private final int sendBurst;
    private final int maxFrameBytes;
    private final int replayLimit;
    private final int maxRoomsPerConnection;
    private final int maxRoomsPerUser;
    private final int roomsPerHour;
    private final int apiRate;
    private final int maxInFlight;
    private final int retentionDays;
    private final long retentionMessages;

    public Limits(ChatConfig c) {
        this.username = c.usernamePattern();
        this.room = c.roomPattern();
        this.passwordMin = c.passwordMin();
        this.passwordMax = c.passwordMax();
        this.textMax = c.maxTextLength();
        this.sendRate = c.rateLimit();
        this.sendBurst = c.rateBurst();
        this.maxFrameBytes = c.maxFrameBytes();
        this.replayLimit = c.effectiveReplayLimit();
        this.maxRoomsPerConnection = c.maxRoomsPerConnection();
        this.maxRoomsPerUser = c.maxRoomsPerUser();
        this.roomsPerHour = c.roomsPerHour();
        this.apiRate = c.apiRate();
        this.maxInFlight = c.maxInFlight();
        this.retentionDays = c.retentionDays();
        this.retentionMessages = c.retentionMessages();
    }

    /** The server's retention by age (CHAT_RETENTION_DAYS): every room's default and most; 0 keeps messages for ever. */
    public int retentionDays() {
        return retentionDays;
    }

    /** The server's retention by count (CHAT_RETENTION_MESSAGES): every room's default and most; 0 is no limit. */
    public long retentionMessages() {
        return retentionMessages;
    }

    public Bucket send() {
        return new Bucket(sendRate, sendBurst);
    }

    public Bucket join() {
        return new Bucket(JOIN_PER_SECOND, Math.max(BURST_MIN, maxRoomsPerConnection));
    }

    public Bucket history() {
        return new Bucket(HISTORY_PER_SECOND, Math.max(BURST_MIN, maxRoomsPerConnection));
    }

    public int maxRoomsPerConnection() {
        return maxRoomsPerConnection;
    }

    /** Different rooms one user's connections on this node may be in at once. */
    public int maxRoomsPerUser() {
        return maxRoomsPerUser;
    }

    /** Rooms one user may make an hour on this node; 0: no limit. */
    public int roomsPerHour() {
        return roomsPerHour;
    }

    /** HTTP API requests a second one signed-in user may make on this node (0: no limit); the burst is five seconds' worth. */
    public int apiRate() {
        return apiRate;
    }

    /** Frames of one connection that may wait for their answer at once. */
    public int maxInFlight() {
        return maxInFlight;
    }

    public double sendRate() {
        return sendRate;
    }

    public int sendBurst() {
        return sendBurst;
    }

    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    public int maxTextLength() {
        return textMax;
    }

    public int passwordMin() {
        return passwordMin;
    }

    public int passwordMax() {
        return passwordMax;
    }

    public int replayLimit() {
        return replayLimit;
    }

    /** The room-name rule as a client can use it: see {@link #fullMatch}. */
    public String roomPattern() {
        return fullMatch(room.pattern());
    }

    public String usernamePattern() {
        return fullMatch(username.pattern());
    }

    /** The longest room name the rule admits (never more than can be stored), in characters. */
    public int roomNameMaxLength() {
        return Math.min(ROOM_NAME_MAX, PatternLength.max(room.pattern()));
    }

    /**
     * A configured pattern as a regular expression that must match the whole name, as the server
     * applies it ({@code Matcher.matches}), for a client whose regex searches (JavaScript's
     * {@code test}): anchored once, around a group. Written in Java's syntax, which for classes,
     * quantifiers, groups and alternatives is JavaScript's too.
     */
    static String fullMatch(String pattern) {
        String p = pattern;
        if (p.startsWith("^")) p = p.substring(1);
        if (p.endsWith("$") && !p.endsWith("\\$")) p = p.substring(0, p.length() - 1);
        return "^(?:" + p + ")$";
    }

    public String username(String name) {
        // Before the pattern, whatever it says: the column holds 64, and a name a request body could
        // make 16 KiB long must not reach the pattern, the login throttle's keys or the database.
        if (name != null && name.length() > USERNAME_MAX) throw ChatException.badRequest("username must be at most " + USERNAME_MAX + " characters");
        if (name == null || !username.matcher(name).matches()) {
            throw ChatException.badRequest("username must match " + username.pattern());
        }
        return name;
    }

    /**
     * A username someone is about to register: the pattern, and the rules of {@link Names#check}
     * (no invisible or bidi characters, one script). A name already taken is only held to the
     * pattern ({@link #username}): it may have been registered before these rules.
     */
    public String newUsername(String name) {
        username(name);
        Names.check("username", name);
        return name;
    }

    /** The look-alike key of a username (see {@link Names#key}), which no two accounts share. */
    public String usernameKey(String name) {
        return Names.newKey("username", name);
    }

    public String password(String password) {
        if (password == null) throw ChatException.badRequest("password is required");
        wellFormed("password", password);
        int n = length(password);
        if (n < passwordMin || n > passwordMax) {
            throw ChatException.badRequest("password must be " + passwordMin + " to " + passwordMax + " characters");
        }
        return password;
    }

    /**
     * A password given to be checked (a login, the current password of a change, an account
     * deletion), before it is counted or hashed: present, valid Unicode and at most the longest
     * password. Not held to the shortest: an account's password may be older than that rule.
     */
    public String loginPassword(String password) {
        if (password == null) throw ChatException.badRequest("password is required");
        wellFormed("password", password);
        int n = length(password);
        if (n < 1 || n > passwordMax) throw ChatException.badRequest("password must be 1 to " + passwordMax + " characters");
        return password;
    }

    /** The longest room topic, and ban reason, in characters. */
    public static final int TOPIC_MAX = 250, REASON_MAX = 250;
    /** A direct room's name (see {@code Rooms.directName}): taken by no other room, whatever the room pattern says. */
    private static final Pattern DIRECT_NAME = Pattern.compile("dm-[a-z2-7]{26}");

    /** Whether the name has the form of a direct room's, which only {@code POST /api/dms} makes. */
    public static boolean isDirectName(String name) {
        return name != null && DIRECT_NAME.matcher(name).matches();
    }

    /** A topic or a ban reason: optional; trimmed; at most {@code max} characters; no control characters. @return it trimmed, or null */
    public static String note(String field, String value, int max) {
        if (value == null) return null;
        // As for a text: half a surrogate pair has no UTF-8 form, so such a topic or reason could not be
        // stored (on PostgreSQL) or sent back as it came; it was accepted until BodyFuzzTest's example.
        wellFormed(field, value);
        String v = value.strip();
        if (v.isEmpty()) return null;
        if (v.codePointCount(0, v.length()) > max) throw ChatException.badRequest(field + " must be at most " + max + " characters");
        for (int i = 0; i < v.length(); i++) {
            if (Character.getType(v.charAt(i)) == Character.CONTROL) throw ChatException.badRequest(field + " must not contain control characters");
        }
        return v;
    }

    public String room(String name) {
        if (isDirectName(name)) return name;
        if (name == null || !room.matcher(name).matches()) {
            throw ChatException.badRequest("room must match " + room.pattern());
        }
        // Whatever the configured pattern lets through: a room's presence keys in Redis share one
        // Cluster slot by the hash tag {room}, which a brace or an empty name would break.
        if (name.isEmpty() || name.indexOf('{') >= 0 || name.indexOf('}') >= 0) {
            throw ChatException.badRequest("room must not be empty or contain { or }");
        }
        // Only a pattern the operator loosened gets here with more: better refused than failed in storage.
        if (name.length() > ROOM_NAME_MAX) throw ChatException.badRequest("room must be at most " + ROOM_NAME_MAX + " characters");
        return name;
    }

    /**
     * A room name a room is about to be made under: the pattern, and the rules of {@link Names#check}.
     * A room that exists is only held to the pattern ({@link #room}).
     */
    public String newRoom(String name) {
        room(name);
        if (!isDirectName(name)) Names.check("room", name);
        return name;
    }

    /**
     * Checks a name a room is about to be made under ({@link #newRoom}) and returns its look-alike
     * key (see {@link Names#key}), which no two rooms share; {@code RoomStore} calls it only when it
     * makes the room.
     */
    public String newRoomKey(String name) {
        newRoom(name);
        return Names.newKey("room", name);
    }

    /** @return the text without the white space at either end, as it is stored */
    public String text(String text) {
        if (text == null) throw ChatException.badRequest("text is required");
        wellFormed("text", text);
        // The whole text, not the trimmed one: trimming would hide a \r or a U+001F at either end.
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.getType(c) == Character.CONTROL && c != '\n' && c != '\t') {
                throw ChatException.badRequest("text must not contain control characters (found U+" + String.format("%04X", (int) c) + ")");
            }
        }
        String t = strip(text);
        if (t.isEmpty()) throw ChatException.badRequest("text must not be empty");
        if (length(t) > textMax) throw new ChatException(ErrorCode.TOO_LARGE, "text is longer than " + textMax + " characters");
        return t;
    }

    /**
     * A reaction is one emoji, as Unicode recommends them for interchange: a string of the RGI_Emoji
     * set (UTS #51, emoji-test.txt's fully-qualified emoji, skin tones, flags and keycaps included),
     * as this server's ICU knows it. Not a shortcode, not text, not two emoji.
     */
    public static String emoji(String emoji) {
        if (emoji == null || emoji.isEmpty() || emoji.length() > EMOJI_MAX
                || !com.ibm.icu.lang.UCharacter.hasBinaryProperty(emoji, com.ibm.icu.lang.UProperty.RGI_EMOJI)) {
            throw ChatException.badRequest("emoji must be one emoji (Unicode's RGI_Emoji set, fully qualified)");
        }
        return emoji;
    }

    /** The seq of a message named by a frame: a positive integer. */
    public static long messageSeq(Long seq, String field) {
        if (seq == null || seq < 1) throw ChatException.badRequest(field + " must be a positive integer");
        return seq;
    }

    /** Counted in UTF-16 code units, not characters: the column holds 64 of those on every database. */
    public String clientId(String clientId) {
        if (clientId == null || clientId.isEmpty() || clientId.length() > CLIENT_ID_MAX) {
            throw ChatException.badRequest("clientId must be 1 to " + CLIENT_ID_MAX + " characters");
        }
        wellFormed("clientId", clientId);
        return clientId;
    }

    public int historyLimit(Integer limit) {
        if (limit == null) return HISTORY_DEFAULT;
        if (limit < 1 || limit > HISTORY_MAX) throw ChatException.badRequest("limit must be 1 to " + HISTORY_MAX);
        return limit;
    }

    /** Characters as PROTOCOL.md counts them: Unicode code points, so an emoji is one, not two. */
    static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    /**
     * Refuses a string with half a surrogate pair, which JSON's escapes can spell ("\\ud800") but no
     * encoding can store: it would have been written as "?", so what was acknowledged (or the password
     * that was set) would not be what came back.
     */
    static void wellFormed(String field, String s) {
        if (!wellFormed(s)) throw ChatException.badRequest(field + " must be valid Unicode (it has half a surrogate pair on its own)");
    }

    /** Whether {@code s} has no half of a surrogate pair on its own. */
    public static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** Without the white space at either end: Unicode's White_Space, the no-break spaces included. */
    static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && whiteSpace(s.charAt(start))) start++;
        while (end > start && whiteSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    private static boolean whiteSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    /** A page before {@code before}: 0 or less would be empty by definition, so it is a mistake. */
    public static Long before(Long before) {
        if (before != null && before < 1) throw ChatException.badRequest("before must be a positive integer");
        return before;
    }

    /** A page after {@code after}; 0 is the start of the room, so that a client can page forwards from it. */
    public static Long after(Long after) {
        if (after != null && after < 0) throw ChatException.badRequest("after must be a non-negative integer");
        return after;
    }
}
