package io.skiff.log;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * Sparse map from timestamp to offset within one segment, Kafka's {@code .timeindex} format.
 *
 * <pre>
 *  entry n (12 bytes, big-endian), sorted by timestamp and by offset:
 *  +---------------------------------------------------------------+
 *  | timestamp (int64) @12n                                        |
 *  +-------------------------------+-------------------------------+
 *  | relativeOffset (int32) @12n+8 |
 *  +-------------------------------+
 *  timestamp      = the largest batch max timestamp seen so far in the segment
 *  relativeOffset = base offset of the batch that carried it - segment base offset
 * </pre>
 *
 * <p>An entry is written with each offset index entry when the segment's largest timestamp grew,
 * and once more when the segment becomes inactive, so the last entry of an inactive segment holds
 * its exact largest timestamp. Thread-safety as in {@link MappedIndex}.
 */
public final class TimeIndex extends MappedIndex {
  public static final int ENTRY_SIZE = 12;

  TimeIndex(Path file, long baseOffset, int maxIndexBytes, boolean active, IndexMemoryBudget budget)
      throws IOException {
    super(file, baseOffset, ENTRY_SIZE, maxIndexBytes, active, budget);
  }

  @Override
  protected long keyAt(MappedByteBuffer mmap, int n) {
    return mmap.getLong(n * ENTRY_SIZE);
  }

  /**
   * The last entry whose timestamp is at most {@code timestamp}: a batch at or before the first
   * batch with a larger timestamp. {@code (-1, baseOffset)} when there is none.
   */
  public TimestampOffset lookup(long timestamp) {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      return new TimestampOffset(-1, baseOffset);
    }
    try {
      final int slot = largestSlotAtMost(map, timestamp);
      return slot < 0 ? new TimestampOffset(-1, baseOffset) : entryAt(map, slot);
    } finally {
      release();
    }
  }

  /** The last entry, or {@code (-1, baseOffset)} for an empty index. */
  public TimestampOffset lastEntry() {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      return new TimestampOffset(-1, baseOffset);
    }
    try {
      final int n = entries();
      return n == 0 ? new TimestampOffset(-1, baseOffset) : entryAt(map, n - 1);
    } finally {
      release();
    }
  }

  /**
   * Adds {@code (timestamp, offset)} if {@code timestamp} is larger than the last entry's.
   *
   * @param force write even into the slot kept free for the roll-time entry
   */
  public void maybeAppend(long timestamp, long offset, boolean force) {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      throw new IllegalStateException("index " + file() + " is closed");
    }
    try {
      final int n = entries();
      if (n > 0 && timestamp <= map.getLong((n - 1) * ENTRY_SIZE)) {
        return;
      }
      if (n >= maxEntries() || (!force && isFull())) {
        throw new IllegalStateException("time index " + file() + " is full at " + n + " entries");
      }
      map.putLong(n * ENTRY_SIZE, timestamp);
      map.putInt(n * ENTRY_SIZE + 8, (int) (offset - baseOffset));
      publishEntry();
    } finally {
      release();
    }
  }

  /** Removes entries that point at offsets at or after {@code offset}. */
  public void truncateTo(long offset) {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      return;
    }
    try {
      int n = entries();
      while (n > 0 && baseOffset + map.getInt((n - 1) * ENTRY_SIZE + 8) >= offset) {
        n--;
      }
      truncateToEntries(n);
    } finally {
      release();
    }
  }

  /** Whether the tail entries are ordered and point into {@code [baseOffset, nextOffset)}. */
  public boolean sanityCheck(long nextOffset) {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      return false;
    }
    try {
      final int n = entries();
      if (n == 0) {
        return true;
      }
      final TimestampOffset last = entryAt(map, n - 1);
      if (last.offset() < baseOffset || last.offset() >= Math.max(nextOffset, baseOffset + 1)) {
        return false;
      }
      if (n == 1) {
        return true;
      }
      final TimestampOffset prev = entryAt(map, n - 2);
      return last.timestamp() > prev.timestamp() && last.offset() >= prev.offset();
    } finally {
      release();
    }
  }

  private TimestampOffset entryAt(MappedByteBuffer map, int slot) {
    return new TimestampOffset(
        map.getLong(slot * ENTRY_SIZE), baseOffset + map.getInt(slot * ENTRY_SIZE + 8));
  }
}
