package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentedLogTest {
  @TempDir Path dir;
  private final CachedEpochClock clock = new CachedEpochClock();
  private final List<SegmentedLog> opened = new ArrayList<>();

  @AfterEach
  void closeLogs() throws IOException {
    for (SegmentedLog log : opened) {
      log.close();
    }
  }

  private SegmentedLog open(LogConfig config) throws IOException {
    final SegmentedLog log = SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock);
    opened.add(log);
    return log;
  }

  private static LogConfig small() {
    return LogConfig.builder().segmentBytes(16 * 1024).indexIntervalBytes(512).build();
  }

  private static byte[] readAll(SegmentedLog log, long from, long to) throws IOException {
    final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    long offset = from;
    while (offset < to) {
      final FetchSlice slice = log.read(offset, 64 * 1024, to);
      if (slice.isEmpty()) {
        break;
      }
      final ByteBuffer bytes = ByteBuffer.allocate(slice.length());
      slice.channel().read(bytes, slice.position());
      out.write(bytes.array(), 0, slice.length());
      offset = slice.nextOffset();
    }
    return out.toByteArray();
  }

  /** Appends the batches of a buffer one at a time, as produce requests would. */
  static void appendEach(SegmentedLog log, ByteBuffer batches) throws IOException {
    final RecordBatch batch = new RecordBatch();
    for (int p = batches.position(); p < batches.limit(); p += batch.sizeInBytes()) {
      batch.wrap(batches, p);
      log.append(batches.duplicate().position(p).limit(p + batch.sizeInBytes()));
    }
  }

  @Test
  void appendsAndReadsBackTheSameBytes() throws IOException {
    final SegmentedLog log = open(small());
    final ByteBuffer batches = TestBatches.batches(0, 5, 5, 100);
    final byte[] expected = TestBatches.bytes(batches);
    final LogAppendInfo info = log.append(batches);

    assertThat(info.firstOffset()).isZero();
    assertThat(info.lastOffset()).isEqualTo(24);
    assertThat(info.batchCount()).isEqualTo(5);
    assertThat(info.recordCount()).isEqualTo(25);
    assertThat(info.sizeInBytes()).isEqualTo(expected.length);
    assertThat(log.logEndOffset()).isEqualTo(25);
    assertThat(readAll(log, 0, 25)).isEqualTo(expected);
  }

  @Test
  void rejectsALeaderAppendLargerThanASegment() throws IOException {
    final SegmentedLog log = open(small());
    assertThatThrownBy(() -> log.appendAsLeader(TestBatches.batches(0, 50, 5, 100), 0))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("log.segment.bytes");
    assertThat(log.logEndOffset()).isZero();
  }

  @Test
  void appendValidatedTrustsTheCallersChecksumButChecksFramingAndOffsets() throws IOException {
    final SegmentedLog log = open(small());
    final ByteBuffer first = TestBatches.batch(0, 5, 100, 1_000_000L);
    final byte[] expected = TestBatches.bytes(first);
    log.appendValidated(first.duplicate());
    // A stored CRC that does not match: append refuses it; appendValidated, whose caller has
    // checked the CRC of these very bytes, does not compute it again.
    final ByteBuffer second = TestBatches.batch(5, 5, 100, 1_000_005L);
    second.putInt(RecordBatch.CRC_OFFSET, second.getInt(RecordBatch.CRC_OFFSET) ^ 1);
    assertThatThrownBy(() -> log.append(second.duplicate()))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("CRC32C");
    log.appendValidated(second.duplicate());
    assertThat(log.logEndOffset()).isEqualTo(10);
    assertThat(readAll(log, 0, 5)).isEqualTo(expected);
    // Offsets that do not continue the log, a truncated batch and a wrong magic are still refused.
    assertThatThrownBy(() -> log.appendValidated(TestBatches.batch(20, 5, 100, 1_000_020L)))
        .isInstanceOf(InvalidBatchException.class)
        .hasMessageContaining("ends at 10");
    final ByteBuffer whole = TestBatches.batch(10, 5, 100, 1_000_010L);
    assertThatThrownBy(() -> log.appendValidated(whole.duplicate().limit(whole.limit() - 1)))
        .isInstanceOf(InvalidBatchException.class);
    final ByteBuffer badMagic = TestBatches.batch(10, 5, 100, 1_000_010L);
    badMagic.put(RecordBatch.MAGIC_OFFSET, (byte) 1);
    assertThatThrownBy(() -> log.appendValidated(badMagic))
        .isInstanceOf(InvalidBatchException.class);
    assertThat(log.logEndOffset()).isEqualTo(10);
  }

  @Test
  void appendsManyBatches() throws IOException {
    final SegmentedLog log = open(small());
    final ByteBuffer batches = TestBatches.batches(0, 50, 5, 100);
    final byte[] expected = TestBatches.bytes(batches);
    appendEach(log, batches);
    assertThat(log.logEndOffset()).isEqualTo(250);
    assertThat(readAll(log, 0, 250)).isEqualTo(expected);
  }

  @Test
  void rollsSegmentsBySizeAndKeepsOffsetsContinuous() throws IOException {
    final SegmentedLog log = open(small());
    final List<ByteBuffer> all = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      final ByteBuffer b = TestBatches.batch(i * 10L, 10, 50, 1000 + i);
      all.add(b.duplicate());
      log.append(b);
    }
    assertThat(log.segmentCount()).isGreaterThan(3);
    assertThat(readAll(log, 0, log.logEndOffset()))
        .isEqualTo(TestBatches.bytes(TestBatches.concat(all)));
    for (long offset = 0; offset < 1000; offset += 37) {
      final FetchSlice slice = log.read(offset, 1, Long.MAX_VALUE);
      assertThat(slice.firstOffset()).isLessThanOrEqualTo(offset);
      assertThat(slice.nextOffset()).isGreaterThan(offset);
    }
  }

  @Test
  void appliesANewConfigToTheActiveSegmentAndRetention() throws IOException {
    final SegmentedLog log = open(LogConfig.builder().segmentBytes(1 << 20).build());
    for (int i = 0; i < 20; i++) {
      log.append(TestBatches.batch(i * 10L, 10, 50, 1000 + i));
    }
    assertThat(log.segmentCount()).isEqualTo(1);

    log.updateConfig(log.config().withTopicOverrides(Map.of("segment.bytes", "4096")));
    for (int i = 20; i < 40; i++) {
      log.append(TestBatches.batch(i * 10L, 10, 50, 1000 + i));
    }
    assertThat(log.segmentCount()).as("rolls at the new, smaller size").isGreaterThan(3);

    final long total = log.sizeInBytes();
    log.updateConfig(log.config().withTopicOverrides(Map.of("retention.bytes", "8192")));
    log.applyRetention(log.logEndOffset());
    assertThat(log.sizeInBytes()).isLessThan(total).isLessThanOrEqualTo(8192 + 4096);
    assertThat(log.logStartOffset()).isPositive();
  }

  @Test
  void reopensCleanlyWithTheSameState() throws IOException {
    SegmentedLog log = SegmentedLog.open(dir, small(), IndexMemoryBudget.unlimited(), clock);
    appendEach(log, TestBatches.batches(0, 200, 4, 60));
    final byte[] before = readAll(log, 0, log.logEndOffset());
    final int segments = log.segmentCount();
    log.close();

    log = open(small());
    assertThat(log.logEndOffset()).isEqualTo(800);
    assertThat(log.segmentCount()).isEqualTo(segments);
    assertThat(readAll(log, 0, 800)).isEqualTo(before);
    log.append(TestBatches.batch(800, 3, 10, 5));
    assertThat(log.logEndOffset()).isEqualTo(803);
  }

  @Test
  void rejectsReadsOutsideTheLog() throws IOException {
    final SegmentedLog log = open(small());
    log.append(TestBatches.batches(0, 10, 2, 10));
    assertThatThrownBy(() -> log.read(21, 100, Long.MAX_VALUE))
        .isInstanceOf(OffsetOutOfRangeException.class)
        .hasMessageContaining("[0, 20]");
    assertThat(log.read(20, 100, Long.MAX_VALUE).isEmpty()).isTrue();
  }

  @Test
  void rejectsBatchesThatDoNotContinueTheLog() throws IOException {
    final SegmentedLog log = open(small());
    log.append(TestBatches.batch(0, 5, 10, 1));
    assertThatThrownBy(() -> log.append(TestBatches.batch(7, 5, 10, 1)))
        .isInstanceOf(InvalidBatchException.class)
        .extracting(e -> ((InvalidBatchException) e).reason())
        .isEqualTo(InvalidBatchException.Reason.INVALID_OFFSETS);
    assertThat(Files.size(dir.resolve("00000000000000000000.log"))).isEqualTo(log.sizeInBytes());
  }
}
