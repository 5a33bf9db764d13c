package io.skiff.log;

import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/** Builds record batches with Kafka's own client code, so tests exercise the real v2 format. */
public final class TestBatches {
  private TestBatches() {}

  /** One uncompressed batch of {@code records} records with {@code valueSize}-byte values. */
  public static ByteBuffer batch(long baseOffset, int records, int valueSize, long firstTimestamp) {
    final SimpleRecord[] simple = new SimpleRecord[records];
    for (int i = 0; i < records; i++) {
      final byte[] value = new byte[valueSize];
      for (int j = 0; j < valueSize; j++) {
        value[j] = (byte) (baseOffset + i + j);
      }
      simple[i] = new SimpleRecord(firstTimestamp + i, ("k" + (baseOffset + i)).getBytes(), value);
    }
    return MemoryRecords.withRecords(baseOffset, Compression.NONE, simple).buffer();
  }

  /** A compressed batch, for paths that must not look inside batches. */
  public static ByteBuffer gzipBatch(long baseOffset, int records, long firstTimestamp) {
    final SimpleRecord[] simple = new SimpleRecord[records];
    for (int i = 0; i < records; i++) {
      simple[i] = new SimpleRecord(firstTimestamp + i, null, ("value-" + i).getBytes());
    }
    return MemoryRecords.withRecords(baseOffset, Compression.gzip().build(), simple).buffer();
  }

  /** Several batches back to back in one buffer, offsets continuing from {@code baseOffset}. */
  public static ByteBuffer batches(
      long baseOffset, int batchCount, int recordsPerBatch, int valueSize) {
    final ByteBuffer out =
        ByteBuffer.allocate(batchCount * (recordsPerBatch * (valueSize + 40) + 80));
    long offset = baseOffset;
    for (int b = 0; b < batchCount; b++) {
      out.put(batch(offset, recordsPerBatch, valueSize, 1_000_000L + offset));
      offset += recordsPerBatch;
    }
    return out.flip();
  }

  /** Concatenates buffers into one. */
  public static ByteBuffer concat(List<ByteBuffer> parts) {
    final int total = parts.stream().mapToInt(ByteBuffer::remaining).sum();
    final ByteBuffer out = ByteBuffer.allocate(total);
    parts.forEach(p -> out.put(p.duplicate()));
    return out.flip();
  }

  /** The bytes of a buffer from position to limit. */
  public static byte[] bytes(ByteBuffer buffer) {
    final byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }
}
