package dev.parley.cluster;

import dev.parley.presence.LocalPresence;
import dev.parley.presence.Presence;

class LocalPresenceTest implements PresenceContract {
    @Override
    public Presence newNode() {
        return new LocalPresence();
    }

    @Override
    public boolean shared() {
        return false;
    }
}
