package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Truncation, DeleteRecords, retention, time lookups and rolls of a {@link SegmentedLog}. */
class LogLifecycleTest {
  private static final long DAY = TimeUnit.DAYS.toMillis(1);

  @TempDir Path dir;
  private final CachedEpochClock clock = new CachedEpochClock();

  private SegmentedLog open(LogConfig config) throws IOException {
    return SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock);
  }

  private static LogConfig.Builder small() {
    return LogConfig.builder().segmentBytes(8 * 1024).indexIntervalBytes(256);
  }

  /** Appends {@code count} batches of 5 records, timestamps from {@code firstTimestamp}. */
  private static void fill(SegmentedLog log, int count, long firstTimestamp) throws IOException {
    for (int i = 0; i < count; i++) {
      log.append(TestBatches.batch(log.logEndOffset(), 5, 100, firstTimestamp + i * 10L));
    }
  }

  @Test
  void truncatesAnUncommittedTailAcrossSegments() throws IOException {
    try (SegmentedLog log = open(small().build())) {
      fill(log, 100, 0);
      final int segments = log.segmentCount();
      assertThat(segments).isGreaterThan(3);

      assertThat(log.truncateTo(200)).isEqualTo(200);
      assertThat(log.logEndOffset()).isEqualTo(200);
      assertThat(log.segmentCount()).isLessThan(segments);
      assertThatThrownBy(() -> log.read(201, 100)).isInstanceOf(OffsetOutOfRangeException.class);

      // An offset inside a batch drops that whole batch.
      assertThat(log.truncateTo(103)).isEqualTo(100);
      fill(log, 3, 5000);
      assertThat(log.logEndOffset()).isEqualTo(115);
      assertThat(log.read(100, 1).firstOffset()).isEqualTo(100);
      assertThat(log.offsetForTimestamp(5000)).isEqualTo(new TimestampOffset(5000, 100));
    }
  }

  @Test
  void truncationSurvivesAReopen() throws IOException {
    try (SegmentedLog log = open(small().build())) {
      fill(log, 60, 0);
      log.truncateTo(150);
    }
    try (SegmentedLog log = open(small().build())) {
      assertThat(log.logEndOffset()).isEqualTo(150);
      fill(log, 1, 0);
      assertThat(log.logEndOffset()).isEqualTo(155);
    }
  }

  @Test
  void refusesToTruncateBelowTheLogStart() throws IOException {
    try (SegmentedLog log = open(small().build())) {
      fill(log, 40, 0);
      log.deleteRecordsBefore(50);
      assertThatThrownBy(() -> log.truncateTo(10))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("truncateFullyAndStartAt");
    }
  }

  @Test
  void restartsEmptyAtAnOffset() throws IOException {
    try (SegmentedLog log = open(small().build())) {
      fill(log, 40, 0);
      log.truncateFullyAndStartAt(5000);
      assertThat(log.logStartOffset()).isEqualTo(5000);
      assertThat(log.logEndOffset()).isEqualTo(5000);
      assertThat(log.segmentCount()).isEqualTo(1);
      log.append(TestBatches.batch(5000, 2, 10, 0));
    }
    try (SegmentedLog log = open(small().build())) {
      assertThat(log.logStartOffset()).isEqualTo(5000);
      assertThat(log.logEndOffset()).isEqualTo(5002);
    }
  }

  @Test
  void deleteRecordsMovesTheStartAndDropsWholeSegments() throws IOException {
    try (SegmentedLog log = open(small().build())) {
      fill(log, 100, 0);
      final int before = log.segmentCount();
      log.deleteRecordsBefore(333);
      assertThat(log.logStartOffset()).isEqualTo(333);
      assertThat(log.segmentCount()).isLessThan(before);
      assertThat(log.segmentBaseOffsets().get(0)).isLessThanOrEqualTo(333);
      assertThatThrownBy(() -> log.read(332, 10))
          .isInstanceOf(OffsetOutOfRangeException.class)
          .satisfies(
              e -> assertThat(((OffsetOutOfRangeException) e).logStartOffset()).isEqualTo(333));
      assertThat(log.read(333, 1).firstOffset()).isEqualTo(330);
      assertThat(log.offsetForTimestamp(SegmentedLog.EARLIEST_TIMESTAMP).offset()).isEqualTo(333);
      assertThatThrownBy(() -> log.deleteRecordsBefore(501))
          .isInstanceOf(OffsetOutOfRangeException.class);
    }
    try (SegmentedLog log = open(small().build())) {
      assertThat(log.logStartOffset()).isEqualTo(333);
      log.deleteRecordsBefore(500);
      assertThat(log.segmentCount()).isEqualTo(1);
      assertThat(log.read(500, 100).isEmpty()).isTrue();
      fill(log, 1, 0);
      assertThat(log.read(500, 100).firstOffset()).isEqualTo(500);
    }
  }

  /**
   * DeleteRecords behind a replicated log's Raft floor: the start moves at once, but segments from
   * the floor on stay readable for replication, across a reopen, until retention passes them.
   */
  @Test
  void deleteRecordsKeepsSegmentsFromTheFloorForReplicationUntilRetentionPassesThem()
      throws IOException {
    try (SegmentedLog log = open(small().retentionMs(-1).build())) {
      fill(log, 100, 0);
      final int before = log.segmentCount();
      log.deleteRecordsBefore(333, 100);
      assertThat(log.logStartOffset()).isEqualTo(333);
      assertThat(log.segmentBaseOffsets().get(0)).isLessThanOrEqualTo(100);
      assertThat(log.segmentCount()).isLessThan(before);
      assertThatThrownBy(() -> log.read(120, 10)).isInstanceOf(OffsetOutOfRangeException.class);
      assertThat(log.readRetained(120, 1).firstOffset()).isEqualTo(120);
      assertThat(log.offsetForTimestamp(0).offset()).isEqualTo(333);
    }
    try (SegmentedLog log = open(small().retentionMs(-1).build())) {
      assertThat(log.logStartOffset()).isEqualTo(333);
      assertThat(log.readRetained(120, 1).firstOffset()).isEqualTo(120);
      assertThat(log.applyRetention(200)).as("the floor has not passed them all").isPositive();
      assertThat(log.segmentBaseOffsets().get(0)).isLessThanOrEqualTo(200);
      assertThatThrownBy(() -> log.readRetained(log.segmentBaseOffsets().get(0) - 1, 1))
          .isInstanceOf(OffsetOutOfRangeException.class);
      log.applyRetention(500);
      assertThat(log.segmentBaseOffsets().get(0)).isGreaterThan(200).isLessThanOrEqualTo(333);
      assertThat(log.logStartOffset()).isEqualTo(333);
    }
  }

  @Test
  void aCompactedLogStillDropsTheSegmentsDeleteRecordsKeptOnceTheFloorPassesThem()
      throws IOException {
    try (SegmentedLog log = open(small().retentionMs(-1).cleanupPolicy("compact").build())) {
      fill(log, 100, 0);
      log.deleteRecordsBefore(333, 100);
      assertThat(log.segmentBaseOffsets().get(0)).isLessThanOrEqualTo(100);

      log.applyRetention(500);

      assertThat(log.segmentBaseOffsets().get(0))
          .as("kept only while the floor needed them, whatever the cleanup policy")
          .isGreaterThan(100)
          .isLessThanOrEqualTo(333);
      assertThat(log.logStartOffset()).isEqualTo(333);
    }
  }

  @Test
  void retentionByBytesDeletesOldestSegmentsBelowTheHighWatermark() throws IOException {
    try (SegmentedLog log = open(small().retentionBytes(20 * 1024).retentionMs(-1).build())) {
      fill(log, 200, 0);
      final long size = log.sizeInBytes();
      assertThat(size).isGreaterThan(40 * 1024);

      assertThat(log.applyRetention(0)).isZero(); // nothing committed yet: nothing may go
      final int deleted = log.applyRetention(log.logEndOffset());
      assertThat(deleted).isPositive();
      assertThat(log.sizeInBytes()).isLessThanOrEqualTo(20 * 1024 + 8 * 1024);
      assertThat(log.sizeInBytes()).isGreaterThanOrEqualTo(20 * 1024);
      assertThat(log.logStartOffset()).isEqualTo(log.segmentBaseOffsets().get(0));
      assertThat(log.read(log.logStartOffset(), 1).isEmpty()).isFalse();
    }
  }

  @Test
  void retentionByTimeDeletesExpiredSegmentsAndRollsAnIdleActiveOne() throws IOException {
    clock.update(100 * DAY);
    try (SegmentedLog log = open(small().retentionMs(7 * DAY).build())) {
      fill(log, 50, 90 * DAY); // 10 days old
      fill(log, 50, 99 * DAY); // 1 day old
      final long end = log.logEndOffset();
      assertThat(log.applyRetention(end)).isPositive();
      final TimestampOffset first = log.offsetForTimestamp(0);
      assertThat(first.timestamp()).isGreaterThanOrEqualTo(90 * DAY);
      assertThat(log.logStartOffset()).isPositive().isLessThanOrEqualTo(250);

      clock.update(200 * DAY); // everything expired; the active segment rolls and goes too
      log.applyRetention(end);
      assertThat(log.logStartOffset()).isEqualTo(end);
      assertThat(log.logEndOffset()).isEqualTo(end);
      assertThat(log.segmentCount()).isEqualTo(1);
    }
  }

  @Test
  void findsOffsetsByTimestamp() throws IOException {
    try (SegmentedLog log = open(small().build())) {
      assertThat(log.offsetForTimestamp(0)).isNull();
      assertThat(log.offsetForTimestamp(SegmentedLog.MAX_TIMESTAMP)).isNull();
      fill(log, 100, 10_000); // batch i: offsets 5i..5i+4, timestamps 10000+10i .. +4
      assertThat(log.offsetForTimestamp(0)).isEqualTo(new TimestampOffset(10_000, 0));
      assertThat(log.offsetForTimestamp(10_502)).isEqualTo(new TimestampOffset(10_502, 252));
      assertThat(log.offsetForTimestamp(10_505)).isEqualTo(new TimestampOffset(10_510, 255));
      assertThat(log.offsetForTimestamp(99_999)).isNull();
      assertThat(log.offsetForTimestamp(SegmentedLog.LATEST_TIMESTAMP).offset()).isEqualTo(500);
      assertThat(log.offsetForTimestamp(SegmentedLog.MAX_TIMESTAMP))
          .isEqualTo(new TimestampOffset(10_994, 495));
    }
  }

  @Test
  void rollsWhenTheBatchTimestampsSpanRollMs() throws IOException {
    try (SegmentedLog log = open(LogConfig.builder().rollMs(DAY).build())) {
      fill(log, 10, 0);
      assertThat(log.segmentCount()).isEqualTo(1);
      log.append(TestBatches.batch(log.logEndOffset(), 1, 10, DAY + 4)); // first batch max is 4
      assertThat(log.segmentCount()).isEqualTo(1);
      log.append(TestBatches.batch(log.logEndOffset(), 1, 10, DAY + 5));
      assertThat(log.segmentCount()).isEqualTo(2);
      assertThat(log.segmentBaseOffsets()).containsExactly(0L, 51L);
    }
  }

  @Test
  void rollsWhenAnIndexIsFull() throws IOException {
    try (SegmentedLog log =
        open(LogConfig.builder().indexIntervalBytes(0).maxIndexBytes(10 * 12).build())) {
      fill(log, 30, 0);
      assertThat(log.segmentCount()).isGreaterThanOrEqualTo(3);
    }
  }

  @Test
  void anAppendWithMoreBatchesThanAnIndexHoldsStillLandsWhole() throws IOException {
    final LogConfig config = LogConfig.builder().indexIntervalBytes(0).maxIndexBytes(48).build();
    try (SegmentedLog log = open(config)) {
      final ByteBuffer many = TestBatches.batches(0, 10, 2, 10);
      final byte[] expected = TestBatches.bytes(many);
      assertThat(log.append(many).nextOffset()).isEqualTo(20);
      assertThat(log.append(TestBatches.batch(20, 1, 10, 0)).firstOffset()).isEqualTo(20);
      final FetchSlice slice = log.read(0, 1 << 20);
      assertThat(slice.nextOffset()).isEqualTo(20);
      for (long offset = 0; offset < 21; offset++) {
        assertThat(log.read(offset, 1).firstOffset()).isEqualTo(offset - offset % 2);
      }
      assertThat(slice.length()).isEqualTo(expected.length);
    }
    try (SegmentedLog log = open(config)) {
      assertThat(log.logEndOffset()).isEqualTo(21);
    }
  }

  @Test
  void readsStopAtTheHighWatermarkAndAtBatchBoundaries() throws IOException {
    try (SegmentedLog log = open(small().segmentBytes(1 << 20).build())) {
      fill(log, 20, 0);
      final int first = log.read(0, 1).length();
      final int second = log.read(5, 1).length();
      final int third = log.read(10, 1).length();
      assertThat(log.read(0, Integer.MAX_VALUE, 52).nextOffset()).isEqualTo(50);
      assertThat(log.read(0, Integer.MAX_VALUE, 55).nextOffset()).isEqualTo(55);
      assertThat(log.read(55, Integer.MAX_VALUE, 55).isEmpty()).isTrue();
      final int three = first + second + third;
      assertThat(log.read(0, three + 1).length()).isEqualTo(three);
      assertThat(log.read(0, three).length()).isEqualTo(three);
      assertThat(log.read(0, three - 1).length()).isEqualTo(first + second);
      assertThat(log.read(0, 1).length()).isEqualTo(first); // one batch even if larger
      assertThat(log.read(7, 0).isEmpty()).isTrue();
      assertThatThrownBy(() -> log.read(0, -1)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void flushesByMessageCountAndAdvancesTheRecoveryPoint() throws IOException {
    try (SegmentedLog log = open(small().flushIntervalMessages(12).build())) {
      fill(log, 2, 0);
      assertThat(log.recoveryPoint()).isZero();
      fill(log, 1, 0);
      assertThat(log.recoveryPoint()).isEqualTo(15);
      fill(log, 1, 0);
      log.flush();
      assertThat(log.recoveryPoint()).isEqualTo(20);
    }
  }

  @Test
  void assignsOffsetsAndLeaderEpochAsLeader() throws IOException {
    try (SegmentedLog log = open(small().build())) {
      final ByteBuffer batch = TestBatches.batch(999, 4, 10, 0);
      assertThat(log.appendAsLeader(batch, 7).firstOffset()).isZero();
      assertThat(log.appendAsLeader(TestBatches.batch(0, 2, 10, 0), 8).firstOffset()).isEqualTo(4);
      final FetchSlice slice = log.read(0, 1 << 20);
      final ByteBuffer bytes = ByteBuffer.allocate(slice.length());
      slice.channel().read(bytes, slice.position());
      final RecordBatch view = new RecordBatch().wrap(bytes, 0);
      assertThat(view.baseOffset()).isZero();
      assertThat(view.partitionLeaderEpoch()).isEqualTo(7);
      view.validate(bytes.limit(), 1 << 20);
      view.wrap(bytes, view.sizeInBytes());
      assertThat(view.baseOffset()).isEqualTo(4);
      assertThat(view.partitionLeaderEpoch()).isEqualTo(8);
    }
  }

  @Test
  void refusesWorkAfterClose() throws IOException {
    final SegmentedLog log = open(small().build());
    log.close();
    log.close();
    assertThatThrownBy(() -> fill(log, 1, 0)).hasMessageContaining("closed");
  }

  @Test
  void deletesItsDirectory() throws IOException {
    final SegmentedLog log = SegmentedLog.open(dir.resolve("t-0"), small().build());
    fill(log, 30, 0);
    log.delete();
    assertThat(dir.resolve("t-0")).doesNotExist();
  }
}
