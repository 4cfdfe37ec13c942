package dev.parley.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.function.LongPredicate;

/**
 * A file's channel that fails the writes and syncs it is told to, and passes everything else to
 * the real one: the disk faults a test cannot make a real file have. A failed write writes nothing.
 */
final class FaultyChannel extends FileChannel {
    private final FileChannel real;
    private LongPredicate failWritesAt = at -> false;
    private int writesToPass;
    private int writesToFail;
    private int forcesToFail;
    private Runnable beforeForce;

    FaultyChannel(FileChannel real) {
        this.real = real;
    }

    /** The next {@code times} positional writes that begin where {@code where} says fail. */
    void failWrites(LongPredicate where, int times) {
        failWrites(where, 0, times);
    }

    /** Of the positional writes that begin where {@code where} says, the first {@code pass} succeed and the next {@code times} fail. */
    void failWrites(LongPredicate where, int pass, int times) {
        failWritesAt = where;
        writesToPass = pass;
        writesToFail = times;
    }

    /** The next {@code times} syncs fail (after the data may or may not have reached the disk). */
    void failForces(int times) {
        forcesToFail = times;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        if (writesToFail > 0 && failWritesAt.test(position) && writesToPass-- <= 0) {
            writesToFail--;
            throw new IOException("injected: write at " + position + " failed");
        }
        return real.write(src, position);
    }

    /** Runs {@code action} once, at the next sync, before it: what else fails while the disk syncs. */
    void beforeNextForce(Runnable action) {
        beforeForce = action;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        Runnable action = beforeForce;
        beforeForce = null;
        if (action != null) action.run();
        if (forcesToFail > 0) {
            forcesToFail--;
            throw new IOException("injected: sync failed");
        }
        real.force(metaData);
    }

    // --- the rest as the real channel does it (the journal writes only at a position) ---

    @Override
    public int write(ByteBuffer src) {
        throw new UnsupportedOperationException("the journal writes at a position");
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new UnsupportedOperationException("the journal writes at a position");
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return real.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return real.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return real.read(dst, position);
    }

    @Override
    public long position() throws IOException {
        return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        real.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return real.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        real.truncate(size);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return real.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        return real.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return real.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return real.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        real.close();
    }
}
