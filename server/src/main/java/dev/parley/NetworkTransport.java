package dev.parley;

import io.vertx.core.transport.Transport;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which of Netty's transports the event loops use ({@code CHAT_TRANSPORT}): io_uring, epoll or the
 * JDK's NIO. A transport asked for but not available here (another OS, a kernel that forbids
 * io_uring, a missing native library) falls back to the next of io_uring, epoll, NIO, and the
 * start-up log says which was taken and why the others were not. {@code auto} takes the fastest
 * available by this machine's measurements (docs/BENCHMARKS.md, "the kernel's share").
 */
final class NetworkTransport {
    /** What was taken, and why each transport before it was passed over (empty if none was). */
    record Choice(Transport transport, String name, List<String> passedOver) {}

    /** The order {@code auto} tries, fastest first as measured. */
    static final List<String> AUTO = List.of("epoll", "io_uring", "nio");

    private NetworkTransport() {}

    static Choice choose(String setting) {
        String asked = setting.toLowerCase(Locale.ROOT);
        List<String> order = switch (asked) {
            case "auto" -> AUTO;
            case "io_uring" -> List.of("io_uring", "epoll", "nio");
            case "epoll" -> List.of("epoll", "nio");
            case "nio" -> List.of("nio");
            default -> throw new IllegalArgumentException("unknown transport " + setting);
        };
        List<String> passedOver = new ArrayList<>();
        for (String name : order) {
            Transport t = of(name);
            if (t.available()) return new Choice(t, name, passedOver);
            Throwable cause = t.unavailabilityCause();
            passedOver.add(name + " (" + (cause == null ? "not available" : cause.toString()) + ")");
        }
        return new Choice(Transport.NIO, "nio", passedOver); // NIO is always there
    }

    private static Transport of(String name) {
        return switch (name) {
            case "io_uring" -> Transport.IO_URING;
            case "epoll" -> Transport.EPOLL;
            default -> Transport.NIO;
        };
    }
}
