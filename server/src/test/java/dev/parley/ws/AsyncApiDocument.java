package dev.parley.ws;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The AsyncAPI document the server serves at /asyncapi.yaml, read from the class path as a client
 * author would read it: its frames (from its operations: "receive" is what a client sends, "send" and
 * the replies what the server sends), each frame's payload schema, and a JSON Schema validator of them
 * (networknt's, with draft-07: AsyncAPI's schema format is a superset of it).
 *
 * <p>The validator is on Jackson 3 (as Vert.x is), the tests' frames on Jackson 2: frames cross
 * over as JSON text, and nothing of Jackson 3 shows outside this class.
 *
 * <p>Besides validating frames, it tells what of the document a set of frames never showed
 * ({@link #unseen}), so that a frame, a field or an event type described but never sent fails the test.
 */
final class AsyncApiDocument {
    private static final String BASE = "https://parley.invalid/asyncapi.json";
    private static final JsonMapper JSON = JsonMapper.shared();

    /** One frame of the document: its name there, its {@code type} on the wire, and its payload schema's pointer. */
    record Frame(String name, String type, String payload) {}

    private final JsonNode doc;
    private final SchemaRegistry registry;
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

    private AsyncApiDocument(JsonNode doc) {
        this.doc = doc;
        this.registry = SchemaRegistry.withDialect(Dialects.getDraft7(), b -> b.schemas(Map.of(BASE, doc.toString())));
    }

    static AsyncApiDocument load() {
        try (InputStream in = AsyncApiDocument.class.getClassLoader().getResourceAsStream("asyncapi.yaml")) {
            if (in == null) throw new AssertionError("asyncapi.yaml is not on the class path");
            return new AsyncApiDocument(new YAMLMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The values of the {@code enum} of the schema at {@code pointer}. */
    List<String> enumAt(String pointer) {
        List<String> out = new ArrayList<>();
        doc.at(resolve(pointer)).path("enum").forEach(v -> out.add(v.asString()));
        return out;
    }

    /** The payloads of a frame's examples, as JSON text. */
    List<String> examples(Frame f) {
        List<String> out = new ArrayList<>();
        doc.at("/components/messages/" + f.name() + "/examples").forEach(e -> out.add(e.path("payload").toString()));
        return out;
    }

    /** The frames a client sends: the messages of the "receive" operations. */
    List<Frame> clientFrames() {
        return frames(true);
    }

    /** The frames the server sends: the messages of the "send" operations and of every operation's reply. */
    List<Frame> serverFrames() {
        return frames(false);
    }

    private List<Frame> frames(boolean client) {
        Map<String, Frame> out = new LinkedHashMap<>();
        for (JsonNode op : doc.path("operations")) {
            boolean receive = op.path("action").asString().equals("receive");
            List<JsonNode> refs = new ArrayList<>();
            if (receive == client) op.path("messages").forEach(refs::add);
            if (!client) op.path("reply").path("messages").forEach(refs::add);
            for (JsonNode ref : refs) {
                String pointer = resolve(pointer(ref.path("$ref").asString()));
                String name = pointer.substring(pointer.lastIndexOf('/') + 1);
                String payload = resolve(pointer + "/payload");
                out.putIfAbsent(name, new Frame(name, typeOf(payload), payload));
            }
        }
        return List.copyOf(out.values());
    }

    /** The const of the payload's {@code type} (of its first variant, for a oneOf). */
    private String typeOf(String pointer) {
        JsonNode s = doc.at(pointer);
        if (s.has("oneOf")) return typeOf(resolve(pointer + "/oneOf/0"));
        String type = s.path("properties").path("type").path("const").asString(null);
        if (type == null) throw new AssertionError(pointer + " has no type const");
        return type;
    }

    /** The frame of {@code frames} with this wire type, or null if the document has none. */
    static Frame byType(List<Frame> frames, String type) {
        return frames.stream().filter(f -> f.type().equals(type)).findFirst().orElse(null);
    }

    /** What is wrong with the JSON {@code instance} against the schema at {@code pointer}: empty if it is valid. */
    List<String> errors(String pointer, String instance) {
        return schema(pointer).validate(instance, InputFormat.JSON).stream().map(Object::toString).toList();
    }

    private boolean valid(String pointer, JsonNode instance) {
        return schema(pointer).validate(instance).isEmpty();
    }

    private Schema schema(String pointer) {
        return schemas.computeIfAbsent(pointer, p -> registry.getSchema(SchemaLocation.of(BASE + "#" + p)));
    }

    /**
     * What of the schema at {@code pointer} the instances never showed: a schema reached by none of
     * them (a oneOf variant none matches, the items of arrays always empty), or a property none had.
     * Instances are gathered per schema across every path to it, so that a field present only in
     * some places (a message's {@code editedAt}, in history pages) counts wherever it was seen.
     */
    Set<String> unseen(Map<String, List<String>> instancesByPointer) {
        Map<String, List<JsonNode>> seen = new LinkedHashMap<>();
        Set<String> reached = new LinkedHashSet<>();
        instancesByPointer.forEach((p, instances) -> gather(p, instances.stream().map(JSON::readTree).toList(), seen, reached));
        Set<String> out = new LinkedHashSet<>();
        for (String p : reached) {
            List<JsonNode> instances = seen.getOrDefault(p, List.of());
            if (instances.isEmpty()) {
                out.add(p + " (never seen)");
                continue;
            }
            for (String name : doc.at(p).path("properties").propertyNames()) {
                if (instances.stream().noneMatch(i -> i.has(name))) out.add(p + "/properties/" + name + " (never present)");
            }
        }
        return out;
    }

    private void gather(String pointer, List<JsonNode> instances, Map<String, List<JsonNode>> seen, Set<String> reached) {
        String p = resolve(pointer);
        reached.add(p);
        seen.computeIfAbsent(p, k -> new ArrayList<>()).addAll(instances);
        JsonNode s = doc.at(p);
        JsonNode oneOf = s.path("oneOf");
        for (int i = 0; i < oneOf.size(); i++) {
            String variant = resolve(p + "/oneOf/" + i);
            gather(variant, instances.stream().filter(n -> valid(variant, n)).toList(), seen, reached);
        }
        for (String name : s.path("properties").propertyNames()) {
            gather(p + "/properties/" + name, instances.stream().filter(n -> n.has(name)).map(n -> n.get(name)).toList(), seen, reached);
        }
        if (s.has("items")) {
            List<JsonNode> items = new ArrayList<>();
            instances.forEach(n -> n.forEach(items::add));
            gather(p + "/items", items, seen, reached);
        }
    }

    /** Follows {@code $ref}s (local ones: the document has no other) to the pointer of the schema itself. */
    String resolve(String pointer) {
        String p = pointer;
        for (int hops = 0; doc.at(p).has("$ref"); hops++) {
            if (hops > 10) throw new AssertionError("a $ref loop at " + pointer);
            p = pointer(doc.at(p).get("$ref").asString());
        }
        if (doc.at(p).isMissingNode()) throw new AssertionError("nothing at " + pointer);
        return p;
    }

    private static String pointer(String ref) {
        if (!ref.startsWith("#/")) throw new AssertionError("not a local $ref: " + ref);
        return ref.substring(1);
    }
}
