package io.skiff.log;

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
 * 2, .... Keys and values are skipped, not copied; an uncompressed batch's records are walked in
 * place, without an object per record.
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
public final class BatchContentValidator {
  private BatchContentValidator() {}

  /**
   * Validates every batch of a produce request's records for one partition.
   *
   * @param batches whole v2 batches between position and limit; not modified
   * @throws InvalidBatchException for the first batch whose records are inconsistent
   */
  public static void validate(ByteBuffer batches) {
    validate(batches, null);
  }

  /**
   * Validates every batch as {@link #validate(ByteBuffer)} does and, when {@code
   * compactedPartition} is not null, that every record has a key.
   *
   * @param compactedPartition the partition's name ({@code topic-index}) when its {@code
   *     cleanup.policy} holds {@code compact}; null otherwise
   */
  public static void validate(ByteBuffer batches, String compactedPartition) {
    int start = batches.position();
    for (MutableRecordBatch batch : MemoryRecords.readableRecords(batches.duplicate()).batches()) {
      if (!(batch instanceof DefaultRecordBatch v2) || batch.magic() < 2) {
        return; // not a v2 batch: the partition's own validation refuses it
      }
      try {
        validateRecords(batches, start, v2, compactedPartition);
      } catch (InvalidBatchException e) {
        if (!batch.isValid()) {
          return; // corrupt bytes (CRC mismatch): the partition's own validation says so
        }
        throw e;
      }
      start += batch.sizeInBytes();
    }
  }

  private static void validateRecords(
      ByteBuffer batches, int start, DefaultRecordBatch batch, String compactedPartition) {
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
    if (!batch.isCompressed()) {
      new RecordWalker(batches, start, start + batch.sizeInBytes(), count).walk(compactedPartition);
      return;
    }
    long expected = batch.baseOffset();
    try (CloseableIterator<Record> records =
        batch.skipKeyValueIterator(BufferSupplier.NO_CACHING)) {
      while (records.hasNext()) {
        final Record record = records.next();
        if (record.offset() != expected) {
          throw offsetOutOfOrder(
              expected - batch.baseOffset(), record.offset() - batch.baseOffset());
        }
        if (compactedPartition != null && !record.hasKey()) {
          throw missingKey(compactedPartition, expected - batch.baseOffset());
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

  /** Record {@code record} of a batch carries offset delta {@code delta}, not {@code record}. */
  private static InvalidBatchException offsetOutOfOrder(long record, long delta) {
    return new InvalidBatchException(
        InvalidBatchException.Reason.INVALID_OFFSETS,
        "record "
            + record
            + " of the batch has offset delta "
            + delta
            + "; deltas must run 0, 1, 2, ...");
  }

  /** Record {@code record} of a batch for compacted {@code partition} has no key. */
  private static InvalidBatchException missingKey(String partition, long record) {
    return new InvalidBatchException(
        InvalidBatchException.Reason.MISSING_KEY,
        "Compacted topic cannot accept message without key in topic partition "
            + partition
            + " (record "
            + record
            + " of the batch)");
  }

  /**
   * Walks the records of one uncompressed v2 batch in place, without making an object per record:
   * the checks Kafka's record iterator makes while it parses each record (a record's declared size
   * matches what its fields take, key, value and header sizes stay inside the batch, header counts
   * and header key sizes are not negative, the declared count of records fills the batch exactly)
   * and this validator's own (offset deltas run 0, 1, 2, ...; keys where the topic is compacted).
   * Every failure is {@link InvalidBatchException.Reason#INVALID_OFFSETS} (INVALID_RECORD), as the
   * iterator's {@code InvalidRecordException} was, except a missing key.
   */
  private static final class RecordWalker {
    /** Where a v2 batch's records start: after its 61-byte header. */
    private static final int RECORDS_OFFSET = 61;

    private final ByteBuffer buffer;
    private final int end;
    private final int count;
    private int position;

    RecordWalker(ByteBuffer buffer, int batchStart, int batchEnd, int count) {
      this.buffer = buffer;
      this.end = batchEnd;
      this.count = count;
      this.position = batchStart + RECORDS_OFFSET;
    }

    void walk(String compactedPartition) {
      for (int i = 0; i < count; i++) {
        final int bodySize = readVarint();
        if (bodySize > end - position) {
          throw invalid(
              "record "
                  + i
                  + " declares "
                  + bodySize
                  + " bytes but the batch has "
                  + (end - position)
                  + " left");
        }
        final int recordStart = position;
        skip(1); // attributes
        skipVarlong(); // timestamp delta
        final int offsetDelta = readVarint();
        final int keySize = readVarint();
        if (keySize >= 0) {
          skip(keySize);
        }
        final int valueSize = readVarint();
        if (valueSize >= 0) {
          skip(valueSize);
        }
        final int headers = readVarint();
        if (headers < 0 || headers > end - position) {
          throw invalid("record " + i + " declares " + headers + " headers");
        }
        for (int h = 0; h < headers; h++) {
          final int headerKeySize = readVarint();
          if (headerKeySize < 0) {
            throw invalid("record " + i + " has a header key of size " + headerKeySize);
          }
          skip(headerKeySize);
          final int headerValueSize = readVarint();
          if (headerValueSize >= 0) {
            skip(headerValueSize);
          }
        }
        if (position - recordStart != bodySize) {
          throw invalid(
              "record "
                  + i
                  + " declares "
                  + bodySize
                  + " bytes but its fields take "
                  + (position - recordStart));
        }
        if (i == count - 1 && position != end) {
          throw invalid((end - position) + " bytes left after the declared records");
        }
        // The record parses; now what it says (in the order the iterator's caller checked it).
        if (offsetDelta != i) {
          throw offsetOutOfOrder(i, offsetDelta);
        }
        if (keySize < 0 && compactedPartition != null) {
          throw missingKey(compactedPartition, i);
        }
      }
    }

    private void skip(int bytes) {
      if (bytes > end - position) {
        throw invalid("a field of " + bytes + " bytes runs past the end of the batch");
      }
      position += bytes;
    }

    private byte next() {
      if (position >= end) {
        throw invalid("a record runs past the end of the batch");
      }
      return buffer.get(position++);
    }

    /** A zig-zag varint of at most 5 bytes, as Kafka writes record fields. */
    private int readVarint() {
      int value = 0;
      int shift = 0;
      int b;
      while (((b = next()) & 0x80) != 0) {
        value |= (b & 0x7f) << shift;
        shift += 7;
        if (shift > 28) {
          throw invalid("a varint is longer than 5 bytes");
        }
      }
      value |= b << shift;
      return (value >>> 1) ^ -(value & 1);
    }

    /** Skips a zig-zag varlong of at most 10 bytes. */
    private void skipVarlong() {
      for (int i = 0; i < 10; i++) {
        if ((next() & 0x80) == 0) {
          return;
        }
      }
      throw invalid("a varlong is longer than 10 bytes");
    }

    private InvalidBatchException invalid(String detail) {
      return new InvalidBatchException(
          InvalidBatchException.Reason.INVALID_OFFSETS,
          "the records do not match the batch of " + count + " records: " + detail);
    }
  }
}
