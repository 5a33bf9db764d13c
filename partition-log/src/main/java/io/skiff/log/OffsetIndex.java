package io.skiff.log;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * Sparse map from offset to file position within one segment, Kafka's {@code .index} format.
 *
 * <pre>
 *  entry n (8 bytes, big-endian), sorted by relative offset:
 *  +-------------------------------+-------------------------------+
 *  | relativeOffset (int32) @8n    | position (int32) @8n+4        |
 *  +-------------------------------+-------------------------------+
 *  relativeOffset = lastOffset of a batch - segment base offset
 *  position       = byte position of that batch in the segment's .log file
 * </pre>
 *
 * <p>An entry is added about every {@code log.index.interval.bytes} of appended batches. A lookup
 * gives the position of a batch at or before the wanted offset; the segment scans batch headers
 * forward from there. Thread-safety as in {@link MappedIndex}.
 */
public final class OffsetIndex extends MappedIndex {
  public static final int ENTRY_SIZE = 8;

  OffsetIndex(
      Path file, long baseOffset, int maxIndexBytes, boolean active, IndexMemoryBudget budget)
      throws IOException {
    super(file, baseOffset, ENTRY_SIZE, maxIndexBytes, active, budget);
  }

  @Override
  protected long keyAt(MappedByteBuffer mmap, int n) {
    return mmap.getInt(n * ENTRY_SIZE);
  }

  /**
   * Position of the last indexed batch whose last offset is at most {@code offset}; 0 (the segment
   * start) when there is none, which is always a safe place to start scanning.
   */
  public int lookup(long offset) {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      return 0;
    }
    try {
      final int slot = largestSlotAtMost(map, relative(offset));
      return slot < 0 ? 0 : map.getInt(slot * ENTRY_SIZE + 4);
    } finally {
      release();
    }
  }

  /** Adds an entry; {@code offset} must be larger than the last entry's. Appender only. */
  public void append(long offset, int position) {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      throw new IllegalStateException("index " + file() + " is closed");
    }
    try {
      final int n = entries();
      final int rel = relative(offset);
      if (n > 0 && rel <= map.getInt((n - 1) * ENTRY_SIZE)) {
        throw new IllegalArgumentException(
            "offset " + offset + " is not after the last entry of index " + file());
      }
      if (n >= maxEntries()) {
        throw new IllegalStateException("index " + file() + " is full at " + n + " entries");
      }
      map.putInt(n * ENTRY_SIZE, rel);
      map.putInt(n * ENTRY_SIZE + 4, position);
      publishEntry();
    } finally {
      release();
    }
  }

  /** Removes the entries of batches whose last offset is at or after {@code offset}. */
  public void truncateTo(long offset) {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      return;
    }
    try {
      truncateToEntries(
          offset <= baseOffset ? 0 : largestSlotAtMost(map, relative(offset) - 1) + 1);
    } finally {
      release();
    }
  }

  /**
   * Whether the entries can be trusted: relative offsets and positions strictly increase at the
   * tail and the last position lies inside a log file of {@code logSize} bytes.
   */
  public boolean sanityCheck(long logSize) {
    final MappedByteBuffer map = acquire();
    if (map == null) {
      return false;
    }
    try {
      final int n = entries();
      if (n == 0) {
        return true;
      }
      final int lastRel = map.getInt((n - 1) * ENTRY_SIZE);
      final int lastPos = map.getInt((n - 1) * ENTRY_SIZE + 4);
      if (lastRel < 0 || lastPos < 0 || lastPos >= logSize) {
        return false;
      }
      return n == 1
          || (lastRel > map.getInt((n - 2) * ENTRY_SIZE)
              && lastPos > map.getInt((n - 2) * ENTRY_SIZE + 4));
    } finally {
      release();
    }
  }

  private int relative(long offset) {
    final long rel = offset - baseOffset;
    return (int) Math.max(-1, Math.min(rel, Integer.MAX_VALUE));
  }
}
