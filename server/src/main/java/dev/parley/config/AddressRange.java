package dev.parley.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * An IP address or a CIDR range (IPv4 or IPv6), as {@code CHAT_TRUSTED_PROXIES} lists them. Only
 * literals: a host name would need DNS at start-up, and would trust whatever it resolves to.
 */
public final class AddressRange {
    private final byte[] network;
    private final int prefixBits;
    private final String text;

    private AddressRange(byte[] network, int prefixBits, String text) {
        this.network = network;
        this.prefixBits = prefixBits;
        this.text = text;
    }

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    /** @throws IllegalArgumentException for anything but an IP literal with an optional {@code /bits} */
    public static AddressRange parse(String raw) {
        String s = raw.trim();
        int slash = s.indexOf('/');
        String address = slash < 0 ? s : s.substring(0, slash);
        byte[] bytes = literal(address);
        if (bytes == null) throw new IllegalArgumentException(raw);
        int bits = bytes.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(raw);
            }
            if (bits < 0 || bits > bytes.length * 8) throw new IllegalArgumentException(raw);
        }
        return new AddressRange(bytes, bits, s);
    }

    /** Whether {@code address} (an IP literal, as a socket gives it) lies in this range. */
    public boolean contains(String address) {
        byte[] a = literal(address);
        if (a == null) return false;
        if (a.length != network.length) return false;
        int full = prefixBits / 8, rest = prefixBits % 8;
        for (int i = 0; i < full; i++) if (a[i] != network[i]) return false;
        if (rest == 0) return true;
        int mask = (0xff << (8 - rest)) & 0xff;
        return (a[full] & mask) == (network[full] & mask);
    }

    /** The address's bytes (an IPv4-mapped IPv6 address as IPv4, which is how Java gives it), or null if it is no IP literal. */
    static byte[] literal(String address) {
        if (address == null) return null;
        String a = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
        if (!IPV4.matcher(a).matches() && !IPV6.matcher(a).matches()) return null;
        try {
            return InetAddress.getByName(a).getAddress(); // a literal: no lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
