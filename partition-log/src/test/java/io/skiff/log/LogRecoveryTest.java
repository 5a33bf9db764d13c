package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a log after an unclean stop: torn tails, corrupt batches, damaged or lost indexes. */
class LogRecoveryTest {
  @TempDir Path tmp;

  private static LogConfig config() {
    return LogConfig.builder().segmentBytes(8 * 1024).indexIntervalBytes(256).build();
  }

  /** Writes a log and copies its files while it is open, as a crash would leave them. */
  private Path crashedLog(int batches) throws IOException {
    final Path live = tmp.resolve("live");
    final Path crashed = tmp.resolve("crashed");
    try (SegmentedLog log = SegmentedLog.open(live, config())) {
      for (int i = 0; i < batches; i++) {
        log.append(TestBatches.batch(log.logEndOffset(), 5, 100, i));
      }
      Files.createDirectories(crashed);
      try (Stream<Path> files = Files.list(live)) {
        for (Path f : files.toList()) {
          Files.copy(f, crashed.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return crashed;
  }

  private static Path lastSegment(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".log")).sorted().reduce((a, b) -> b).get();
    }
  }

  @Test
  void cutsATornTailAndKeepsEveryCompleteBatch() throws IOException {
    final Path dir = crashedLog(40);
    final Path last = lastSegment(dir);
    final long size = Files.size(last);
    try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE)) {
      channel.truncate(size - 7); // the last batch lost its final bytes
    }
    try (SegmentedLog log = SegmentedLog.open(dir, config())) {
      assertThat(log.logEndOffset()).isEqualTo(195);
      assertThat(Files.size(last)).isLessThan(size - 7);
      log.append(TestBatches.batch(195, 5, 100, 0));
      assertThat(log.logEndOffset()).isEqualTo(200);
    }
  }

  @Test
  void cutsAtACorruptBatchInAMiddleSegmentAndDropsTheSegmentsAfterIt() throws IOException {
    final Path dir = crashedLog(60);
    final List<Path> segments;
    try (Stream<Path> files = Files.list(dir)) {
      segments = files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
    }
    assertThat(segments.size()).isGreaterThan(2);
    final Path second = segments.get(1);
    final long secondBase = Long.parseLong(second.getFileName().toString().substring(0, 20));
    try (FileChannel channel = FileChannel.open(second, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 200); // inside the first batch's body
    }
    try (SegmentedLog log = SegmentedLog.open(dir, config())) {
      assertThat(log.logEndOffset()).isEqualTo(secondBase);
      assertThat(log.segmentCount()).isEqualTo(2);
      assertThat(log.read(0, 1 << 20).firstOffset()).isZero();
    }
  }

  @Test
  void rebuildsMissingAndDamagedIndexesOfACleanLog() throws IOException {
    final Path dir = tmp.resolve("clean");
    try (SegmentedLog log = SegmentedLog.open(dir, config())) {
      for (int i = 0; i < 60; i++) {
        log.append(TestBatches.batch(log.logEndOffset(), 5, 100, i));
      }
    }
    Files.delete(dir.resolve("00000000000000000000.index"));
    try (Stream<Path> files = Files.list(dir)) {
      final Path timeIndex =
          files.filter(f -> f.toString().endsWith(".timeindex")).sorted().toList().get(1);
      Files.write(timeIndex, new byte[] {9, 9, 9, 9, 9});
    }
    try (SegmentedLog log = SegmentedLog.open(dir, config())) {
      assertThat(log.logEndOffset()).isEqualTo(300);
      for (long offset = 0; offset < 300; offset += 7) {
        assertThat(log.read(offset, 1).firstOffset()).isEqualTo(offset - offset % 5);
      }
      // batch i holds offsets 5i..5i+4 stamped i..i+4: timestamp 33 first appears at 5*29+4
      assertThat(log.offsetForTimestamp(33)).isEqualTo(new TimestampOffset(33, 149));
      assertThat(dir.resolve("00000000000000000000.index")).exists();
    }
  }

  @Test
  void cleanShutdownSkipsRecoveryButKeepsState() throws IOException {
    final Path dir = tmp.resolve("marker");
    try (SegmentedLog log = SegmentedLog.open(dir, config())) {
      log.append(TestBatches.batch(0, 5, 100, 0));
    }
    assertThat(dir.resolve(".clean-shutdown")).exists();
    try (SegmentedLog log = SegmentedLog.open(dir, config())) {
      assertThat(dir.resolve(".clean-shutdown")).doesNotExist();
      assertThat(log.logEndOffset()).isEqualTo(5);
      assertThat(log.recoveryPoint()).isEqualTo(5);
    }
  }

  @Test
  void flushesRewriteTheRecoveryPointFileAtMostOncePerInterval() throws IOException {
    final Path dir = tmp.resolve("interval");
    final CachedEpochClock clock = new CachedEpochClock();
    clock.update(1_000_000);
    final LogConfig config =
        LogConfig.builder()
            .segmentBytes(8 * 1024)
            .recoveryPointCheckpointIntervalMs(60_000)
            .build();
    try (SegmentedLog log = SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock)) {
      log.append(TestBatches.batch(0, 5, 100, 0));
      log.flush();
      assertThat(log.recoveryPoint()).isEqualTo(5);
      assertThat(recoveryPointFile(dir)).as("file within the interval").isEqualTo("0");
      clock.advance(59_999);
      log.append(TestBatches.batch(5, 5, 100, 1));
      log.flush();
      assertThat(log.recoveryPoint()).isEqualTo(10);
      assertThat(recoveryPointFile(dir)).as("file within the interval").isEqualTo("0");
      clock.advance(1);
      log.append(TestBatches.batch(10, 5, 100, 2));
      log.flush();
      assertThat(recoveryPointFile(dir)).as("file once the interval passed").isEqualTo("15");
      log.append(TestBatches.batch(15, 5, 100, 3));
      log.append(TestBatches.batch(20, 5, 100, 4));
      log.flush();
      assertThat(recoveryPointFile(dir)).isEqualTo("15");
      log.truncateTo(20);
      assertThat(log.recoveryPoint()).isEqualTo(20);
      assertThat(recoveryPointFile(dir)).as("a truncation writes the file at once").isEqualTo("20");
      log.append(TestBatches.batch(20, 5, 100, 5));
      log.flush();
    }
    assertThat(recoveryPointFile(dir)).as("close writes the file").isEqualTo("25");
  }

  @Test
  void aCrashWithALaggingRecoveryPointFileKeepsEveryFlushedBatch() throws IOException {
    final Path live = tmp.resolve("lagging");
    final Path crashed = tmp.resolve("lagging-crashed");
    final LogConfig config =
        LogConfig.builder()
            .segmentBytes(8 * 1024)
            .indexIntervalBytes(256)
            .recoveryPointCheckpointIntervalMs(Long.MAX_VALUE)
            .build();
    try (SegmentedLog log = SegmentedLog.open(live, config)) {
      for (int i = 0; i < 60; i++) { // about five segments
        log.append(TestBatches.batch(log.logEndOffset(), 5, 100, i));
        log.flush();
      }
      assertThat(recoveryPointFile(live)).isEqualTo("0");
      Files.createDirectories(crashed);
      try (Stream<Path> files = Files.list(live)) {
        for (Path f : files.toList()) {
          Files.copy(f, crashed.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    try (SegmentedLog log = SegmentedLog.open(crashed, config)) {
      assertThat(log.logEndOffset()).isEqualTo(300);
      assertThat(log.recoveryPoint()).isEqualTo(300);
      assertThat(recoveryPointFile(crashed)).as("recovery checkpoints at once").isEqualTo("300");
    }
  }

  /** The recovery-point file's value, "0" while it does not exist. */
  private static String recoveryPointFile(Path dir) throws IOException {
    final Path file = dir.resolve("recovery-point");
    return Files.exists(file) ? Files.readString(file).trim() : "0";
  }

  @Test
  void refusesAStrayFileWithAClearMessage() throws IOException {
    final Path dir = tmp.resolve("stray");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("notes.log"), "hello");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> SegmentedLog.open(dir, config()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("20-digit base offset");
  }

  @Test
  void recoveryKeepsCommittedBatchesAboveALoweredSizeLimit() throws IOException {
    final Path dir = crashedLog(40); // batches of 5 records of 100 bytes: about 600 bytes each
    final LogConfig lowered =
        LogConfig.builder()
            .segmentBytes(8 * 1024)
            .indexIntervalBytes(256)
            .maxBatchBytes(200)
            .build();
    try (SegmentedLog log = SegmentedLog.open(dir, lowered)) {
      assertThat(log.logEndOffset()).isEqualTo(200);
    }
  }

  @Test
  void followerAppendHoldsBatchesAboveItsOwnSizeLimits() throws IOException {
    final LogConfig small =
        LogConfig.builder().segmentBytes(1024).indexIntervalBytes(256).maxBatchBytes(200).build();
    try (SegmentedLog log = SegmentedLog.open(tmp.resolve("follower"), small)) {
      log.append(TestBatches.batch(0, 5, 100, 0)); // above max.message.bytes
      log.append(TestBatches.batch(5, 20, 100, 0)); // above segment.bytes as well
      assertThat(log.logEndOffset()).isEqualTo(25);
      log.append(TestBatches.batch(25, 1, 10, 0));
      assertThat(log.logEndOffset()).isEqualTo(26);
    }
    try (SegmentedLog reopened = SegmentedLog.open(tmp.resolve("follower"), small)) {
      assertThat(reopened.logEndOffset()).isEqualTo(26);
    }
  }

  /**
   * A new log has nothing to recover and nothing to make durable: opening it must not fsync its
   * empty segment, indexes and checkpoint (a broker creating a thousand partitions paid for five
   * syncs each). Its first flush after an append makes everything durable.
   */
  @Test
  void opensANewLogWithoutSyncingItsEmptyFiles() throws IOException {
    final Path real = Files.createDirectories(tmp.resolve("fs"));
    final PowerCutFileSystem fs = PowerCutFileSystem.over(real);
    final long before = fs.fileForces();
    try (SegmentedLog log = SegmentedLog.open(fs.root().resolve("topic-0"), config())) {
      assertThat(fs.fileForces() - before).as("files synced to open a new log").isZero();
      final Path cut = Files.createDirectories(tmp.resolve("cut"));
      fs.powerCut(cut);
      try (SegmentedLog reopened = SegmentedLog.open(cut.resolve("topic-0"), config())) {
        assertThat(reopened.logEndOffset()).isZero();
      }
      log.append(TestBatches.batch(0, 5, 100, 0));
      log.flush();
      assertThat(fs.fileForces() - before).as("files synced by the first flush").isPositive();
    }
  }
}
