package dev.parley.ws;

/** The frames a client sends (PROTOCOL.md section 3), decoded and type-checked by FrameCodec. */
sealed interface ClientFrame {
    String ref();

    record Join(String ref, String room, Long since) implements ClientFrame {}

    record Leave(String ref, String room) implements ClientFrame {}

    record Send(String ref, String room, String text, String clientId) implements ClientFrame {}

    record Typing(String ref, String room) implements ClientFrame {}

    record History(String ref, String room, Long before, Integer limit) implements ClientFrame {}

    record Refresh(String ref, String token) implements ClientFrame {}

    record Ping(String ref) implements ClientFrame {}

    record Read(String ref, String room, long seq) implements ClientFrame {}

    /** The wire name of a frame's type, for metrics. */
    static String typeOf(ClientFrame f) {
        return switch (f) {
            case Join j -> "join";
            case Leave l -> "leave";
            case Send s -> "send";
            case Typing t -> "typing";
            case History h -> "history";
            case Refresh r -> "refresh";
            case Ping p -> "ping";
            case Read r -> "read";
        };
    }
}
