package dev.parley.store;

import static java.util.Objects.requireNonNull;

/**
 * A new username or room name was refused because a taken one looks the same: the two have the same
 * look-alike key (a Unicode TS #39 skeleton, see V6__name_skeletons.sql), which the store keeps
 * unique. Retrying will not help; another name will.
 */
public final class LookAlikeException extends RuntimeException {
    private final String what;
    private final String name;
    private final String taken;

    /**
     * @param what  {@code "username"} or {@code "room"}
     * @param taken the name in the way, or null if the store does not say (a room's: it may be private)
     */
    public LookAlikeException(String what, String name, String taken) {
        super(what + " " + name + " looks like " + (taken == null ? "a name that is taken" : taken));
        this.what = requireNonNull(what, "what");
        this.name = requireNonNull(name, "name");
        this.taken = taken;
    }

    public String what() {
        return what;
    }

    public String name() {
        return name;
    }

    /** The name that is taken, or null. */
    public String taken() {
        return taken;
    }
}
