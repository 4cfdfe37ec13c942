package dev.parley.store;

/**
 * A change or a reply names a message its room does not have: a seq it never had (or not yet), a
 * room event, or history its deletion took. The client is told {@code not_found}.
 */
public final class MissingTargetException extends RuntimeException {
    public MissingTargetException(String message) {
        super(message, null, false, false);
    }
}
