package dev.parley.ws;

/** The close codes of PROTOCOL.md section 6, each with what the client should do. */
public enum CloseCode {
    NORMAL(1000, "normal close", ""),
    GOING_AWAY(1001, "server is shutting down", "reconnect to any node and resume with since"),
    POLICY(1008, "policy violation", "do not retry blindly"),
    TOO_BIG(1009, "frame too large", "send smaller frames"),
    INTERNAL(1011, "unexpected server error", "reconnect with backoff"),
    TOKEN_EXPIRED(4001, "token expired", "get a new token and reconnect"),
    TOO_SLOW(4002, "too slow: outgoing queue overflowed", "reconnect and resume with since"),
    RATE_LIMITED(4029, "rate limit exceeded repeatedly", "back off");

    public final short code;
    public final String reason;
    public final String clientAction;

    CloseCode(int code, String reason, String clientAction) {
        this.code = (short) code;
        this.reason = reason;
        this.clientAction = clientAction;
    }
}
