package dev.parley.ws;

/** The frames a client sends (PROTOCOL.md section 6), decoded and type-checked by FrameCodec. */
sealed interface ClientFrame {
    String ref();

    record Join(String ref, String room, Long since) implements ClientFrame {}

    record Leave(String ref, String room) implements ClientFrame {}

    /** @param replyTo the seq of the message it answers, or null */
    record Send(String ref, String room, String text, String clientId, Long replyTo) implements ClientFrame {}

    /** The changes of a message, named by its seq (checked by ChatService). */
    record Edit(String ref, String room, Long seq, String text) implements ClientFrame {}

    record Delete(String ref, String room, Long seq) implements ClientFrame {}

    record React(String ref, String room, Long seq, String emoji, boolean on) implements ClientFrame {}

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
            case Edit e -> "edit";
            case Delete d -> "delete";
            case React r -> "react";
            case Read r -> "read";
        };
    }
}
