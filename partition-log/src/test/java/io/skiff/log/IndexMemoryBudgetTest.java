package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IndexMemoryBudgetTest {
  @TempDir Path dir;

  private static LogConfig tinySegments() {
    return LogConfig.builder()
        .segmentBytes(4096)
        .indexIntervalBytes(256)
        .maxIndexBytes(4096)
        .build();
  }

  private static SegmentedLog fill(SegmentedLog log, int batches) throws IOException {
    for (int i = 0; i < batches; i++) {
      log.append(TestBatches.batch(log.logEndOffset(), 2, 100, 1_000 + i));
    }
    return log;
  }

  @Test
  void unmapsColdIndexesAndRemapsThemOnLookup() throws IOException {
    final IndexMemoryBudget budget = new IndexMemoryBudget(16 * 1024);
    try (SegmentedLog log =
        fill(SegmentedLog.open(dir, tinySegments(), budget, SystemEpochClock.INSTANCE), 600)) {
      assertThat(log.segmentCount()).isGreaterThan(20);
      System.out.println(
          "mapped="
              + budget.mappedBytes()
              + " indexes="
              + budget.indexCount()
              + " segments="
              + log.segmentCount());
      // The two active indexes (2 x 4 KiB) stay mapped; the cold ones must fit what remains.
      assertThat(budget.mappedBytes()).isLessThanOrEqualTo(16 * 1024);
      assertThat(budget.evictions()).isPositive();

      final long remapsBefore = budget.remaps();
      final FetchSlice slice = log.read(3, 1, Long.MAX_VALUE);
      assertThat(slice.firstOffset()).isEqualTo(2);
      assertThat(budget.remaps()).isGreaterThan(remapsBefore);
      assertThat(budget.mappedBytes()).isLessThanOrEqualTo(16 * 1024);
    }
    assertThat(budget.mappedBytes()).isZero();
    assertThat(budget.indexCount()).isZero();
  }

  @Test
  void keepsActiveIndexesMappedEvenOverBudget() throws IOException {
    final IndexMemoryBudget budget = new IndexMemoryBudget(1024);
    try (SegmentedLog log =
        SegmentedLog.open(dir, tinySegments(), budget, SystemEpochClock.INSTANCE)) {
      fill(log, 10);
      assertThat(budget.mappedBytes()).isGreaterThanOrEqualTo(4096 + 4092);
      assertThat(budget.overBudget()).isTrue();
      assertThat(log.read(0, 100).isEmpty()).isFalse();
    }
  }

  @Test
  void concurrentReadsStayCorrectWhileIndexesAreEvicted() throws Exception {
    final IndexMemoryBudget budget = new IndexMemoryBudget(12 * 1024);
    final List<SegmentedLog> logs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      logs.add(
          fill(
              SegmentedLog.open(
                  dir.resolve("p" + i), tinySegments(), budget, SystemEpochClock.INSTANCE),
              300));
    }
    final ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      final List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        futures.add(
            pool.submit(
                () -> {
                  final ByteBuffer header = ByteBuffer.allocate(RecordBatch.HEADER_SIZE);
                  final RecordBatch batch = new RecordBatch();
                  for (int i = 0; i < 3_000; i++) {
                    final SegmentedLog log = logs.get(ThreadLocalRandom.current().nextInt(3));
                    final long offset = ThreadLocalRandom.current().nextLong(log.logEndOffset());
                    final FetchSlice slice = log.read(offset, 1, Long.MAX_VALUE);
                    header.clear();
                    slice.channel().read(header, slice.position());
                    batch.wrap(header, 0);
                    assertThat(batch.baseOffset()).isEqualTo(offset - offset % 2);
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      for (SegmentedLog log : logs) {
        log.close();
      }
    }
    assertThat(budget.evictions()).isPositive();
    assertThat(budget.mappedBytes()).isZero();
  }
}
