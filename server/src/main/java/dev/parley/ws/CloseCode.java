package dev.parley.ws;

/**
 * The close codes of PROTOCOL.md section 10, each with the reason sent in the close frame and what
 * the client should do. Every close the server starts goes through here.
 */
public enum CloseCode {
    NORMAL(1000, "normal close", ""),
    GOING_AWAY(1001, "server is shutting down", "reconnect to any node and resume with since"),
    HEARTBEAT_TIMEOUT(1001, "heartbeat timeout", "reconnect and resume with since"),
    PROTOCOL_ERROR(1002, "protocol error", "fix the client's WebSocket framing"),
    INVALID_PAYLOAD(1007, "invalid UTF-8", "send text frames in UTF-8"),
    POLICY(1008, "policy violation", "do not retry blindly"),
    TOO_BIG(1009, "frame too large", "send smaller frames"),
    INTERNAL(1011, "unexpected server error", "reconnect with backoff"),
    TOKEN_EXPIRED(4001, "token expired", "get a new token and reconnect"),
    SESSION_REVOKED(4003, "session revoked", "do not reconnect with this token: sign in again"),
    TOO_SLOW(4002, "too slow: outgoing queue overflowed", "reconnect and resume with since"),
    /** The socket took nothing for CHAT_UNWRITABLE_TIMEOUT: the client is not reading, whatever it sends. */
    TOO_SLOW_UNWRITABLE(4002, "too slow: not reading", "reconnect and resume with since"),
    /** The node's outboxes together passed CHAT_OUTBOX_BUDGET, and this connection's was among the biggest. */
    TOO_SLOW_BUDGET(4002, "too slow: server outgoing memory full", "reconnect and resume with since"),
    RATE_LIMITED(4029, "rate limit exceeded repeatedly", "back off");

    public final short code;
    public final String reason;
    public final String clientAction;

    CloseCode(int code, String reason, String clientAction) {
        this.code = (short) code;
        this.reason = reason;
        this.clientAction = clientAction;
    }

    /** The close for a frame Netty's decoder refused, by the status it names: 1002 unless it is 1007 or 1009. */
    static CloseCode forDecoderStatus(int status) {
        return switch (status) {
            case 1007 -> INVALID_PAYLOAD;
            case 1009 -> TOO_BIG;
            default -> PROTOCOL_ERROR;
        };
    }
}
