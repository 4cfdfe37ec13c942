package dev.parley.client;

/**
 * The server refused a request (an HTTP error answer, or an {@code error} frame for a WebSocket
 * request), or a connection ended before the answer came. Program against {@link #code()}, one of
 * PROTOCOL.md section 8 ({@code unauthorized}, {@code forbidden}, {@code rate_limited}...), never
 * against the message. This library adds two of its own: {@code closed} (the connection ended for
 * good) and {@code not_connected} (asked while the connection was down).
 */
public final class ParleyException extends RuntimeException {
    private final int status;
    private final String code;
    private final long retryAfterSeconds;

    public ParleyException(int status, String code, String message, long retryAfterSeconds) {
        super(message == null || message.isEmpty() ? code : message);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    ParleyException(String code, String message) {
        this(0, code, message, 0);
    }

    /** The HTTP status; 0 for a WebSocket request. */
    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** An HTTP answer's {@code Retry-After} in seconds; 0 without one. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
