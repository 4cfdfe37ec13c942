package dev.parley.chat;

import java.util.Locale;

/**
 * The error codes of PROTOCOL.md, each with its HTTP status and what a client should do about it.
 * The WebSocket layer sends them as {@code error} frames; the HTTP layer as a status and a JSON body.
 * Every refusal goes through here, so that an answer's status and its code always agree.
 */
public enum ErrorCode {
    BAD_REQUEST(400, "fix the request; retrying it unchanged fails again"),
    NOT_JOINED(409, "join the room first"),
    FORBIDDEN(403, "do not retry"),
    NOT_FOUND(404, "check the name"),
    TOO_LARGE(413, "shorten the text"),
    RATE_LIMITED(429, "slow down; sustained abuse closes the connection with 4029"),
    TOO_MANY_ROOMS(429, "leave a room before joining another"),
    QUOTA_EXCEEDED(429, "wait as long as the message says before making another room"),
    UNAUTHORIZED(401, "log in again for a new token"),
    ACCOUNT_DISABLED(403, "do not retry: an administrator has disabled the account"),
    CONFLICT(409, "choose another value"),
    UNAVAILABLE(503, "a backend is down; retry later with the same clientId"),
    INTERNAL(500, "retry later; report it if it persists"),
    // HTTP only: refusals of the request itself, whatever it asks for.
    METHOD_NOT_ALLOWED(405, "use a method the path takes"),
    URI_TOO_LONG(414, "shorten the request line (the path and query)"),
    HEADERS_TOO_LARGE(431, "send fewer or shorter headers"),
    UPGRADE_REQUIRED(426, "open the WebSocket with version 13 (RFC 6455)"),
    UNSUPPORTED_MEDIA_TYPE(415, "send the body as JSON, with Content-Type: application/json"),
    REQUEST_TIMEOUT(408, "send the request line and headers at once, on a new connection");

    public final int httpStatus;
    public final String clientAction;
    private final String wire;

    ErrorCode(int httpStatus, String clientAction) {
        this.httpStatus = httpStatus;
        this.clientAction = clientAction;
        this.wire = name().toLowerCase(Locale.ROOT);
    }

    /** The code as it appears on the wire, e.g. {@code rate_limited}. */
    public String wire() {
        return wire;
    }
}
