package dev.parley.bench;

/**
 * What {@code bench load} puts in a store, as pure arithmetic, so that the loader and whoever reads
 * the store later (the tests, {@code bench query}) agree on it without a list of what was written.
 *
 * <p>Message {@code n} (0 to {@code messages - 1}) is in room {@code n % rooms} with seq
 * {@code n / rooms + 1}: the rooms are as large as one another (to one message), their seqs run
 * from 1 without a gap, and the room's last seq is its message count. Message {@code n} was sent at
 * {@code start + n * interval} milliseconds, by one of its room's members, with
 * {@link TextGenerator#text text(n)}. Room {@code r} has {@code members} members: users
 * {@code (r * members + j) % users} for j from 0, the first its owner.
 */
record StoreShape(long messages, int rooms, int users, int members, String roomPrefix, String userPrefix,
                  long startMillis, long intervalMillis) {

    StoreShape {
        if (messages < 0) throw new IllegalArgumentException("--messages: at least 0");
        if (rooms < 1) throw new IllegalArgumentException("--rooms: at least 1");
        if (members < 1 || members > users) throw new IllegalArgumentException("--members: 1 to --users (" + users + ")");
    }

    String room(int r) {
        return roomPrefix + r;
    }

    String user(int u) {
        return userPrefix + u;
    }

    /** How many messages room {@code r} holds: its last seq. */
    long count(int r) {
        return messages / rooms + (r < messages % rooms ? 1 : 0);
    }

    /** The number of the message with this seq in room {@code r}. */
    long message(int r, long seq) {
        return (seq - 1) * rooms + r;
    }

    long ts(long n) {
        return startMillis + n * intervalMillis;
    }

    /** The user index of room {@code r}'s member {@code j} (0: its owner). */
    int member(int r, int j) {
        return (int) (((long) r * members + j) % users);
    }

    /** Who sent message {@code n} of room {@code r}: one of its members, picked by the message's number. */
    int sender(int r, long n) {
        return member(r, (int) Math.floorMod(n * 0x9E3779B97F4A7C15L >>> 33, (long) members));
    }
}
