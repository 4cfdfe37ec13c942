package dev.parley.store;

import dev.parley.event.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;

/**
 * The embedded database's redo log. Making each group commit durable inside H2 means H2 writes a new
 * version of every B-tree page the commit touched (about 185 µs a commit here, most of a writer's
 * time); appending the committed messages to this file is one {@code write} call. H2 then runs with
 * its default write delay, and after a crash the messages it had not yet written are put back from
 * here ({@link #recover}) before the server starts.
 *
 * <p>How durable an appended record is depends on {@code sync} ({@code CHAT_JOURNAL_SYNC}). Without
 * it, the record is in the operating system's page cache when the ack goes out, as H2's own commits
 * would be: a killed process loses nothing, a power cut or a kernel crash can lose the last moments.
 * With it, each append ends with an {@code fdatasync} ({@link FileChannel#force force(false)}), so an
 * acknowledged message is on the disk; and since the journal may only be emptied once H2 holds what
 * it held, a checkpoint then has H2 sync its file too ({@code CHECKPOINT SYNC}).
 *
 * <p>The file is written in place, never appended to: it is filled with zeros ahead of the records
 * ({@link #CHUNK} at a time) and not cut back when emptied (but past {@link #KEEP}). An {@code fdatasync} after a write that
 * makes a file longer must also put the file's new length on the disk (on ext4 a commit of its own
 * journal); after a write inside the file it has only the data to write. Measured on this project's
 * machine: 30 µs of CPU a sync instead of 49, and about 155 µs instead of 185 at the median
 * (docs/BENCHMARKS.md, entry 61). Records of an earlier filling then stay behind the new ones, so
 * each filling has a <em>generation</em>, a random number in the file's header that every record's
 * checksum covers: a replay stops at the first record that is not of the header's generation, as it
 * stops at zeros or at a record cut short. Random rather than counted, so that no generation comes
 * back after a crash (a header that never reached the disk), and so that no text a user sent,
 * left behind the records, can be made to pass for a record of the generation that follows. The
 * new header is synced before the first record of its generation when the journal {@link #syncs}.
 *
 * <p>The file is a 16-byte header ({@code PARLEYJ2} and the generation, a long), then records:
 * payload length (int), CRC32C of the generation's 8 bytes followed by the payload (int), and the
 * payload, the commit's messages and read markers as {@link JournalRecords} writes and reads them.
 * A record cut short by a crash (a write that never returned, so never acknowledged) fails its
 * length or CRC check and ends the replay. Only the writer thread
 * appends; the file is emptied once H2 has written everything it holds. A file of the first version
 * ({@code PARLEYJ1}: an 8-byte header, no generation, checksums of the payload alone, records appended
 * at its end) is still read, and starts over in this version when it is emptied, as {@link #recover}
 * does at every start.
 *
 * <p>Over 400 lines: the file's own format (header, generations, zeros ahead, the first version)
 * is written and read here, so that a change to one side is seen next to the other, with the
 * replay into the database that depends on it; the payload's format is {@link JournalRecords}.
 */
public final class Journal implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Journal.class);
    private static final byte[] MAGIC_V1 = "PARLEYJ1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MAGIC = "PARLEYJ2".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_V1 = 8;
    private static final int HEADER = 16;
    private static final int RECORD_HEADER = 8;
    /** How much the file grows by, in zeros, when the records reach its end (a sync of its length each time). */
    static final long CHUNK = 4 << 20;
    /** A file grown past this (a checkpoint that kept failing) is cut back when next emptied. */
    static final long KEEP = 16 * CHUNK;
    /** Far above any real record (a batch of 1,024 messages at the text limit); a larger length is damage. */
    private static final int MAX_RECORD = 256 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocate(64 << 10).asReadOnlyBuffer();
    private static final java.security.SecureRandom GENERATIONS = new java.security.SecureRandom();

    /** A read marker raised to {@code seq} for the user of lower-case key {@code userKey} (store.ReadMarkers). */
    public record Mark(String room, String userKey, long seq) {}

    private final Path path;
    private final FileChannel channel;
    private final boolean sync;
    private final CRC32C crc = new CRC32C();
    private final JournalRecords records = new JournalRecords();
    /** The header's generation, which every checksum covers but in a file of the first version. */
    private long generation;
    /** A file of the first version: checksums of the payload alone, records appended at its end. */
    private boolean firstVersion;
    private final byte[] generationBytes = new byte[8];
    private int headerLength;
    /** Where the next record goes. */
    private long end;
    /**
     * How far the file is known to be filled. From {@link #end} to here lie zeros, records of earlier
     * generations, or what a crash or a failed append left of a record of this one.
     */
    private long allocated;
    /** Where the last record appended begins, until it is taken back or the journal emptied; -1 if none. */
    private long lastRecordAt = -1;
    /** New headers synced (see {@link #startOver}); read by tests. */
    private long headerSyncs;
    /** Set when a new header failed and the old one could not be put back: the next append then tries the clear again. */
    private IOException broken;
    /** Told how long each sync of records took, in nanoseconds, on the writer thread: a metric's. */
    private volatile LongConsumer syncTimes = nanos -> {};
    /** Appends forced to the disk: what shows that the sync is done, not only configured. Written by the writer thread only. */
    private volatile long forces;

    private Journal(Path path, FileChannel channel, boolean sync) {
        this.path = path;
        this.channel = channel;
        this.sync = sync;
    }

    /** Opens (or creates) the journal, without a sync per append; {@link #replay} then hands back what it holds. */
    public static Journal open(Path path) throws IOException {
        return open(path, false);
    }

    /**
     * Opens (or creates) the journal; {@link #replay} then hands back what it holds.
     *
     * @param sync whether each {@link #append} reaches the disk before it returns ({@code CHAT_JOURNAL_SYNC=commit})
     */
    public static Journal open(Path path, boolean sync) throws IOException {
        return open(path, sync, UnaryOperator.identity());
    }

    /** As {@link #open(Path, boolean)}, through {@code channels}: tests wrap the file's channel in one that fails when told. */
    static Journal open(Path path, boolean sync, UnaryOperator<FileChannel> channels) throws IOException {
        FileChannel ch = channels.apply(FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
        try {
            Journal j = new Journal(path, ch, sync);
            long size = ch.size();
            byte[] magic = new byte[HEADER_V1];
            ByteBuffer head = ByteBuffer.allocate(HEADER);
            if (size >= HEADER_V1) {
                head.limit((int) Math.min(HEADER, size));
                readFully(ch, head, 0);
                head.get(0, magic);
            }
            // A file shorter than a header, or whose header is zeros, was cut short while it was made
            // (or, in this version, before its header was whole): it holds no record, and starts over.
            boolean unmade = size < HEADER_V1 || (java.util.Arrays.equals(magic, new byte[HEADER_V1]) && size <= 2 * CHUNK)
                    || (java.util.Arrays.equals(magic, MAGIC) && size < HEADER);
            if (unmade) {
                j.allocated = size;
                j.startOver();
            } else {
                if (java.util.Arrays.equals(magic, MAGIC_V1)) {
                    j.headerLength = HEADER_V1;
                    j.firstVersion = true;
                    j.allocated = size;
                } else if (java.util.Arrays.equals(magic, MAGIC)) {
                    j.headerLength = HEADER;
                    j.setGeneration(head.getLong(HEADER_V1));
                    j.allocated = size;
                } else {
                    throw new IOException(path + " is not a Parley journal (or one of a newer version); refusing to overwrite it");
                }
                j.end = j.scan(null, null);
            }
            if (sync) {
                // A synced record is worth nothing in a file whose own name a power cut can take back:
                // the file (perhaps just made) and its directory entry reach the disk once, here.
                ch.force(true);
                syncDirectory(path.toAbsolutePath().getParent());
            }
            return j;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** Whether each append is forced to the disk before it returns. */
    public boolean syncs() {
        return sync;
    }

    /** How many appends were forced to the disk since the journal was opened: 0 unless {@link #syncs}. */
    public long forces() {
        return forces;
    }

    /** Bytes of records since the last {@link #clear}. */
    public long size() {
        return end - headerLength;
    }

    /** How many new headers were synced before their generation's first record. */
    long headerSyncs() {
        return headerSyncs;
    }

    /** Where the next record goes: the file's offset just past the last whole record. */
    long end() {
        return end;
    }

    /**
     * Hands each whole record's messages to {@code batch}, in the order they were appended, and
     * returns how many messages there were. Stops at the first place that holds no whole record of
     * the header's generation: the zeros ahead of the records, an earlier generation's records, or
     * a record cut short by a crash before its commit was acknowledged. (Without a sync per commit a
     * power cut can keep a later record's pages and lose an earlier one's; the replay then stops at
     * the earlier one.) Appending after a replay without a {@link #clear}, as tests do, writes over
     * what it stopped at; {@link #recover} always begins a new generation first.
     */
    public long replay(Consumer<List<Message>> batch) throws IOException {
        return replay(batch, marks -> {});
    }

    /** As {@link #replay(Consumer)}, also handing each record's read markers to {@code marks} after its messages. */
    public long replay(Consumer<List<Message>> batch, Consumer<List<Mark>> marks) throws IOException {
        long[] messages = {0};
        end = scan(decoded -> {
            batch.accept(decoded);
            messages[0] += decoded.size();
        }, marks);
        return messages[0];
    }

    /**
     * Reads the records from the header on, handing each to {@code batch} and {@code marks} when they
     * are not null, and returns the offset just past the last whole one, where the next append goes.
     * A first-version file is cut there; in this version what follows (zeros, a record cut short, an
     * earlier generation's records) stays, and fails the checks of a later replay as it did this one.
     */
    private long scan(Consumer<List<Message>> batch, Consumer<List<Mark>> marks) throws IOException {
        long pos = headerLength;
        long size = channel.size();
        ByteBuffer head = ByteBuffer.allocate(RECORD_HEADER);
        while (pos + RECORD_HEADER <= size) {
            head.clear();
            readFully(channel, head, pos);
            int length = head.getInt(0);
            int sum = head.getInt(4);
            if (length == 0 && sum == 0) break; // the zeros ahead of the records
            if (length < 4 || length > MAX_RECORD || pos + RECORD_HEADER + length > size) break;
            ByteBuffer payload = ByteBuffer.allocate(length);
            readFully(channel, payload, pos + RECORD_HEADER);
            if (checksum(payload.array(), 0, length) != sum) break;
            if (batch != null) {
                List<Mark> markers = new ArrayList<>();
                List<Message> decoded = JournalRecords.decode(payload, markers);
                batch.accept(decoded);
                if (!markers.isEmpty()) marks.accept(markers);
            }
            pos += RECORD_HEADER + length;
        }
        if (firstVersion && pos < size) {
            log.warn("journal {}: dropping {} bytes after the last whole record (a write cut short by a crash)", path, size - pos);
            channel.truncate(pos);
            allocated = pos;
        }
        return pos;
    }

    /**
     * Appends one record. When this returns the record is on the disk if the journal {@link #syncs},
     * else in the operating system's hands. On a failure (of the write or of the sync) the record's
     * length is zeroed (in a first-version file, the file is cut back to its last whole record), so
     * that a record written whole but not known to be on the disk is not replayed if nothing is
     * appended after it, and the caller fails the commit: a record whose sync failed may not be on
     * the disk, so its messages must not be acknowledged.
     */
    public void append(List<Message> messages) throws IOException {
        append(messages, List.of(), true);
    }

    /**
     * Appends one record of messages and read markers. Without {@code force} the record is not
     * synced even if the journal {@link #syncs}: the next forced append, or {@link #force}, syncs it
     * with everything before it. So read markers can wait for the sync of the messages' next commit
     * instead of costing a sync of their own.
     */
    public void append(List<Message> messages, List<Mark> marks, boolean force) throws IOException {
        if (broken != null) {
            // A clear failed and could not put the old header back; the database held every record
            // then, so a new generation may begin now, or the commit fails as the clear did. Before
            // the encoding: the record's checksum covers the generation it is written in.
            startOver();
        }
        ByteBuffer b = encode(messages, marks);
        long at = end;
        try {
            if (!firstVersion && at + b.remaining() > allocated) grow(at + b.remaining());
            while (b.hasRemaining()) at += channel.write(b, at);
            // The data, and the file's length when it grew (fdatasync): what a replay after a power cut reads.
            if (sync && force) syncRecords();
        } catch (IOException e) {
            try {
                if (firstVersion) channel.truncate(end);
                else writeAt(ByteBuffer.allocate(RECORD_HEADER), end);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        lastRecordAt = end;
        end = at;
        if (firstVersion) allocated = Math.max(allocated, at);
    }

    /**
     * Takes back the last record appended: the commit it was written for failed, so its messages
     * were not stored and must not be replayed. The writer calls it before anything else is appended.
     * Synced if the journal syncs.
     *
     * @throws IllegalStateException if there is no record to take back (none since the last clear or retract)
     */
    void retract() throws IOException {
        if (lastRecordAt < 0) throw new IllegalStateException("no record to take back");
        if (firstVersion) {
            channel.truncate(lastRecordAt);
            allocated = lastRecordAt;
        } else {
            writeAt(ByteBuffer.allocate(RECORD_HEADER), lastRecordAt);
        }
        // Zeroed (or cut) in the file: the next record goes in its place even if the sync fails, or
        // it would sit behind the zeroed length, where no replay reaches it.
        end = lastRecordAt;
        lastRecordAt = -1;
        if (sync) channel.force(false);
    }

    /** Syncs every record appended so far, if the journal {@link #syncs}. */
    public void force() throws IOException {
        if (sync) syncRecords();
    }

    /** Syncs the records to the disk, timed for {@link #onSync} and counted in {@link #forces}. */
    private void syncRecords() throws IOException {
        long began = System.nanoTime();
        channel.force(false);
        syncTimes.accept(System.nanoTime() - began);
        forces++;
    }

    /**
     * Tells {@code nanos} how long each sync of records takes (not the header's of a new generation):
     * the disk's own share of an ack's wait, which on a slow virtual disk makes the tail (BENCHMARKS.md entry 62).
     */
    public void onSync(LongConsumer nanos) {
        syncTimes = Objects.requireNonNull(nanos, "nanos");
    }

    /**
     * Forgets every record: call once the database has written all of them itself. A new generation
     * begins. On a failure the journal keeps its records and generation; if its old header could
     * not be put back either, the next append tries the clear again before it writes.
     */
    public void clear() throws IOException {
        startOver();
    }

    /** Writes the header of a new generation, then makes sure zeros lie ahead of the records. */
    private void startOver() throws IOException {
        long next;
        do next = GENERATIONS.nextLong(); while (next == 0 || next == generation);
        // What to put back if the new header fails: the header as it is (for a first-version file
        // with the start of its first record). Once broken, what is on the disk is not to be trusted.
        ByteBuffer old = null;
        if (broken == null && allocated >= HEADER) {
            old = ByteBuffer.allocate(HEADER);
            readFully(channel, old, 0);
        }
        try {
            writeAt(ByteBuffer.allocate(HEADER).put(MAGIC).putLong(next).flip(), 0);
            // Synced before any record of the generation: else a power cut could leave records of the
            // new generation behind the old header.
            if (sync) {
                channel.force(false);
                headerSyncs++;
            }
        } catch (IOException e) {
            if (old == null) {
                broken = e;
            } else {
                try {
                    writeAt(old, 0);
                } catch (IOException again) {
                    e.addSuppressed(again);
                    broken = e;
                }
            }
            throw e;
        }
        broken = null;
        lastRecordAt = -1;
        setGeneration(next);
        firstVersion = false;
        headerLength = HEADER;
        end = HEADER;
        allocated = Math.max(allocated, HEADER);
        // The journal is emptied from here on; what follows only tidies it, and a failure is not the clear's.
        try {
            tidy();
        } catch (IOException e) {
            log.warn("journal {}: emptied, but laying zeros ahead of its records failed (the next append tries again): {}", path, e.toString());
        }
    }

    private void tidy() throws IOException {
        // Zero the first record's place. A replay does not need it (what an earlier generation left
        // there fails its checksum), but `bench load`, which does not link this class, reads an empty
        // journal by it.
        writeAt(ByteBuffer.allocate(RECORD_HEADER), HEADER);
        allocated = Math.max(allocated, HEADER + RECORD_HEADER);
        // A file grown far past a chunk (checkpoints that kept failing) is cut back, never below its header.
        if (allocated > KEEP) {
            channel.truncate(HEADER + CHUNK);
            allocated = HEADER + CHUNK;
        }
        if (allocated < HEADER + CHUNK) grow(HEADER + CHUNK);
    }

    private void writeAt(ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) at += channel.write(b, at);
    }

    /** Fills the file with zeros from its end until it is at least {@code needed} long, a chunk at a time. */
    private void grow(long needed) throws IOException {
        long target = allocated;
        while (target < needed) target += CHUNK;
        long at = allocated;
        while (at < target) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit((int) Math.min(z.capacity(), target - at));
            at += channel.write(z, at);
        }
        allocated = target;
    }

    private void setGeneration(long g) {
        generation = g;
        ByteBuffer.wrap(generationBytes).putLong(g);
    }

    /** The record checksum: over the generation's bytes, then the payload (the payload alone in a first-version file). */
    private int checksum(byte[] payload, int offset, int length) {
        crc.reset();
        if (!firstVersion) crc.update(generationBytes, 0, 8);
        crc.update(payload, offset, length);
        return (int) crc.getValue();
    }

    /**
     * Has the database write everything committed, then forgets every record: the journal may only
     * be emptied once the database holds all of it on its own.
     */
    void clearOnceWritten(Database db, Connection c) throws SQLException, IOException {
        // A synced journal is emptied only once H2's file is synced too, or a power cut could take back
        // both the pages H2 wrote and the records that held them.
        if (!db.persist(c, sync)) throw new SQLException("the database cannot be told to write its pages now");
        clear();
    }

    /**
     * Stores what the journal holds and the database lacks: the commits of the last half second or so
     * before a crash, which H2 had not written yet; then has the database write everything and
     * empties the journal. A message already stored (same room and seq) is skipped, so a journal that
     * was not emptied before a clean stop replays to no effect.
     */
    void recover(Database db) {
        List<Message> messages = new ArrayList<>();
        List<Mark> marks = new ArrayList<>();
        try {
            replay(messages::addAll, marks::addAll);
        } catch (IOException e) {
            throw new StoreException("could not read the journal " + path, e);
        }
        if (messages.isEmpty() && marks.isEmpty()) {
            // Nothing to restore: a new generation still begins, so that nothing a crash left after the
            // last whole record can be read as this run's, and a first-version file is rewritten in this one.
            try {
                clear();
            } catch (IOException e) {
                throw new StoreException("could not empty the journal " + path, e);
            }
            return;
        }
        // A seq held twice was taken again: the commit of the first record failed after it was written
        // (GroupCommitWriter.commit), and its rollback gave the seq back. The later record is the one
        // stored and acknowledged; put back first, the earlier one would take its place.
        Map<String, Message> bySeq = new LinkedHashMap<>();
        for (Message m : messages) {
            String key = m.room() + '\u0000' + m.seq();
            bySeq.remove(key);
            bySeq.put(key, m);
        }
        int restored = 0;
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try (PreparedStatement room = c.prepareStatement(SqlDialect.INSERT_ROOM);
                 PreparedStatement first = c.prepareStatement("SELECT first_seq FROM rooms WHERE name = ?");
                 PreparedStatement insert = c.prepareStatement(SqlDialect.INSERT_MESSAGE + " ON CONFLICT DO NOTHING");
                 PreparedStatement stale = c.prepareStatement("SELECT seq FROM messages WHERE room = ? AND sender = ? AND client_id = ? AND seq < ?");
                 PreparedStatement bump = c.prepareStatement("UPDATE rooms SET last_seq = GREATEST(last_seq, ?) WHERE name = ?")) {
                for (Message m : bySeq.values()) {
                    room.setString(1, m.room());
                    room.setLong(2, m.tsMillis());
                    room.executeUpdate();
                    // A room deleted since: what it had before its deletion stays gone.
                    first.setString(1, m.room());
                    long firstSeq = 0;
                    try (var rs = first.executeQuery()) {
                        if (rs.next()) firstSeq = rs.getLong(1);
                    }
                    if (m.seq() < firstSeq) continue;
                    SqlDialect.bindMessage(insert, m);
                    if (insert.executeUpdate() == 0) {
                        // Stored already; or its (sender, clientId) is held by a row of history the
                        // room no longer has (a deleted room's, which the crash kept from its purge):
                        // the writer deleted that row when it stored this message (WriterSession.existing).
                        stale.setString(1, m.room());
                        stale.setString(2, m.from());
                        stale.setString(3, m.clientId());
                        stale.setLong(4, firstSeq);
                        long staleSeq = -1;
                        if (firstSeq > 0) {
                            try (var rs = stale.executeQuery()) {
                                if (rs.next()) staleSeq = rs.getLong(1);
                            }
                        }
                        // With its reactions, as the writer deletes it (every table keyed by seq).
                        if (staleSeq < 0 || RetentionStore.deleteRange(c, m.room(), staleSeq, staleSeq + 1) == 0 || insert.executeUpdate() == 0) continue;
                    }
                    restored++;
                    bump.setLong(1, m.seq());
                    bump.setString(2, m.room());
                    bump.executeUpdate();
                }
                // After the messages, as they were committed: a marker never points past its room's last seq.
                // A marker of a room that is gone, or of one deleted since and made again under its
                // name, is not put back: the deletion took it (ReadMarkers.raiseIfCurrent).
                for (Mark k : marks) ReadMarkers.raiseIfCurrent(c, k.userKey(), k.room(), k.seq());
            }
            c.commit();
            clearOnceWritten(db, c);
        } catch (SQLException | IOException e) {
            throw new StoreException("could not restore the journal " + path + " into the database", e);
        }
        log.info("journal {}: {} messages, {} of them restored to the database; {} read markers", path, messages.size(), restored, marks.size());
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private ByteBuffer encode(List<Message> messages, List<Mark> marks) {
        ByteBuffer b = records.encode(messages, marks, RECORD_HEADER);
        int length = b.position() - RECORD_HEADER;
        b.putInt(0, length);
        b.putInt(4, checksum(b.array(), RECORD_HEADER, length));
        b.flip();
        return b;
    }

    /** Forces a directory's entries (a file made in it) to the disk, where the platform can. */
    private static void syncDirectory(Path dir) {
        if (dir == null) return;
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Windows cannot open a directory this way (its file systems keep their metadata in a
            // journal of their own): nothing more can be done from Java.
            log.debug("cannot sync the directory {}: {}", dir, e.toString());
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, at);
            if (n < 0) throw new IOException("unexpected end of journal");
            at += n;
        }
        b.flip();
    }
}
