package dev.parley.web;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web client's {@code chat-client.js} is the JavaScript package's file (clients/js), which the
 * build copies into the jar (server/pom.xml): the one the server serves at /chat-client.js must be
 * it, byte for byte. Without Node; JsClientIT checks the same over HTTP from the package's side.
 */
class ChatClientResourceTest {
    @Test
    void the_served_chat_client_is_the_packages_file() throws IOException {
        try (InputStream served = ChatClientResourceTest.class.getResourceAsStream("/web/chat-client.js")) {
            assertThat(served).as("web/chat-client.js on the classpath (copied from clients/js by server/pom.xml)").isNotNull();
            assertThat(served.readAllBytes()).isEqualTo(Files.readAllBytes(Path.of("clients", "js", "chat-client.js")));
        }
    }
}
