package dev.parley.auth;

import at.favre.lib.crypto.bcrypt.BCrypt;

import java.nio.charset.StandardCharsets;

/**
 * bcrypt through a maintained library. Hashing takes ~100 ms at cost 10 on purpose: callers run it
 * off the event loop. bcrypt reads at most 72 bytes, so longer passwords are pre-hashed (SHA-256,
 * base64) rather than silently truncated.
 */
public final class PasswordHasher {
    private static final int BCRYPT_MAX_BYTES = 72;
    private final int cost;

    public PasswordHasher(int cost) {
        this.cost = cost;
    }

    public String hash(String password) {
        return BCrypt.withDefaults().hashToString(cost, prepared(password));
    }

    public boolean verify(String password, String hash) {
        return BCrypt.verifyer().verify(prepared(password), hash.toCharArray()).verified;
    }

    /** A hash to check against when the user does not exist, so that timing does not reveal it. */
    public String dummyHash() {
        return hash("not-a-real-password-" + cost);
    }

    private static char[] prepared(String password) {
        byte[] bytes = password.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= BCRYPT_MAX_BYTES) return password.toCharArray();
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
            return ("sha256:" + java.util.Base64.getEncoder().encodeToString(digest)).toCharArray();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
