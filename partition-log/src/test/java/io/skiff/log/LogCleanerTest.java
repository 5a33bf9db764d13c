package io.skiff.log;

import static io.skiff.log.CompactedLogReader.keyedBatch;
import static io.skiff.log.CompactedLogReader.readAll;
import static io.skiff.log.CompactedLogs.T0;
import static io.skiff.log.CompactedLogs.copy;
import static io.skiff.log.CompactedLogs.isLatest;
import static io.skiff.log.CompactedLogs.latestPerKey;
import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.CompactedLogReader.Entry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogCleanerTest {
  @TempDir Path dir;
  private final CompactedLogs logs = new CompactedLogs();

  @AfterEach
  void closeLogs() throws IOException {
    logs.closeAll();
  }

  private static LogConfig compacted() {
    return CompactedLogs.compacted().deleteRetentionMs(60_000).build();
  }

  /** Writes k0..k4 ten times over, one record per batch, so that many segments roll. */
  private static void writeRounds(SegmentedLog log, int rounds) throws IOException {
    for (int round = 0; round < rounds; round++) {
      for (int k = 0; k < 5; k++) {
        log.appendAsLeader(keyedBatch(T0, "k" + k, "v" + round, "x" + k, "y" + round), 1);
      }
    }
  }

  @Test
  void keepsOnlyTheLatestValuePerKeyAtTheOriginalOffsets() throws IOException {
    logs.clock().update(T0);
    final SegmentedLog log = logs.open(dir, compacted());
    writeRounds(log, 10);
    final List<Entry> before = readAll(log);
    final long end = log.logEndOffset();
    assertThat(log.segmentCount()).isGreaterThan(3);

    assertThat(log.compact(end)).isGreaterThan(0);

    final List<Entry> after = readAll(log);
    assertThat(after).isSubsetOf(before); // same offsets, keys and values: nothing moved
    final long activeBase = log.segmentBaseOffsets().get(log.segmentCount() - 1);
    final List<Entry> cleanable = before.stream().filter(e -> e.offset() < activeBase).toList();
    for (Entry entry : after) {
      if (entry.offset() < activeBase) {
        assertThat(isLatest(cleanable, entry)).as("%s is the latest for its key", entry).isTrue();
      }
    }
    for (Entry latest : latestPerKey(before)) {
      assertThat(after).contains(latest);
    }
    assertThat(log.logEndOffset()).isEqualTo(end);
    assertThat(log.logStartOffset()).isZero();
  }

  @Test
  void aSecondPassBelowTheDirtyRatioDoesNothing() throws IOException {
    logs.clock().update(T0);
    final SegmentedLog log =
        logs.open(dir, LogConfig.builder().segmentBytes(1024).cleanupPolicy("compact").build());
    writeRounds(log, 10);
    assertThat(log.compact(log.logEndOffset())).isGreaterThan(0);
    log.appendAsLeader(keyedBatch(T0, "k0", "late"), 1);
    assertThat(log.compact(log.logEndOffset())).isEqualTo(-1); // 0.5 by default: not dirty enough
  }

  @Test
  void neverCleansTheActiveSegmentNorPastTheBound() throws IOException {
    logs.clock().update(T0);
    final SegmentedLog log = logs.open(dir, compacted());
    writeRounds(log, 10);
    final List<Entry> before = readAll(log);
    final long bound = log.segmentBaseOffsets().get(2);

    log.compact(bound);

    final List<Entry> after = readAll(log);
    assertThat(after.stream().filter(e -> e.offset() >= bound).toList())
        .isEqualTo(before.stream().filter(e -> e.offset() >= bound).toList());
  }

  @Test
  void dropsTombstonesOnlyAfterDeleteRetention() throws IOException {
    logs.clock().update(T0);
    final SegmentedLog log = logs.open(dir, compacted());
    writeRounds(log, 5);
    log.appendAsLeader(keyedBatch(T0, "k1", null), 1);
    writeRounds(log, 5);
    final long tombstoneOffset =
        readAll(log).stream().filter(e -> e.value() == null).findFirst().orElseThrow().offset();
    // k1 is written again after the tombstone; delete it for good in the next rounds' place
    log.appendAsLeader(keyedBatch(T0, "k1", null), 1);
    writeRoundsWithout(log, "k1", 6);

    log.compact(log.logEndOffset());
    assertThat(readAll(log)).noneMatch(e -> e.offset() == tombstoneOffset); // superseded
    assertThat(readAll(log)).anyMatch(e -> e.key().equals("k1") && e.value() == null);

    logs.clock().update(T0 + 60_001);
    log.appendAsLeader(keyedBatch(T0 + 60_001, "k0", "dirty"), 1);
    writeRoundsWithout(log, "k1", 6);
    log.compact(log.logEndOffset());
    assertThat(readAll(log)).noneMatch(e -> e.key().equals("k1"));
  }

  private static void writeRoundsWithout(SegmentedLog log, String skipped, int rounds)
      throws IOException {
    for (int round = 0; round < rounds; round++) {
      for (int k = 0; k < 5; k++) {
        if (!("k" + k).equals(skipped)) {
          log.appendAsLeader(keyedBatch(T0, "k" + k, "w" + round), 1);
        }
      }
    }
  }

  @Test
  void readsAcrossCleanedSegmentsAfterAReopen() throws IOException {
    logs.clock().update(T0);
    SegmentedLog log = logs.open(dir, compacted());
    writeRounds(log, 10);
    log.compact(log.logEndOffset());
    final List<Entry> cleaned = readAll(log);
    logs.closeAll();

    log = logs.open(dir, compacted());
    assertThat(readAll(log)).isEqualTo(cleaned);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files)
          .noneMatch(f -> f.toString().endsWith(".cleaned") || f.toString().endsWith(".swap"));
    }
  }

  @Test
  void completesASwapInterruptedByACrashAndDropsAHalfWrittenCleanedFile() throws IOException {
    logs.clock().update(T0);
    final Path original = dir.resolve("original");
    final Path cleanedDir = dir.resolve("cleaned");
    SegmentedLog log = logs.open(original, compacted());
    writeRounds(log, 10);
    logs.closeAll();
    copy(original, cleanedDir);
    final SegmentedLog cleaned = logs.open(cleanedDir, compacted());
    cleaned.compact(cleaned.logEndOffset());
    final List<Entry> expected = readAll(cleaned);
    final List<Long> bases = cleaned.segmentBaseOffsets();
    logs.closeAll();
    // The crash came after segment 0's .swap was committed and while segment 1's .cleaned was
    // being written: segment 0 must come back cleaned, segment 1 as it was.
    Files.copy(
        LogSegment.file(cleanedDir, bases.get(0), ".log"),
        LogSegment.file(original, bases.get(0), ".log.swap"));
    Files.write(LogSegment.file(original, bases.get(1), ".log.cleaned"), new byte[] {1, 2, 3});
    Files.delete(original.resolve(LogDirectory.CLEAN_SHUTDOWN_FILE));

    log = logs.open(original, compacted());

    final List<Entry> recovered = readAll(log);
    final long secondBase = bases.get(1);
    assertThat(recovered.stream().filter(e -> e.offset() < secondBase).toList())
        .isEqualTo(expected.stream().filter(e -> e.offset() < secondBase).toList());
    assertThat(recovered.size()).isGreaterThan(expected.size());
    try (Stream<Path> files = Files.list(original)) {
      assertThat(files)
          .noneMatch(f -> f.toString().endsWith(".cleaned") || f.toString().endsWith(".swap"));
    }
    log.compact(log.logEndOffset());
    assertThat(readAll(log)).isEqualTo(expected);
  }
}
