package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.agrona.IoUtil;

/**
 * A memory-mapped file of fixed-size entries sorted by a key, the base of {@link OffsetIndex} and
 * {@link TimeIndex}, following Kafka's index format.
 *
 * <p>An active index (the one of the segment being appended to) is preallocated to {@code
 * maxIndexBytes} and stays mapped; when its segment rolls or the log closes it is trimmed to {@code
 * entries * entrySize}, so an inactive index file holds exactly its entries. An inactive index may
 * be unmapped by the {@link IndexMemoryBudget} and is remapped on its next lookup.
 *
 * <p>Thread-safety: one appender (the log's append lock) and any number of concurrent lookups.
 * Every access to the mapping holds the read lock, and unmapping takes the write lock, so a lookup
 * never touches memory that has been unmapped. The entry count is volatile and written after the
 * entry bytes, so a lookup sees only complete entries.
 *
 * <p>Disk blocks: the preallocated tail is a hole in a sparse file, and a store into a mapped hole
 * that the file system cannot back (disk full) kills the JVM with SIGBUS. So before an append the
 * log calls {@link #reserve}, which writes zeros through the file, {@value #ALLOCATION_CHUNK} bytes
 * at a time, ahead of the entries: a full disk is then an {@link IOException} before anything is
 * written, never a signal.
 *
 * <p>Native hints ({@link NativeMemory}) follow the mapping: each mapping is advised {@code
 * WILLNEED} over its written entries, and the mapping of an active index is {@code mlock}ed (within
 * {@code index.mlock.max.bytes}) until it is unmapped, which deactivation, eviction and close all
 * do. The hints run under the write lock, so the region is mapped while they run.
 */
abstract class MappedIndex implements AutoCloseable {
  /** Bytes of disk blocks allocated at a time ahead of the entries. */
  static final int ALLOCATION_CHUNK = 64 << 10;

  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(ALLOCATION_CHUNK);

  protected final long baseOffset;
  private final int entrySize;
  private final Path file;
  private final IndexMemoryBudget budget;
  private final NativeMemory nativeMemory;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  private MappedByteBuffer mmap; // guarded by lock
  private long mappedBytes; // guarded by lock
  private long lockedBytes; // guarded by lock
  private boolean closed; // guarded by lock
  private long allocatedBytes; // file bytes backed by disk blocks; appender only
  private volatile int entries;
  private volatile int maxEntries;
  private volatile boolean active;
  private volatile long lastAccessNanos = System.nanoTime();

  /**
   * Opens or creates the index file. An existing file's entry count is its length divided by the
   * entry size; {@link #sanityCheck} tells whether those entries can be trusted.
   */
  MappedIndex(
      Path file,
      long baseOffset,
      int entrySize,
      int maxIndexBytes,
      boolean active,
      IndexMemoryBudget budget)
      throws IOException {
    this.file = file;
    this.baseOffset = baseOffset;
    this.entrySize = entrySize;
    this.budget = budget;
    this.nativeMemory = budget.nativeMemory();
    this.active = active;
    final long existing = Files.exists(file) ? Files.size(file) : 0;
    this.entries = (int) (existing / entrySize);
    this.allocatedBytes = (long) entries * entrySize;
    final long length = active ? Math.max(fileLengthFor(maxIndexBytes), existing) : existing;
    budget.register(this);
    try {
      map(length);
    } catch (IOException | RuntimeException e) {
      budget.unregister(this, 0);
      throw e;
    }
  }

  /** The key of entry {@code n}; entries are sorted by it. */
  protected abstract long keyAt(MappedByteBuffer mmap, int n);

  public Path file() {
    return file;
  }

  public long baseOffset() {
    return baseOffset;
  }

  public int entries() {
    return entries;
  }

  public int maxEntries() {
    return maxEntries;
  }

  /** Whether no more entries fit (one slot stays free for the entry written at roll). */
  public boolean isFull() {
    return entries >= maxEntries - 1;
  }

  public boolean isActive() {
    return active;
  }

  long lastAccessNanos() {
    return lastAccessNanos;
  }

  /** Bytes of the mapping locked in memory, 0 when none. */
  long lockedBytes() {
    lock.readLock().lock();
    try {
      return lockedBytes;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Bytes currently mapped, 0 when unmapped. */
  long mappedBytes() {
    lock.readLock().lock();
    try {
      return mappedBytes;
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Returns the mapping with the read lock held, remapping it first if the budget unmapped it. The
   * caller must call {@link #release()} in a {@code finally} block. Returns null (lock not held)
   * when the index has been closed.
   */
  protected final MappedByteBuffer acquire() {
    while (true) {
      lock.readLock().lock();
      if (mmap != null) {
        lastAccessNanos = System.nanoTime();
        return mmap;
      }
      final boolean isClosed = closed;
      lock.readLock().unlock();
      if (isClosed) {
        return null;
      }
      remap();
    }
  }

  protected final void release() {
    lock.readLock().unlock();
  }

  /**
   * Slot of the largest entry whose key is at most {@code key}, or -1 if every entry is larger or
   * the index is empty. The caller holds the mapping from {@link #acquire()}.
   */
  protected final int largestSlotAtMost(MappedByteBuffer map, long key) {
    int lo = 0;
    int hi = entries - 1;
    if (hi < 0 || keyAt(map, 0) > key) {
      return -1;
    }
    while (lo < hi) {
      final int mid = (lo + hi + 1) >>> 1;
      if (keyAt(map, mid) <= key) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** Publishes one more entry after the caller wrote its bytes at slot {@link #entries()}. */
  protected final void publishEntry() {
    entries = entries + 1;
  }

  /** Drops every entry from slot {@code n} on; used by truncation and recovery. */
  protected final void truncateToEntries(int n) {
    if (n < 0 || n > entries) {
      throw new IllegalArgumentException("cannot truncate " + file + " to " + n + " entries");
    }
    entries = n;
  }

  /** Removes all entries, for a rebuild during recovery. */
  public void reset() {
    truncateToEntries(0);
  }

  /** Trims the file to its entries: the segment stopped being the active one. */
  public void deactivate() throws IOException {
    active = false;
    resize((long) entries * entrySize);
    // The trimmed length and the entries written through the old mapping reach the disk now, so
    // that a clean shutdown's marker never vouches for an index the page cache still held.
    if (Files.exists(file)) {
      Fsync.file(file);
    }
  }

  /** Grows the file back to {@code maxIndexBytes}: a truncation made this segment active again. */
  public void activate(int maxIndexBytes) throws IOException {
    active = true;
    resize(Math.max(fileLengthFor(maxIndexBytes), (long) entries * entrySize));
  }

  /**
   * Makes sure disk blocks back the next {@code moreEntries} entries (as far as the mapping goes),
   * writing zeros ahead of the entries when they do not. Called by the appender before it writes
   * anything else, so a full disk fails the append cleanly.
   *
   * @throws IOException if the file system cannot allocate the blocks (disk full)
   */
  public void reserve(int moreEntries) throws IOException {
    final long needed = Math.min((long) (entries + moreEntries) * entrySize, mappedBytes());
    if (needed <= allocatedBytes) {
      return;
    }
    final long target =
        Math.min(Math.max(needed, allocatedBytes + ALLOCATION_CHUNK), mappedBytes());
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      for (long at = allocatedBytes; at < target; ) {
        final ByteBuffer zeros =
            ZEROS.duplicate().limit((int) Math.min(ALLOCATION_CHUNK, target - at));
        at += channel.write(zeros, at);
      }
    } catch (IOException e) {
      throw new IOException(
          "cannot allocate disk blocks for index " + file + " (disk full?): " + e.getMessage(), e);
    }
    allocatedBytes = target;
  }

  public void flush() {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      return;
    }
    try {
      map.force();
    } finally {
      release();
    }
  }

  /**
   * Unmaps this index if it is inactive, mapped and not in use right now. Called by the budget;
   * never blocks.
   *
   * @return bytes unmapped, 0 if it was skipped
   */
  long tryUnmap() {
    if (active || !lock.writeLock().tryLock()) {
      return 0;
    }
    try {
      if (active || mmap == null) {
        return 0;
      }
      return unmapLocked();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Trims an active index and unmaps it; lookups after this find no entries. */
  @Override
  public void close() throws IOException {
    if (active) {
      deactivate();
    }
    long freed;
    lock.writeLock().lock();
    try {
      closed = true;
      freed = mmap == null ? 0 : unmapLocked();
    } finally {
      lock.writeLock().unlock();
    }
    budget.unregister(this, freed);
  }

  /** Closes the index and deletes its file. */
  public void delete() throws IOException {
    close();
    Files.deleteIfExists(file);
  }

  private long fileLengthFor(int maxIndexBytes) {
    return (long) (maxIndexBytes / entrySize) * entrySize;
  }

  private void resize(long length) throws IOException {
    long freed;
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      freed = mmap == null ? 0 : unmapLocked();
      budget.unmapped(freed);
      mapLocked(length);
    } finally {
      lock.writeLock().unlock();
    }
    budget.mapped(this, length);
  }

  private void remap() {
    long length;
    lock.writeLock().lock();
    try {
      if (closed || mmap != null) {
        return;
      }
      length = Files.size(file);
      mapLocked(length);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot remap index " + file, e);
    } finally {
      lock.writeLock().unlock();
    }
    budget.remapped(this, length);
  }

  private void map(long length) throws IOException {
    lock.writeLock().lock();
    try {
      mapLocked(length);
    } finally {
      lock.writeLock().unlock();
    }
    budget.mapped(this, length);
  }

  private void mapLocked(long length) throws IOException {
    try (FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (channel.size() != length) {
        if (channel.size() > length) {
          channel.truncate(length);
        } else {
          // Extend by writing the last byte: the file stays sparse until entries are written.
          channel.write(ByteBuffer.allocate(1), length - 1);
        }
      }
      mmap = channel.map(FileChannel.MapMode.READ_WRITE, 0, length);
      mappedBytes = length;
      allocatedBytes = Math.min(allocatedBytes, length);
      maxEntries = (int) (length / entrySize);
      if (!active) {
        maxEntries = Math.max(maxEntries, entries);
      }
    }
    // Only written entries can need a disk read; the preallocated tail is a hole.
    nativeMemory.willNeed(mmap, Math.min(length, (long) entries * entrySize));
    if (active) {
      lockedBytes = nativeMemory.lock(mmap, length);
    }
  }

  private long unmapLocked() {
    final long freed = mappedBytes;
    nativeMemory.unlock(mmap, lockedBytes);
    lockedBytes = 0;
    IoUtil.unmap(mmap);
    mmap = null;
    mappedBytes = 0;
    return freed;
  }
}
