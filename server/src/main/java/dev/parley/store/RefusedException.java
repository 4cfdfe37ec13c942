package dev.parley.store;

/** The database refused this one message (a value it cannot hold); retrying it will not help. */
public final class RefusedException extends RuntimeException {
    public RefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
