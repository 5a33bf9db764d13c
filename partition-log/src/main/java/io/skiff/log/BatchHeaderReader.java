package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads the fixed header of the batch at a file position into a reused direct buffer and exposes it
 * through a {@link RecordBatch} flyweight; only header fields are valid, the body is not read.
 *
 * <p>Not thread-safe: each thread uses its own instance through {@link #get()}, so scans of batch
 * headers allocate nothing.
 */
final class BatchHeaderReader {
  private static final ThreadLocal<BatchHeaderReader> PER_THREAD =
      ThreadLocal.withInitial(BatchHeaderReader::new);

  private final ByteBuffer header = ByteBuffer.allocateDirect(RecordBatch.HEADER_SIZE);
  private final RecordBatch batch = new RecordBatch();

  static BatchHeaderReader get() {
    return PER_THREAD.get();
  }

  /**
   * The header of the batch at {@code position}, or null if fewer than a header's bytes lie before
   * {@code end}. The flyweight is valid until the next call on this thread.
   */
  RecordBatch readAt(FileChannel channel, long position, long end) throws IOException {
    if (end - position < RecordBatch.HEADER_SIZE) {
      return null;
    }
    header.clear();
    while (header.hasRemaining()) {
      if (channel.read(header, position + header.position()) < 0) {
        return null;
      }
    }
    return batch.wrap(header, 0);
  }
}
