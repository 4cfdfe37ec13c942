package dev.parley;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transports (HTTP and the WebSocket) go through the use cases in {@code chat} and never reach
 * storage, not even through a type a use case returns: so a change of storage cannot reach them.
 * Read from the compiled classes, whose constant pools name every type a class touches, inferred
 * ones included, which an import check would miss.
 */
class LayersTest {
    private static final Pattern STORE_TYPE = Pattern.compile("dev/parley/store/[A-Za-z0-9_$]+");
    /**
     * {@code ChatService.send} still completes with the store's {@code Appended}; the delivery
     * redesign gives it a type of its own, and then this set is empty.
     */
    private static final Set<String> NOT_YET = Set.of("dev/parley/store/MessageStore$Appended");

    @Test
    void nothing_in_http_or_ws_uses_a_type_of_the_store() throws IOException {
        Set<String> used = new TreeSet<>();
        for (String pkg : new String[] {"http", "ws"}) {
            Path dir = Path.of("target/classes/dev/parley", pkg);
            assertThat(dir).as("compiled classes of %s", pkg).isDirectory();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                    Set<String> names = new TreeSet<>();
                    Matcher m = STORE_TYPE.matcher(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
                    while (m.find()) names.add(m.group());
                    for (String allowed : NOT_YET) {
                        // A nested type is named with its outer one beside it (the InnerClasses attribute).
                        if (names.remove(allowed)) names.remove(allowed.substring(0, allowed.indexOf('$')));
                    }
                    for (String n : names) used.add(dir.relativize(f) + " uses " + n);
                }
            }
        }
        assertThat(used).as("classes of http/ and ws/ that reach into dev.parley.store").isEmpty();
    }
}
