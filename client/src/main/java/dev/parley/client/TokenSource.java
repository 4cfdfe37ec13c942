package dev.parley.client;

/**
 * Where a {@link Connection} gets the token of each WebSocket it opens. It is asked again, with
 * {@code renew} true, after the server refused the last one (an upgrade answered 401, a close with
 * 4001 when it expired): {@link #relogin} logs in again then, {@link #fixed} has nothing more to
 * give. Called on the connection's own thread, where a blocking login is fine.
 */
@FunctionalInterface
public interface TokenSource {
    /** @return the token to connect with; null when there is none to give, which ends the connection (Disconnected with 401) */
    String token(boolean renew) throws Exception;

    /** The one token; once refused, the connection ends. */
    static TokenSource fixed(String token) {
        return renew -> renew ? null : token;
    }

    /** Starts with {@code session}'s token and, when it is refused, logs in again as its user. */
    static TokenSource relogin(ParleyClient client, Session session, String password) {
        return new TokenSource() {
            private String current = session.token();

            @Override
            public String token(boolean renew) throws Exception {
                if (renew) current = client.login(session.username(), password).token();
                return current;
            }
        };
    }
}
