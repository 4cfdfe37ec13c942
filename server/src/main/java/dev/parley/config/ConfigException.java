package dev.parley.config;

/** A setting whose value cannot be used; the message names the setting, the value and what was expected. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
