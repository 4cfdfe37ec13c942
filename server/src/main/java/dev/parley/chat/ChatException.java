package dev.parley.chat;

import static java.util.Objects.requireNonNull;

/** A request that failed for a reason the client is told about. Carries no stack trace: it is not a bug. */
public class ChatException extends RuntimeException {
    private final ErrorCode code;
    private final long retryAfterSeconds;

    public ChatException(ErrorCode code, String message) {
        this(code, message, 0);
    }

    /** @param retryAfterSeconds how long the client should wait before it tries again (HTTP's Retry-After); 0 for no advice */
    public ChatException(ErrorCode code, String message, long retryAfterSeconds) {
        super(message, null, false, false);
        this.code = requireNonNull(code, "code");
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public ErrorCode code() {
        return code;
    }

    /** Seconds to wait before trying again, or 0 when the refusal gives no such advice. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
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
