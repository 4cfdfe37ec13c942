package dev.parley.chat;

import dev.parley.config.ChatConfig;

import java.util.regex.Pattern;

/** The validation rules of PROTOCOL.md, with their configured values. Each check throws a ChatException naming the field. */
public final class Limits {
    public static final int HISTORY_DEFAULT = 50;
    public static final int HISTORY_MAX = 100;
    public static final int CLIENT_ID_MAX = 64;

    private final Pattern username;
    private final Pattern room;
    private final int passwordMin;
    private final int passwordMax;
    private final int textMax;

    public Limits(ChatConfig c) {
        this.username = c.usernamePattern();
        this.room = c.roomPattern();
        this.passwordMin = c.passwordMin();
        this.passwordMax = c.passwordMax();
        this.textMax = c.maxTextLength();
    }

    public String username(String name) {
        if (name == null || !username.matcher(name).matches()) {
            throw ChatException.badRequest("username must match " + username.pattern());
        }
        return name;
    }

    public String password(String password) {
        if (password == null || password.length() < passwordMin || password.length() > passwordMax) {
            throw ChatException.badRequest("password must be " + passwordMin + " to " + passwordMax + " characters");
        }
        return password;
    }

    public String room(String name) {
        if (name == null || !room.matcher(name).matches()) {
            throw ChatException.badRequest("room must match " + room.pattern());
        }
        return name;
    }

    /** @return the text trimmed, as it is stored */
    public String text(String text) {
        if (text == null) throw ChatException.badRequest("text is required");
        String t = text.strip();
        if (t.isEmpty()) throw ChatException.badRequest("text must not be empty");
        if (t.length() > textMax) throw new ChatException(ErrorCode.TOO_LARGE, "text is longer than " + textMax + " characters");
        // The whole text, not the trimmed one: strip() would hide a \r or a U+001F at either end.
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
                throw ChatException.badRequest("text must not contain control characters (found U+" + String.format("%04X", (int) c) + ")");
            }
        }
        return t;
    }

    public String clientId(String clientId) {
        if (clientId == null || clientId.isEmpty() || clientId.length() > CLIENT_ID_MAX) {
            throw ChatException.badRequest("clientId must be 1 to " + CLIENT_ID_MAX + " characters");
        }
        return clientId;
    }

    public int historyLimit(Integer limit) {
        if (limit == null) return HISTORY_DEFAULT;
        if (limit < 1 || limit > HISTORY_MAX) throw ChatException.badRequest("limit must be 1 to " + HISTORY_MAX);
        return limit;
    }

    public static Long cursor(String name, Long value) {
        if (value != null && value < 1) throw ChatException.badRequest(name + " must be a positive integer");
        return value;
    }
}
