package io.skiff.log;

import java.nio.ByteBuffer;
import org.agrona.collections.Object2LongHashMap;

/**
 * The cleaner's map from record key to the offset of the latest record with that key in the dirty
 * section of a log, the way Kafka's {@code SkimpyOffsetMap} is; keys are copied (Kafka keeps an MD5
 * hash of each) so that a key equal by bytes is one entry however it was read.
 *
 * <p>Not thread-safe: one instance per cleaning pass.
 */
final class CleanerOffsetMap {
  private static final long MISSING = -1L;

  private final Object2LongHashMap<ByteBuffer> latest = new Object2LongHashMap<>(MISSING);

  /** Records that the record at {@code offset} holds {@code key} (bytes from position to limit). */
  void put(ByteBuffer key, long offset) {
    final ByteBuffer copy = ByteBuffer.allocate(key.remaining()).put(key.duplicate()).flip();
    final long previous = latest.getValue(copy);
    if (offset > previous) {
      latest.put(copy, offset);
    }
  }

  /** The offset of the latest record with {@code key}, or -1 if the dirty section has none. */
  long latestOffset(ByteBuffer key) {
    return latest.getValue(key);
  }

  int size() {
    return latest.size();
  }
}
