package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.Test;

class RecordBatchTest {
  private final RecordBatch batch = new RecordBatch();

  @Test
  void readsTheHeaderKafkaWrote() {
    final ByteBuffer buffer = TestBatches.batch(42, 7, 20, 1_000);
    final var kafka = MemoryRecords.readableRecords(buffer.duplicate()).batches().iterator().next();
    batch.wrap(buffer, 0);

    assertThat(batch.baseOffset()).isEqualTo(42).isEqualTo(kafka.baseOffset());
    assertThat(batch.lastOffset()).isEqualTo(48).isEqualTo(kafka.lastOffset());
    assertThat(batch.nextOffset()).isEqualTo(49);
    assertThat(batch.sizeInBytes()).isEqualTo(buffer.remaining()).isEqualTo(kafka.sizeInBytes());
    assertThat(batch.recordCount()).isEqualTo(7);
    assertThat(batch.magic()).isEqualTo(RecordBatch.MAGIC_V2);
    assertThat(batch.maxTimestamp()).isEqualTo(1_006).isEqualTo(kafka.maxTimestamp());
    assertThat(batch.checksum()).isEqualTo(kafka.checksum());
    assertThat(batch.computeChecksum()).isEqualTo(batch.checksum());
    assertThat(buffer.position()).isZero();
  }

  @Test
  void acceptsAValidBatch() {
    final ByteBuffer buffer = TestBatches.gzipBatch(0, 10, 5);
    batch.wrap(buffer, 0).validate(buffer.remaining(), Integer.MAX_VALUE);
    assertThat(batch.compressionCodec()).isEqualTo(1);
  }

  @Test
  void rejectsAWrongMagic() {
    final ByteBuffer buffer = TestBatches.batch(0, 1, 10, 0);
    buffer.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
    assertThatThrownBy(() -> batch.wrap(buffer, 0).validate(buffer.remaining(), 1 << 20))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("magic 1")
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.UNSUPPORTED_MAGIC);
  }

  @Test
  void rejectsAFlippedBodyByte() {
    final ByteBuffer buffer = TestBatches.batch(0, 3, 10, 0);
    final int last = buffer.limit() - 1;
    buffer.put(last, (byte) (buffer.get(last) ^ 0x40));
    assertThatThrownBy(() -> batch.wrap(buffer, 0).validate(buffer.remaining(), 1 << 20))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("CRC32C")
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.CORRUPT);
  }

  @Test
  void ignoresBaseOffsetAndLeaderEpochInTheChecksum() {
    final ByteBuffer buffer = TestBatches.batch(0, 3, 10, 0);
    batch.wrap(buffer, 0);
    batch.baseOffset(1_000_000);
    batch.partitionLeaderEpoch(17);
    batch.validate(buffer.remaining(), 1 << 20);
    assertThat(batch.lastOffset()).isEqualTo(1_000_002);
    assertThat(batch.partitionLeaderEpoch()).isEqualTo(17);
  }

  @Test
  void rejectsLengthsThatDoNotFit() {
    final ByteBuffer buffer = TestBatches.batch(0, 3, 10, 0);
    final int size = buffer.remaining();

    assertThatThrownBy(() -> batch.wrap(buffer, 0).validate(size - 1, 1 << 20))
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.TRUNCATED);
    assertThatThrownBy(() -> batch.wrap(buffer, 0).validate(size, size - 1))
        .hasMessageContaining("max.message.bytes")
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.TOO_LARGE);
    assertThatThrownBy(() -> batch.wrap(buffer, 0).validate(40, 1 << 20))
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.TRUNCATED);

    buffer.putInt(RecordBatch.BATCH_LENGTH_OFFSET, 10);
    assertThatThrownBy(() -> batch.wrap(buffer, 0).validate(size, 1 << 20))
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.INVALID_LENGTH);
    buffer.putInt(RecordBatch.BATCH_LENGTH_OFFSET, -5);
    assertThatThrownBy(() -> batch.wrap(buffer, 0).validate(size, 1 << 20))
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.INVALID_LENGTH);
  }

  @Test
  void assignsConsecutiveOffsetsToEveryBatch() {
    final ByteBuffer buffer = TestBatches.batches(0, 4, 5, 10);
    final long next = new RecordBatchSequence().assignOffsets(buffer, 100, 3);
    assertThat(next).isEqualTo(120);
    long expected = 100;
    for (int p = 0; p < buffer.limit(); p += batch.sizeInBytes()) {
      batch.wrap(buffer, p).validate(buffer.limit() - p, 1 << 20);
      assertThat(batch.baseOffset()).isEqualTo(expected);
      assertThat(batch.partitionLeaderEpoch()).isEqualTo(3);
      expected = batch.nextOffset();
    }
  }

  @Test
  void findsTheFirstRecordAtOrAfterATimestamp() {
    final ByteBuffer buffer = TestBatches.batch(10, 5, 10, 500); // timestamps 500..504
    batch.wrap(buffer, 0);
    assertThat(batch.firstRecordWithTimestampAtLeast(0)).isEqualTo(new TimestampOffset(500, 10));
    assertThat(batch.firstRecordWithTimestampAtLeast(503)).isEqualTo(new TimestampOffset(503, 13));
    assertThat(batch.firstRecordWithTimestampAtLeast(505)).isNull();

    final ByteBuffer gzip = TestBatches.gzipBatch(10, 5, 500);
    assertThat(batch.wrap(gzip, 0).firstRecordWithTimestampAtLeast(503))
        .isEqualTo(new TimestampOffset(504, 10));
  }

  @Test
  void refusesLittleEndianBuffers() {
    final ByteBuffer buffer = TestBatches.batch(0, 1, 1, 0).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    assertThatThrownBy(() -> batch.wrap(buffer, 0)).hasMessageContaining("big-endian");
  }
}
