package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;

/** Writes keyed records and reads a whole log back through Kafka's own record classes. */
final class CompactedLogReader {
  private CompactedLogReader() {}

  /** One record as a consumer sees it; a null value is a tombstone. */
  record Entry(long offset, String key, String value) {}

  /** One uncompressed batch of keyed records, values null where given null (tombstones). */
  static ByteBuffer keyedBatch(long timestamp, String... keysAndValues) {
    final SimpleRecord[] records = new SimpleRecord[keysAndValues.length / 2];
    for (int i = 0; i < records.length; i++) {
      final String value = keysAndValues[2 * i + 1];
      records[i] =
          new SimpleRecord(
              timestamp,
              keysAndValues[2 * i].getBytes(StandardCharsets.UTF_8),
              value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }
    return MemoryRecords.withRecords(0L, Compression.NONE, records).buffer();
  }

  /** Every record of the log from its start, read through fetches as a consumer would. */
  static List<Entry> readAll(SegmentedLog log) throws IOException {
    final List<Entry> out = new ArrayList<>();
    long offset = log.logStartOffset();
    while (offset < log.logEndOffset()) {
      final FetchSlice slice = log.read(offset, 4096);
      if (slice.isEmpty()) {
        break;
      }
      final MemoryRecords records = MemoryRecords.readableRecords(slice.copyToHeap());
      for (RecordBatch batch : records.batches()) {
        batch.ensureValid();
        for (Record record : batch) {
          if (record.offset() >= offset) {
            out.add(new Entry(record.offset(), text(record.key()), text(record.value())));
          }
        }
        offset = batch.nextOffset();
      }
    }
    return out;
  }

  private static String text(ByteBuffer bytes) {
    return bytes == null ? null : StandardCharsets.UTF_8.decode(bytes).toString();
  }
}
