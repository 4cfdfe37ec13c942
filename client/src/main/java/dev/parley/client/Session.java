package dev.parley.client;

import java.time.Instant;

/** A signed-in user: the bearer token of register or login, whose user it names, and when it stops being accepted. */
public record Session(String token, String username, Instant expiresAt) {
    @Override
    public String toString() {
        return "Session[" + username + ", until " + expiresAt + "]"; // never the token: it is a password for a day
    }
}
