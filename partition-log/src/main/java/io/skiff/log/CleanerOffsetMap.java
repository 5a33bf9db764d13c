package io.skiff.log;

import java.nio.ByteBuffer;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The cleaner's map from record key to the offset of the latest record with that key in the dirty
 * section of a log, in a fixed memory budget, the way Kafka's {@code SkimpyOffsetMap} is: each key
 * is kept as its 16-byte MD5 digest next to an 8-byte offset, so an entry costs 24 bytes however
 * long the key, and the map never holds more than {@code log.cleaner.dedupe.buffer.size} bytes.
 *
 * <pre>
 *   slot i := digestHigh int64 | digestLow int64 | offset int64    (offset -1: free)
 *   table  := slot 0 | slot 1 | ... | slot n-1      open addressing, linear probing
 * </pre>
 *
 * <p>The table starts small and doubles up to the budget, so a small dirty section takes little
 * heap. At most {@link #LOAD_FACTOR} of the budget's slots are filled (Kafka's {@code
 * log.cleaner.io.buffer.load.factor}); the cleaner asks {@link #hasRoomFor} before mapping a batch
 * and stops the pass there when the answer is no, to go on in the next pass. Two keys with the same
 * digest are one entry (as in Kafka; a collision is astronomically unlikely and only makes the
 * cleaner keep or drop a record it would not otherwise, the same way on every replica).
 *
 * <p>Not thread-safe: one instance per cleaning pass.
 */
final class CleanerOffsetMap {
  /** Heap bytes of one entry: a 16-byte digest and an 8-byte offset. */
  static final int BYTES_PER_ENTRY = 24;

  static final double LOAD_FACTOR = 0.9;

  private static final int LONGS_PER_SLOT = 3;
  private static final int INITIAL_SLOTS = 1024;
  private static final long FREE = -1L;

  private final int maxSlots;
  private final int maxEntries;
  private final MessageDigest md5;
  private final byte[] digest = new byte[16];
  private final ByteBuffer digestView = ByteBuffer.wrap(digest);
  private long[] table;
  private int slots;
  private int size;

  /**
   * @param budgetBytes the most heap the table may take
   * @throws IllegalArgumentException when the budget holds not even one entry
   */
  CleanerOffsetMap(long budgetBytes) {
    maxSlots = (int) Math.min(budgetBytes / BYTES_PER_ENTRY, Integer.MAX_VALUE / LONGS_PER_SLOT);
    maxEntries = (int) (maxSlots * LOAD_FACTOR);
    if (maxEntries < 1) {
      throw new IllegalArgumentException(
          "a cleaner key map of " + budgetBytes + " bytes holds no key; raise it");
    }
    try {
      md5 = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no MD5, which every Java SE must have", e);
    }
    allocate(Math.min(INITIAL_SLOTS, maxSlots));
  }

  /** How many keys the map can hold at most, whatever their length. */
  int maxEntries() {
    return maxEntries;
  }

  /** Whether {@code records} more keys surely fit. */
  boolean hasRoomFor(int records) {
    return size + (long) records <= maxEntries;
  }

  /** Heap bytes the table takes now. */
  long heapBytes() {
    return (long) table.length * Long.BYTES;
  }

  /**
   * Records that the record at {@code offset} holds {@code key} (bytes from position to limit);
   * call it only when {@link #hasRoomFor} said yes for the batch.
   */
  void put(ByteBuffer key, long offset) {
    hash(key);
    final long high = digestView.getLong(0);
    final long low = digestView.getLong(8);
    int slot = find();
    if (table[slot * LONGS_PER_SLOT + 2] == FREE) {
      if (size + 1 > slots * LOAD_FACTOR && slots < maxSlots) {
        grow(); // rehashing reuses the digest view: put this key's digest back
        digestView.putLong(0, high).putLong(8, low);
        slot = find();
      }
      if (size >= maxEntries) {
        throw new IllegalStateException("the cleaner's key map is full; check hasRoomFor first");
      }
      final int at = slot * LONGS_PER_SLOT;
      table[at] = high;
      table[at + 1] = low;
      table[at + 2] = offset;
      size++;
    } else if (offset > table[slot * LONGS_PER_SLOT + 2]) {
      table[slot * LONGS_PER_SLOT + 2] = offset;
    }
  }

  /** The offset of the latest record with {@code key}, or -1 if the map has none. */
  long latestOffset(ByteBuffer key) {
    hash(key);
    return table[find() * LONGS_PER_SLOT + 2];
  }

  int size() {
    return size;
  }

  private void hash(ByteBuffer key) {
    md5.update(key.duplicate());
    try {
      md5.digest(digest, 0, digest.length);
    } catch (DigestException e) {
      throw new IllegalStateException("MD5 digest does not fit 16 bytes", e);
    }
  }

  /** The slot holding the current digest, or the free slot where it would go. */
  private int find() {
    final long high = digestView.getLong(0);
    final long low = digestView.getLong(8);
    int slot = (int) Long.remainderUnsigned(high ^ (low >>> 17), slots);
    while (true) {
      final int at = slot * LONGS_PER_SLOT;
      if (table[at + 2] == FREE || (table[at] == high && table[at + 1] == low)) {
        return slot;
      }
      slot = slot + 1 == slots ? 0 : slot + 1;
    }
  }

  private void allocate(int count) {
    slots = count;
    table = new long[count * LONGS_PER_SLOT];
    for (int at = 2; at < table.length; at += LONGS_PER_SLOT) {
      table[at] = FREE;
    }
  }

  private void grow() {
    final long[] old = table;
    allocate((int) Math.min((long) slots * 2, maxSlots));
    for (int at = 0; at < old.length; at += LONGS_PER_SLOT) {
      if (old[at + 2] != FREE) {
        digestView.putLong(0, old[at]).putLong(8, old[at + 1]);
        final int slot = find() * LONGS_PER_SLOT;
        table[slot] = old[at];
        table[slot + 1] = old[at + 1];
        table[slot + 2] = old[at + 2];
      }
    }
  }
}
