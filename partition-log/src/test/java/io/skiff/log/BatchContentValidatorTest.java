package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

/** The records inside a producer's batch are checked before the batch is stored. */
class BatchContentValidatorTest {

  @Test
  void acceptsWellFormedPlainAndCompressedBatches() {
    assertThatCode(() -> BatchContentValidator.validate(TestBatches.batch(0, 5, 100, 0)))
        .doesNotThrowAnyException();
    assertThatCode(() -> BatchContentValidator.validate(TestBatches.gzipBatch(0, 20, 0)))
        .doesNotThrowAnyException();
    assertThatCode(() -> BatchContentValidator.validate(TestBatches.batches(0, 4, 3, 10)))
        .doesNotThrowAnyException();
  }

  @Test
  void refusesARecordCountThatDisagreesWithLastOffsetDelta() {
    final ByteBuffer batch = TestBatches.batch(0, 5, 100, 0);
    batch.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 7); // 5 records claim offsets 0..7
    resign(batch);
    assertRefused(batch, InvalidBatchException.Reason.INVALID_OFFSETS);
  }

  @Test
  void refusesABatchDeclaringMoreRecordsThanItHolds() {
    final ByteBuffer batch = TestBatches.batch(0, 5, 100, 0);
    batch.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 5);
    batch.putInt(RecordBatch.RECORDS_COUNT_OFFSET, 6);
    resign(batch);
    assertRefused(batch, InvalidBatchException.Reason.INVALID_OFFSETS);
  }

  @Test
  void refusesACompressedPayloadThatDoesNotDecompress() {
    final ByteBuffer batch = TestBatches.gzipBatch(0, 20, 0);
    for (int i = RecordBatch.RECORDS_OFFSET + 12; i < batch.limit() - 12; i++) {
      batch.put(i, (byte) (batch.get(i) ^ 0x5a)); // garbage inside the gzip stream
    }
    resign(batch);
    assertRefused(batch, InvalidBatchException.Reason.CORRUPT);
  }

  @Test
  void leavesABatchWithABadCrcToThePartitionsOwnCheck() {
    final ByteBuffer batch = TestBatches.batch(0, 5, 100, 0);
    batch.putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, 7); // not re-signed: a corrupt batch
    assertThatCode(() -> BatchContentValidator.validate(batch)).doesNotThrowAnyException();
  }

  @Test
  void refusesBytesAfterTheDeclaredRecordsBeforeLookingAtKeys() {
    final ByteBuffer records =
        MemoryRecords.withRecords(
                Compression.NONE,
                new SimpleRecord("k".getBytes(), "a".getBytes()),
                new SimpleRecord("b".getBytes())) // the last record has no key
            .buffer();
    final ByteBuffer batch = ByteBuffer.allocate(records.remaining() + 3);
    batch.put(records).put(new byte[3]).flip(); // three bytes no record declares
    batch.putInt(
        RecordBatch.BATCH_LENGTH_OFFSET, batch.getInt(RecordBatch.BATCH_LENGTH_OFFSET) + 3);
    resign(batch);
    assertRefused(batch, InvalidBatchException.Reason.INVALID_OFFSETS);
    // Kafka's iterator refuses the batch while reading its last record, before its key is looked
    // at.
    assertThatThrownBy(() -> BatchContentValidator.validate(batch, "t-0"))
        .isInstanceOf(InvalidBatchException.class)
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.INVALID_OFFSETS);
  }

  @Test
  void refusesAKeylessRecordOfACompactedTopic() {
    final ByteBuffer batch =
        MemoryRecords.withRecords(
                Compression.NONE,
                new SimpleRecord("k".getBytes(), "a".getBytes()),
                new SimpleRecord("b".getBytes()))
            .buffer();
    assertThatCode(() -> BatchContentValidator.validate(batch.duplicate()))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> BatchContentValidator.validate(batch.duplicate(), "t-0"))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("record 1 of the batch")
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.MISSING_KEY);
  }

  /** Recomputes the CRC32C after an edit, so only the edited field is wrong. */
  private static void resign(ByteBuffer batch) {
    final long crc = new RecordBatch().wrap(batch, 0).computeChecksum();
    batch.putInt(RecordBatch.CRC_OFFSET, (int) crc);
  }

  private static void assertRefused(ByteBuffer batch, InvalidBatchException.Reason reason) {
    assertThatThrownBy(() -> BatchContentValidator.validate(batch))
        .isInstanceOf(InvalidBatchException.class)
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(reason);
  }
}
