package dev.parley.store;

/** The database could not do what was asked: down, unreachable, or failing. Callers report {@code unavailable}. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
