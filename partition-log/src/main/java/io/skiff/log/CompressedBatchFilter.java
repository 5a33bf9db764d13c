package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.CloseableIterator;

/**
 * Cleans one compressed batch the way Kafka's {@code MemoryRecords.filterTo} does, with Kafka's own
 * record classes and codecs: decompress, keep the records a {@link RecordFilter.Retention} keeps,
 * and write them again compressed with the batch's codec, at their own offsets, with the batch's
 * base offset, producer id, epoch and base sequence, transactional flag, partition leader epoch and
 * timestamp type, and with {@code lastOffset} overridden to the original one (so the producer's
 * last sequence survives compaction). A batch left without records becomes a 61-byte empty header
 * with the same fields ({@code DefaultRecordBatch.writeEmptyHeader}), which keeps the log's offset
 * chain and is what Kafka keeps for a producer's last batch.
 *
 * <p>Unlike {@code filterTo}, it never stamps a delete horizon into the batch's base timestamp:
 * that horizon comes from each broker's clock, so replicas would write different bytes for the same
 * input; here the output depends on the input and the retention decision alone. A batch in which
 * every record is kept is copied as it is.
 *
 * <p>Not thread-safe: one instance per cleaning pass; decompression buffers are reused.
 */
final class CompressedBatchFilter {
  private final BufferSupplier decompression = BufferSupplier.create();
  private final List<Record> kept = new ArrayList<>();

  /** Calls {@code visitor} for every record with a key in the batch at {@code position}. */
  void visitKeys(ByteBuffer buffer, int position, int size, RecordFilter.KeyVisitor visitor) {
    try (CloseableIterator<Record> records =
        kafkaBatch(buffer, position, size).streamingIterator(decompression)) {
      while (records.hasNext()) {
        final Record record = records.next();
        if (record.hasKey()) {
          visitor.visit(record.key(), record.offset());
        }
      }
    }
  }

  /**
   * Writes the batch at {@code position} to {@code out} with only the records {@code retention}
   * keeps.
   *
   * @return the number of records dropped
   */
  int filter(
      ByteBuffer buffer,
      int position,
      int size,
      RecordFilter.Retention retention,
      CleanedSegmentWriter out)
      throws IOException {
    final MutableRecordBatch batch = kafkaBatch(buffer, position, size);
    kept.clear();
    int count = 0;
    try (CloseableIterator<Record> records = batch.streamingIterator(decompression)) {
      while (records.hasNext()) {
        final Record record = records.next();
        count++;
        if (retention.keep(
            record.hasKey() ? record.key() : null, record.offset(), !record.hasValue())) {
          kept.add(record);
        }
      }
    }
    if (kept.size() == count) {
      out.write(buffer.duplicate().position(position).limit(position + size));
    } else if (kept.isEmpty()) {
      out.write(emptyHeader(batch));
    } else {
      out.write(rebuilt(batch, size));
    }
    final int dropped = count - kept.size();
    kept.clear();
    return dropped;
  }

  private static ByteBuffer emptyHeader(MutableRecordBatch batch) {
    final ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
    DefaultRecordBatch.writeEmptyHeader(
        header,
        batch.magic(),
        batch.producerId(),
        batch.producerEpoch(),
        batch.baseSequence(),
        batch.baseOffset(),
        batch.lastOffset(),
        batch.partitionLeaderEpoch(),
        batch.timestampType(),
        batch.maxTimestamp(),
        batch.isTransactional(),
        batch.isControlBatch());
    return header.position(0).limit(RecordBatch.HEADER_SIZE);
  }

  private ByteBuffer rebuilt(MutableRecordBatch batch, int size) {
    final long logAppendTime =
        batch.timestampType() == TimestampType.LOG_APPEND_TIME
            ? batch.maxTimestamp()
            : org.apache.kafka.common.record.internal.RecordBatch.NO_TIMESTAMP;
    final MemoryRecordsBuilder builder =
        new MemoryRecordsBuilder(
            ByteBuffer.allocate(size),
            batch.magic(),
            Compression.of(batch.compressionType()).build(),
            batch.timestampType(),
            batch.baseOffset(),
            logAppendTime,
            batch.producerId(),
            batch.producerEpoch(),
            batch.baseSequence(),
            batch.isTransactional(),
            batch.isControlBatch(),
            batch.partitionLeaderEpoch(),
            Integer.MAX_VALUE);
    for (Record record : kept) {
      builder.appendWithOffset(record.offset(), record);
    }
    // Kafka's rule: the last offset (and so the producer's last sequence) outlives compaction.
    builder.overrideLastOffset(batch.lastOffset());
    return builder.build().buffer();
  }

  private static MutableRecordBatch kafkaBatch(ByteBuffer buffer, int position, int size) {
    final ByteBuffer bytes = buffer.duplicate().position(position).limit(position + size).slice();
    return MemoryRecords.readableRecords(bytes).batches().iterator().next();
  }
}
