package dev.parley.chat;

import static java.util.Objects.requireNonNull;

/** A request that failed for a reason the client is told about. Carries no stack trace: it is not a bug. */
public class ChatException extends RuntimeException {
    private final ErrorCode code;

    public ChatException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }

    public static ChatException badRequest(String message) {
        return new ChatException(ErrorCode.BAD_REQUEST, message);
    }

    public static ChatException notFound(String message) {
        return new ChatException(ErrorCode.NOT_FOUND, message);
    }

    public static ChatException unavailable(String message) {
        return new ChatException(ErrorCode.UNAVAILABLE, message);
    }
}
