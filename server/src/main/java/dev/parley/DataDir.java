package dev.parley;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The data dir and the files in it that hold secrets: the messages and password hashes (H2's file,
 * the journal) and the generated JWT secret. What Parley creates there is this user's alone from the
 * moment it exists: the permissions go to the system call that creates it, never to a chmod after,
 * which would leave a moment in which the umask's permissions let others open it (and keep it open).
 */
final class DataDir {
    private static final Logger log = LoggerFactory.getLogger(DataDir.class);
    static final String JWT_SECRET_FILE = "jwt-secret";

    private DataDir() {}

    /** Creates the data dir, if it is missing, as {@code rwx------}; warns if one that exists lets others in. */
    static void create(Path dir) {
        if (Files.isDirectory(dir)) {
            warnIfOpen(dir);
            return;
        }
        try {
            if (posix(dir)) Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            else Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory " + dir, e);
        }
    }

    /**
     * Makes a file that exists readable and writable by this user only, where the file system knows
     * such a thing: for files that a library creates (H2's), or that an older version left open.
     */
    static void ownerOnly(Path file) {
        if (!Files.exists(file)) return;
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        } catch (IOException e) {
            log.warn("could not make {} readable by its owner only: {}", file, e.toString());
        }
    }

    /** The generated HS256 secret of a node without CHAT_JWT_SECRET: read from the data dir, or made there on first start. */
    static byte[] jwtSecret(Path dir) {
        Path file = dir.resolve(JWT_SECRET_FILE);
        try {
            create(dir);
            if (!Files.exists(file) && writeNew(file, randomSecret())) {
                log.warn("generated a JWT secret in {}: fine for one node, but production must set CHAT_JWT_SECRET "
                        + "(the same on every node)", file);
            } else {
                log.warn("using the generated JWT secret in {}; production must set CHAT_JWT_SECRET", file);
            }
            return Files.readString(file).trim().getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the JWT secret in " + file, e);
        }
    }

    private static byte[] randomSecret() {
        byte[] key = new byte[48];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encode(key);
    }

    /**
     * Writes {@code content} to a new file, {@code rw-------} from its creation. It is written and
     * synced under a temporary name, then linked to its own name, which fails if the name is taken:
     * nobody reads a half-written file, and a file another process made meanwhile is never replaced.
     *
     * @return false if the file existed already (it is left as it was)
     */
    static boolean writeNew(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        FileAttribute<?>[] attrs = posix(file)
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
                : new FileAttribute<?>[0];
        try {
            try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attrs)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            try {
                Files.createLink(file, tmp);
            } catch (UnsupportedOperationException noHardLinks) {
                Files.move(tmp, file); // refuses an existing target too, though not atomically
            }
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static void warnIfOpen(Path dir) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
            if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_"))) {
                log.warn("the data directory {} is open to other users ({}): it holds the messages, the password hashes and maybe the"
                        + " JWT secret; chmod 700 it", dir, PosixFilePermissions.toString(perms));
            }
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system, or not ours to read: nothing to say
        }
    }
}
