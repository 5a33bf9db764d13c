package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One appender with rolls and retention, readers at random offsets: every read is valid. */
class ConcurrentReadTest {
  @TempDir Path dir;

  @Test
  void readersSeeOnlyWholeValidBatchesWhileTheLogRollsAndShrinks() throws Exception {
    final LogConfig config =
        LogConfig.builder()
            .segmentBytes(16 * 1024)
            .indexIntervalBytes(512)
            .retentionBytes(64 * 1024)
            .retentionMs(-1)
            .fileDeleteDelayMs(0)
            .build();
    final AtomicBoolean done = new AtomicBoolean();
    final AtomicLong validated = new AtomicLong();
    try (SegmentedLog log = SegmentedLog.open(dir, config)) {
      final List<CompletableFuture<Void>> readers = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        readers.add(CompletableFuture.runAsync(() -> readUntilDone(log, done, validated)));
      }
      for (int i = 0; i < 3_000; i++) {
        log.append(TestBatches.batch(log.logEndOffset(), 3, 120, i));
        if (i % 100 == 0) {
          log.applyRetention(log.logEndOffset());
        }
      }
      done.set(true);
      CompletableFuture.allOf(readers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      assertThat(log.logStartOffset()).isPositive();
    }
    assertThat(validated.get()).isPositive();
  }

  private static void readUntilDone(SegmentedLog log, AtomicBoolean done, AtomicLong validated) {
    final RecordBatch batch = new RecordBatch();
    while (!done.get()) {
      final long start = log.logStartOffset();
      final long end = log.logEndOffset();
      if (end == start) {
        continue;
      }
      final long offset = ThreadLocalRandom.current().nextLong(start, end);
      try {
        final FetchSlice slice = log.read(offset, 4096, end);
        if (slice.isEmpty()) {
          throw new AssertionError("empty read at " + offset + " below end " + end);
        }
        final ByteBuffer bytes = ByteBuffer.allocate(slice.length());
        while (bytes.hasRemaining()) {
          slice.channel().read(bytes, slice.position() + bytes.position());
        }
        long expected = slice.firstOffset();
        for (int p = 0; p < bytes.limit(); p += batch.sizeInBytes()) {
          batch.wrap(bytes, p).validate(bytes.limit() - p, Integer.MAX_VALUE);
          assertThat(batch.baseOffset()).isEqualTo(expected);
          expected = batch.nextOffset();
        }
        assertThat(slice.firstOffset()).isLessThanOrEqualTo(offset);
        assertThat(expected).isEqualTo(slice.nextOffset()).isGreaterThan(offset);
        validated.incrementAndGet();
      } catch (OffsetOutOfRangeException e) {
        assertThat(e.requestedOffset()).isLessThan(log.logStartOffset()); // retention got there
      } catch (java.nio.channels.ClosedChannelException e) {
        // the segment was deleted and its file closed (delay 0): the offset is gone
        assertThat(offset).isLessThan(log.logStartOffset());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
