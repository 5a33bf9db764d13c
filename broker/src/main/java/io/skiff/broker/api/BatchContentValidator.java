package io.skiff.broker.api;

import io.skiff.log.InvalidBatchException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.CloseableIterator;

/**
 * Checks the records inside a producer's v2 batches before they are stored, as Kafka's log
 * validator does: the record count agrees with {@code lastOffsetDelta}, the records (decompressed
 * when the batch is compressed) parse and fill the batch exactly, and their offset deltas run 0, 1,
 * 2, .... Keys and values are skipped, not copied.
 *
 * <p>A batch whose CRC does not match is left alone (its CRC is computed only when a check fails):
 * the partition's own validation refuses it as corrupt, which is what such a batch is. Errors: an
 * inconsistent count or offset is {@link InvalidBatchException.Reason#INVALID_OFFSETS}
 * (INVALID_RECORD), records that do not fill the batch as declared are INVALID_RECORD too, as in
 * Kafka; a payload that does not decompress is {@link InvalidBatchException.Reason#CORRUPT}
 * (CORRUPT_MESSAGE). For a compacted topic every record must have a key, as Kafka's validator
 * requires: a keyless record is {@link InvalidBatchException.Reason#MISSING_KEY} (INVALID_RECORD),
 * since the cleaner keeps the latest record per key and a record without one has no place in it.
 *
 * <p>Thread-safe: stateless; each call decompresses into buffers of its own.
 */
final class BatchContentValidator {
  private BatchContentValidator() {}

  /**
   * Validates every batch of a produce request's records for one partition.
   *
   * @param batches whole v2 batches between position and limit; not modified
   * @throws InvalidBatchException for the first batch whose records are inconsistent
   */
  static void validate(ByteBuffer batches) {
    validate(batches, null);
  }

  /**
   * Validates every batch as {@link #validate(ByteBuffer)} does and, when {@code
   * compactedPartition} is not null, that every record has a key.
   *
   * @param compactedPartition the partition's name ({@code topic-index}) when its {@code
   *     cleanup.policy} holds {@code compact}; null otherwise
   */
  static void validate(ByteBuffer batches, String compactedPartition) {
    for (MutableRecordBatch batch : MemoryRecords.readableRecords(batches.duplicate()).batches()) {
      if (!(batch instanceof DefaultRecordBatch v2) || batch.magic() < 2) {
        return; // not a v2 batch: the partition's own validation refuses it
      }
      try {
        validateRecords(v2, compactedPartition);
      } catch (InvalidBatchException e) {
        if (!batch.isValid()) {
          return; // corrupt bytes (CRC mismatch): the partition's own validation says so
        }
        throw e;
      }
    }
  }

  private static void validateRecords(DefaultRecordBatch batch, String compactedPartition) {
    final int count = batch.countOrNull();
    final long fromOffsets = batch.lastOffset() - batch.baseOffset() + 1;
    if (count <= 0 || fromOffsets != count) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.INVALID_OFFSETS,
          "record batch declares "
              + count
              + " records but lastOffsetDelta "
              + (fromOffsets - 1)
              + " (Kafka requires count = lastOffsetDelta + 1 > 0)");
    }
    long expected = batch.baseOffset();
    try (CloseableIterator<Record> records =
        batch.skipKeyValueIterator(BufferSupplier.NO_CACHING)) {
      while (records.hasNext()) {
        final Record record = records.next();
        if (record.offset() != expected) {
          throw new InvalidBatchException(
              InvalidBatchException.Reason.INVALID_OFFSETS,
              "record "
                  + (expected - batch.baseOffset())
                  + " of the batch has offset delta "
                  + (record.offset() - batch.baseOffset())
                  + "; deltas must run 0, 1, 2, ...");
        }
        if (compactedPartition != null && !record.hasKey()) {
          throw new InvalidBatchException(
              InvalidBatchException.Reason.MISSING_KEY,
              "Compacted topic cannot accept message without key in topic partition "
                  + compactedPartition
                  + " (record "
                  + (expected - batch.baseOffset())
                  + " of the batch)");
        }
        expected++;
      }
    } catch (InvalidRecordException e) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.INVALID_OFFSETS,
          "the records do not match the batch of " + count + " records: " + e.getMessage());
    } catch (KafkaException | BufferUnderflowException e) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.CORRUPT,
          "the records of a "
              + batch.compressionType()
              + " batch of "
              + count
              + " records cannot be decoded: "
              + e.getMessage());
    }
  }
}
