package dev.parley.ws;

import dev.parley.chat.ChatException;
import dev.parley.chat.ErrorCode;

/** A frame that could not be decoded; carries the frame's ref when it could be read. */
final class FrameException extends ChatException {
    private final String ref;

    FrameException(ErrorCode code, String message, String ref) {
        super(code, message);
        this.ref = ref;
    }

    String ref() {
        return ref;
    }
}
