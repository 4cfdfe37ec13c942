package dev.parley.ws;

import dev.parley.http.CappedCounts;
import dev.parley.http.SocketsPerAddress;

import java.net.InetAddress;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many WebSocket connections the node holds, in all, per client address and per user, against
 * the caps {@code CHAT_MAX_CONNECTIONS}, {@code CHAT_MAX_CONNECTIONS_PER_IP} and
 * {@code CHAT_MAX_CONNECTIONS_PER_USER} (0: no cap, and nothing counted). A connection takes its
 * places before the upgrade, as a {@link Slot}, and gives them back once, when it is refused or
 * when its TCP connection ends; a place is taken while an upgrade is under way, so a flood of
 * upgrades cannot pass a cap by arriving together.
 *
 * <p>Any thread may take and give back places: each count changes in one atomic step.
 */
final class ConnectionCaps {
    /** Which cap refused a connection; {@link #metric} is the {@code reason} of the refusal metric. */
    enum Refusal {
        NODE("node"), ADDRESS("address"), USER("user");

        final String metric;

        Refusal(String metric) {
            this.metric = metric;
        }
    }

    private final int perNode;
    private final AtomicInteger node = new AtomicInteger();
    private final CappedCounts byAddress;
    private final CappedCounts byUser;

    ConnectionCaps(int perNode, int perAddress, int perUser) {
        this.perNode = perNode;
        this.byAddress = new CappedCounts(perAddress);
        this.byUser = new CappedCounts(perUser);
    }

    /**
     * Takes a place on the node and for the address. The slot's {@link Slot#refusal()} says which cap
     * refused it, if one did; a refused slot holds nothing.
     */
    Slot admit(String address) {
        if (perNode > 0 && node.getAndUpdate(n -> n < perNode ? n + 1 : n) >= perNode) return new Slot(Refusal.NODE, null);
        if (!byAddress.take(address)) {
            if (perNode > 0) node.decrementAndGet();
            return new Slot(Refusal.ADDRESS, null);
        }
        return new Slot(null, address);
    }

    int open() {
        return node.get();
    }

    int openFrom(String address) {
        return byAddress.held(address);
    }

    int openFor(String user) {
        return byUser.held(user.toLowerCase(Locale.ROOT));
    }

    /** The places of one connection: the node's and the address's, then the user's once the token is known. */
    final class Slot {
        private final Refusal refusal;
        private final String address;
        private String user; // lowercase; set once, before the upgrade
        private boolean released;

        private Slot(Refusal refusal, String address) {
            this.refusal = refusal;
            this.address = address;
            this.released = refusal != null;
        }

        /** The cap that refused the connection, or null if it was admitted. */
        Refusal refusal() {
            return refusal;
        }

        /**
         * Takes the user's place too. @return null if the user is under the cap; else {@link Refusal#USER}, and the
         * slot still holds the node's and the address's places until {@link #release}
         */
        Refusal addUser(String username) {
            String key = username.toLowerCase(Locale.ROOT); // one user whatever the letter case of the token's name
            if (!byUser.take(key)) return Refusal.USER;
            user = key;
            return null;
        }

        /** Gives every place back; any later call does nothing. */
        synchronized void release() {
            if (released) return;
            released = true;
            if (perNode > 0) node.decrementAndGet();
            byAddress.giveBack(address);
            if (user != null) byUser.giveBack(user);
        }
    }

    /** The address a connection counts against: see {@link SocketsPerAddress#key}, which the two caps share. */
    static String addressKey(InetAddress address) {
        return SocketsPerAddress.key(address);
    }
}
