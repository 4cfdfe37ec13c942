package dev.parley.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * How {@link ChatConfig} reads each kind of value from its text: every method throws a
 * {@link ConfigException} naming the variable, the value and what was expected.
 */
final class SettingValues {
    private SettingValues() {}

    static int integer(Map<Setting, String> v, Setting s, int min, int max) {
        String raw = v.get(s);
        try {
            int n = Integer.parseInt(raw);
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(s.env + ": " + raw + " (expected: a whole number from " + min + " to " + max + ")");
        }
    }

    static double decimal(Map<Setting, String> v, Setting s) {
        String raw = v.get(s);
        try {
            return Double.parseDouble(raw);
        } catch (NumberFormatException e) {
            throw new ConfigException(s.env + ": " + raw + " (expected: a number)");
        }
    }

    static Pattern pattern(Map<Setting, String> v, Setting s) {
        try {
            return Pattern.compile(v.get(s));
        } catch (PatternSyntaxException e) {
            throw new ConfigException(s.env + ": " + v.get(s) + " (expected: a regular expression)");
        }
    }

    /** Accepts 250ms, 90s, 30m, 24h, 7d, or an ISO-8601 duration such as PT1H; at least a millisecond. */
    static Duration duration(Map<Setting, String> v, Setting s) {
        String raw = v.get(s);
        Duration d = parsed(raw, s, "250ms, 90s, 30m, 24h or 7d");
        // Zero or negative breaks every user: a periodic timer of 0 ms throws, and a drain of 0 waits forever.
        if (d.toMillis() < 1) throw new ConfigException(s.env + ": " + raw + " (expected: a duration of at least 1ms)");
        return d;
    }

    /**
     * 0ms (off) up to 100ms, for the latency a setting trades for fewer writes: the flush interval
     * (longer would only add latency, since a write carries at most 512 frames) and the append linger.
     */
    static Duration shortDuration(Map<Setting, String> v, Setting s) {
        String raw = v.get(s);
        Duration d = parsed(raw, s, "2ms");
        if (d.isNegative() || d.toMillis() > 100) throw new ConfigException(s.env + ": " + raw + " (expected: 0ms to 100ms)");
        return d;
    }

    static Duration parsed(String raw, Setting s, String examples) {
        try {
            return parseDuration(raw);
        } catch (RuntimeException e) {
            throw new ConfigException(s.env + ": " + raw + " (expected: a duration such as " + examples + ")");
        }
    }

    public static Duration parseDuration(String raw) {
        String t = raw.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("p")) return Duration.parse(t.toUpperCase(Locale.ROOT));
        if (t.endsWith("ms")) return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        return switch (t.charAt(t.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            case 'd' -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException(raw);
        };
    }

    /** Usernames, as given: they are compared regardless of case, like usernames everywhere. */
    static List<String> adminList(String raw) {
        if (raw.isBlank()) return List.of();
        return java.util.Arrays.stream(raw.split(",")).map(String::trim).filter(a -> !a.isEmpty()).toList();
    }

    /** {@code open} (true) or {@code closed} (false). */
    static boolean registration(String raw) {
        return switch (raw.toLowerCase(Locale.ROOT)) {
            case "open" -> true;
            case "closed" -> false;
            default -> throw new ConfigException(Setting.REGISTRATION.env + ": " + raw + " (expected: open or closed)");
        };
    }

    static List<AddressRange> proxies(String raw) {
        if (raw.isBlank()) return List.of();
        List<AddressRange> out = new ArrayList<>();
        for (String p : raw.split(",")) {
            if (p.isBlank()) continue;
            try {
                out.add(AddressRange.parse(p));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(Setting.TRUSTED_PROXIES.env + ": " + p.trim()
                        + " (expected: comma-separated IP addresses or CIDR ranges, such as 10.0.0.0/8 or ::1)");
            }
        }
        return List.copyOf(out);
    }

    /** {@code anyone} (true) or {@code admins} (false). */
    static boolean roomCreation(String raw) {
        return switch (raw.toLowerCase(Locale.ROOT)) {
            case "anyone" -> true;
            case "admins" -> false;
            default -> throw new ConfigException(Setting.ROOM_CREATION.env + ": " + raw + " (expected: anyone or admins)");
        };
    }

    static List<String> origins(String raw) {
        if (raw.isBlank()) return List.of();
        return java.util.Arrays.stream(raw.split(",")).map(String::trim).filter(o -> !o.isEmpty())
                .map(o -> o.endsWith("/") ? o.substring(0, o.length() - 1) : o).toList();
    }
}
