package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Streams the batches of a segment file through one bounded, reused heap buffer, so that the
 * cleaner needs no more heap for a 1 GiB segment than for a small one (Kafka's cleaner reads
 * through its {@code log.cleaner.io.buffer.size} buffers the same way).
 *
 * <pre>
 *   file:    | batch | batch | batch | batch | batch |
 *   buffer:          [ tail of a | whole | head of a ]   refilled from where the last whole batch
 *                                                        ends; a batch larger than the buffer gets
 *                                                        a buffer of its own size, once
 * </pre>
 *
 * <p>The visitor sees each batch as a {@link RecordBatch} over the buffer; the bytes are valid only
 * during the call. Not thread-safe: one instance per cleaning pass.
 */
final class SegmentBatchReader {
  /** Receives each batch; returns false to stop the walk. */
  interface Visitor {
    boolean visit(ByteBuffer buffer, int position, RecordBatch batch) throws IOException;
  }

  private final ByteBuffer standard;
  private final RecordBatch batch = new RecordBatch();
  private ByteBuffer buffer;

  SegmentBatchReader(int capacity) {
    this.standard = ByteBuffer.allocate(Math.max(capacity, RecordBatch.HEADER_SIZE));
    this.buffer = standard;
  }

  /**
   * Calls {@code visitor} for every batch of the first {@code size} bytes of {@code channel}, in
   * file order, until it returns false.
   *
   * @throws IOException when the file ends inside a batch or a batch length is impossible
   */
  void forEachBatch(FileChannel channel, int size, Visitor visitor) throws IOException {
    buffer.clear().limit(0);
    long bufferStart = 0; // file position of buffer index 0
    int position = 0;
    try {
      while (bufferStart + position < size) {
        final long filePosition = bufferStart + position;
        if (buffer.limit() - position < RecordBatch.LOG_OVERHEAD) {
          bufferStart = refill(channel, size, bufferStart, position, RecordBatch.LOG_OVERHEAD);
          position = 0;
        }
        final int batchSize =
            RecordBatch.LOG_OVERHEAD + buffer.getInt(position + RecordBatch.BATCH_LENGTH_OFFSET);
        if (batchSize < RecordBatch.HEADER_SIZE || filePosition + batchSize > size) {
          throw new IOException(
              "batch of "
                  + batchSize
                  + " bytes at position "
                  + filePosition
                  + " of a segment of "
                  + size
                  + " bytes: the segment is corrupt");
        }
        if (buffer.limit() - position < batchSize) {
          bufferStart = refill(channel, size, bufferStart, position, batchSize);
          position = 0;
        }
        batch.wrap(buffer, position);
        if (!visitor.visit(buffer, position, batch)) {
          return;
        }
        position += batchSize;
      }
    } finally {
      buffer = standard; // a buffer grown for one large batch is dropped
    }
  }

  /**
   * Moves the unread bytes from {@code position} to the buffer's start and reads after them, at
   * least {@code needed} bytes in all (growing the buffer when it is smaller).
   *
   * @return the file position of the buffer's start
   */
  private long refill(FileChannel channel, int size, long bufferStart, int position, int needed)
      throws IOException {
    final long start = bufferStart + position;
    if (size - start < needed) {
      throw new IOException(
          "segment of " + size + " bytes ends inside the batch at position " + start);
    }
    if (buffer.capacity() < needed) {
      final ByteBuffer larger = ByteBuffer.allocate(needed);
      larger.put(buffer.duplicate().position(position).limit(buffer.limit()));
      buffer = larger;
    } else {
      buffer.position(position).compact(); // compact() leaves the position after the moved bytes
    }
    buffer.limit((int) Math.min(buffer.capacity(), size - start));
    while (buffer.position() < needed) {
      if (channel.read(buffer, start + buffer.position()) < 0) {
        throw new IOException(
            "segment ended at " + (start + buffer.position()) + " before " + size);
      }
    }
    // Read on while the buffer has room and the segment has bytes, so refills stay rare.
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, start + buffer.position()) <= 0) {
        break;
      }
    }
    buffer.flip();
    return start;
  }
}
