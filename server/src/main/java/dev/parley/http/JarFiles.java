package dev.parley.http;

import dev.parley.work.Blocking;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static java.util.Objects.requireNonNull;

/**
 * Serves files packaged in the jar (the web client, the docs page, Swagger UI, {@code openapi.yaml}, {@code asyncapi.yaml}),
 * and nothing else. Vert.x's {@code StaticHandler} and {@code sendFile} look for a relative path in the
 * working directory before the class path, so a file that happened to lie there (in the Docker image
 * that is the data volume) would have been served on the web client's origin, where the tokens live.
 *
 * <p>The names carry no version, so every answer is {@code Cache-Control: no-cache} with an ETag of the
 * content: a browser asks again each time, gets 304 while the file is unchanged, and the new file as
 * soon as the server is upgraded (never an old page with new scripts).
 *
 * <p>A file is read from the jar once, on a worker thread, and kept: what can be kept is bounded by
 * what the jar holds under the root. Names that are not found are not remembered.
 */
final class JarFiles implements Handler<RoutingContext> {
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "yaml", "application/yaml; charset=utf-8",
            "json", "application/json",
            "map", "application/json",
            "png", "image/png",
            "svg", "image/svg+xml",
            "ico", "image/x-icon",
            "txt", "text/plain; charset=utf-8");

    private record File(Buffer body, String type, String etag) {}

    private final Vertx vertx;
    private final String mount;
    private final String root;
    private final String index;
    private final ConcurrentHashMap<String, File> files = new ConcurrentHashMap<>();

    /**
     * @param mount the request path this handler's names start after ("/", "/docs/"), or a whole path for one file
     * @param root  the folder in the jar that the names are looked up in, or the one file's name
     * @param index the name served for the mount itself and for a path ending in "/", or null
     */
    JarFiles(Vertx vertx, String mount, String root, String index) {
        this.vertx = requireNonNull(vertx, "vertx");
        this.mount = requireNonNull(mount, "mount");
        this.root = requireNonNull(root, "root");
        this.index = index;
    }

    /** One file of the jar at one path. */
    static JarFiles single(Vertx vertx, String path, String name) {
        return new JarFiles(vertx, path, name, null);
    }

    @Override
    public void handle(RoutingContext ctx) {
        String name = name(ctx.normalizedPath());
        if (name == null) {
            ctx.next(); // the router's 404
            return;
        }
        File cached = files.get(name);
        if (cached != null) {
            send(ctx, cached);
            return;
        }
        Blocking.run(vertx, () -> load(name)).onComplete(ar -> {
            if (ar.succeeded() && ar.result() != null) {
                files.putIfAbsent(name, ar.result());
                send(ctx, ar.result());
            } else {
                ctx.next();
            }
        });
    }

    /** The resource a request path names, or null if it names none this handler may serve. */
    String name(String path) {
        if (path == null || !path.startsWith(mount)) return null;
        if (!mount.endsWith("/")) return path.equals(mount) ? root : null; // a single file
        String rel = path.substring(mount.length());
        if (rel.isEmpty() || rel.endsWith("/")) {
            if (index == null) return null;
            rel = rel + index;
        }
        for (String segment : rel.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..") || segment.indexOf('\\') >= 0 || segment.indexOf('\0') >= 0) return null;
        }
        if (type(rel) == null) return null;
        return root + "/" + rel;
    }

    private static String type(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? null : TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private static File load(String name) throws IOException {
        URL url = JarFiles.class.getClassLoader().getResource(name);
        if (url == null) return null; // (a folder has no name with a served extension, so it never gets here)
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        return new File(Buffer.buffer(bytes), type(name), etag(bytes));
    }

    private static String etag(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static Future<Void> send(RoutingContext ctx, File f) {
        var response = ctx.response()
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader(HttpHeaders.ETAG, f.etag());
        String ifNoneMatch = ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH);
        if (ifNoneMatch != null && matches(ifNoneMatch, f.etag())) {
            return response.setStatusCode(304).end();
        }
        return response.putHeader(HttpHeaders.CONTENT_TYPE, f.type()).end(f.body());
    }

    /** If-None-Match holds a list of tags, or "*"; a weak tag (W/"...") matches too (RFC 9110, 13.1.2). */
    private static boolean matches(String header, String etag) {
        for (String tag : header.split(",")) {
            String t = tag.trim();
            if (t.startsWith("W/")) t = t.substring(2);
            if (t.equals("*") || t.equals(etag)) return true;
        }
        return false;
    }
}
