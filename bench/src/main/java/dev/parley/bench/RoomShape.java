package dev.parley.bench;

import picocli.CommandLine.Option;

import java.util.Map;

/** The load's shape, shared by {@code fanout} and {@code saturation}: rooms, members, senders, payload. */
final class RoomShape {
    @Option(names = "--rooms", paramLabel = "<n>", defaultValue = "1", description = "rooms. Default: ${DEFAULT-VALUE}")
    int rooms;

    @Option(names = "--members", paramLabel = "<n>", defaultValue = "100", description = "connections joined to each room. Default: ${DEFAULT-VALUE}")
    int members;

    @Option(names = "--senders", paramLabel = "<n>", defaultValue = "10", description = "members of each room that send. Default: ${DEFAULT-VALUE}")
    int senders;

    @Option(names = "--payload", paramLabel = "<bytes>", defaultValue = "100", description = "message text size (at least 16). Default: ${DEFAULT-VALUE}")
    int payload;

    /** @param minSenders 0 when a run may be receive-only, 1 when it must send */
    void validate(int minSenders) {
        if (rooms < 1 || members < 1 || senders < minSenders || senders > members) {
            throw new IllegalArgumentException("need rooms >= 1, members >= 1, " + minSenders + " <= senders <= members");
        }
    }

    void describe(Map<String, Object> config) {
        config.put("rooms", rooms);
        config.put("members", members);
        config.put("senders", senders);
    }
}
