package dev.parley.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The error codes of docs/PROTOCOL.md section 8, read from the document itself (tests run from the
 * project root), so that a test asserting "a documented error" follows the contract as it is written,
 * codes added later included.
 */
public final class DocumentedErrors {
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z_]+)` \\|\\s*(\\d{3})?\\s*\\|");

    private DocumentedErrors() {}

    /** Each documented code with its HTTP status; null for a code that has none (WebSocket only). */
    public static Map<String, Integer> codes() {
        String doc;
        try {
            doc = Files.readString(Path.of("docs/PROTOCOL.md"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int start = doc.indexOf("\n## 8. Error codes");
        int end = doc.indexOf("\n## 9.", start);
        if (start < 0 || end < 0) throw new AssertionError("docs/PROTOCOL.md has no section 8, Error codes");
        Map<String, Integer> codes = new LinkedHashMap<>();
        for (String line : doc.substring(start, end).split("\n")) {
            Matcher m = ROW.matcher(line);
            if (m.find()) codes.put(m.group(1), m.group(2) == null ? null : Integer.valueOf(m.group(2)));
        }
        if (!codes.containsKey("bad_request") || !codes.containsKey("internal")) {
            throw new AssertionError("could not read the table of section 8 of docs/PROTOCOL.md: " + codes);
        }
        return codes;
    }
}
