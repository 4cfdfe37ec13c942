package dev.parley.event;

import java.util.function.Supplier;

/**
 * A value computed once, on first use, by whichever thread needs it first; for the wire form of
 * something delivered to many connections, so that it is encoded once and shared.
 */
final class Memo {
    private volatile Object value;

    @SuppressWarnings("unchecked")
    <T> T get(Supplier<T> compute) {
        Object v = value;
        if (v == null) {
            synchronized (this) {
                v = value;
                if (v == null) value = v = compute.get();
            }
        }
        return (T) v;
    }
}
