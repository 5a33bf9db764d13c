package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.skiff.testing.SmallTmpfs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A log on a full disk: an 8 MiB tmpfs (mounting one needs root; the tests are skipped, saying so,
 * where {@code mount} is not permitted) filled up to a few pages by a filler file.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DiskFullTest {
  private static final int PAGE = 4096;

  @RegisterExtension final SmallTmpfs tmpfs = SmallTmpfs.perTest("8m", "disk-full tests");

  @Test
  void fullDiskFailsAppendsCleanlyAndTheLogGoesOnOnceSpaceIsFreed() throws Exception {
    for (int freePages = 0; freePages <= 8; freePages++) {
      final Path dir = tmpfs.path().resolve("log-" + freePages);
      final Path filler = tmpfs.path().resolve("filler");
      final LogConfig config =
          LogConfig.builder()
              .segmentBytes(4 * PAGE)
              .indexIntervalBytes(0)
              .maxIndexBytes(16 << 20) // larger than the file system: sparse, until reserved
              .build();
      final CachedEpochClock clock = new CachedEpochClock();
      clock.update(1_000_000L);
      final List<byte[]> acknowledged = new ArrayList<>();
      try (SegmentedLog log =
          SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock)) {
        append(log, acknowledged, 2); // a segment with index entries, before the disk fills
        fill(filler, freePages * PAGE);
        IOException failure = null;
        for (int i = 0; i < 200 && failure == null; i++) {
          try {
            append(log, acknowledged, 1);
          } catch (IOException e) {
            failure = e;
          }
        }
        assertThat(failure).as("an append failed with %d pages free", freePages).isNotNull();
        checkContents(log, acknowledged);

        Files.delete(filler);
        append(log, acknowledged, 20);
        checkContents(log, acknowledged);
      }
      try (SegmentedLog reopened =
          SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock)) {
        checkContents(reopened, acknowledged);
      }
      deleteLog(dir);
    }
  }

  /** The free-space check refuses an append before anything is written, and passes again later. */
  @Test
  void spaceCheckRefusesAnAppendOnANearlyFullDisk() throws Exception {
    final Path filler = tmpfs.path().resolve("filler");
    try (SegmentedLog log =
        SegmentedLog.open(tmpfs.path().resolve("log"), LogConfig.builder().build())) {
      log.checkSpaceFor(1000);
      fill(filler, (int) (SegmentedLog.MIN_FREE_BYTES / 2));
      assertThatThrownBy(() -> log.checkSpaceFor(1000))
          .isInstanceOf(LogStorageException.class)
          .hasMessageContaining("is full");
      Files.delete(filler);
      log.checkSpaceFor(1000);
    }
  }

  private static void append(SegmentedLog log, List<byte[]> acknowledged, int count)
      throws IOException {
    for (int i = 0; i < count; i++) {
      final ByteBuffer batch =
          TestBatches.batch(log.logEndOffset(), 1, 900, 1_000_000L + acknowledged.size());
      log.append(batch.duplicate());
      acknowledged.add(TestBatches.bytes(batch));
    }
  }

  private static void checkContents(SegmentedLog log, List<byte[]> acknowledged)
      throws IOException {
    assertThat(log.logEndOffset()).isEqualTo(acknowledged.size());
    final List<byte[]> read =
        SegmentedLogModelProperties.splitBatches(
            SegmentedLogModelProperties.readAll(log, 0, log.logEndOffset()));
    assertThat(read).hasSize(acknowledged.size());
    for (int i = 0; i < read.size(); i++) {
      assertThat(read.get(i)).as("batch %d", i).isEqualTo(acknowledged.get(i));
    }
  }

  /** Writes {@code filler} until the disk is full, then frees {@code leaveFree} bytes of it. */
  private static void fill(Path filler, int leaveFree) throws IOException {
    SmallTmpfs.fill(filler, PAGE, written -> Math.max(0, (written / PAGE) * PAGE - leaveFree));
  }

  private static void deleteLog(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
  }
}
