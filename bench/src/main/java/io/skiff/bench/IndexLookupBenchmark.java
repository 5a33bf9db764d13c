package io.skiff.bench;

import io.skiff.log.BenchAccess;
import io.skiff.log.FetchSlice;
import io.skiff.log.LogConfig;
import io.skiff.log.OffsetIndex;
import io.skiff.log.SegmentedLog;
import io.skiff.log.TimestampOffset;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Latency of finding a random offset or timestamp in one segment of small batches, so that the
 * offset index has many entries ({@code log.index.interval.bytes} 4096, the default):
 *
 * <ul>
 *   <li>{@code read}: {@code log.read(offset, 1, Long.MAX_VALUE)}: offset index lookup, a scan of
 *       batch headers (one positional read of 61 bytes each) from the indexed position to the batch
 *       holding the offset, and the one-batch slice;
 *   <li>{@code offsetForTimestamp}: ListOffsets by timestamp: time index lookup, offset index
 *       lookup, header scan, then reading and decoding the batch that holds the first record at or
 *       after the timestamp;
 *   <li>{@code indexLookup}: {@link OffsetIndex#lookup} alone (binary search over the mapped
 *       index), on a copy of the log's own index file.
 * </ul>
 *
 * <p>The log is built once per trial with {@code batches} batches of 2 records with 100-byte
 * values, record timestamps equal to the setup time plus the record's offset. Offsets and
 * timestamps come from a pre-generated random array (fixed seed), walked in order, so no random
 * number is drawn in the measured code. The log's files are in the page cache: this is the hot-read
 * path.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(
    value = 1,
    jvmArgsAppend = {
      BenchSupport.ADD_EXPORTS,
      BenchSupport.ENABLE_NATIVE_ACCESS,
      "-Xms1g",
      "-Xmx1g"
    })
public class IndexLookupBenchmark {
  static final int RECORDS_PER_BATCH = 2;
  static final int VALUE_BYTES = 100;
  static final int BATCHES_PER_APPEND = 1000;
  static final int KEYS = 1 << 16;

  @Param({"200000"})
  public int batches;

  private Path dir;
  private SegmentedLog log;
  private OffsetIndex index;
  private final long[] offsets = new long[KEYS];
  private final long[] timestamps = new long[KEYS];

  /**
   * Timestamp of offset 0. Taken from the clock: log.roll.ms counts from the first batch's
   * timestamp, so a fixed old epoch would roll a segment on every append.
   */
  private long firstTimestamp;

  /** Per-thread position in the pre-generated arrays. */
  @State(Scope.Thread)
  public static class Cursor {
    private int next;

    int next() {
      return next++ & (KEYS - 1);
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = BenchSupport.tempDir("skiff-lookup-");
    final Path logDir = dir.resolve("bench-0");
    final SplittableRandom random = new SplittableRandom(BenchSupport.SEED);
    firstTimestamp = System.currentTimeMillis();
    try (SegmentedLog building = SegmentedLog.open(logDir, LogConfig.defaults())) {
      long offset = 0;
      for (int done = 0; done < batches; done += BATCHES_PER_APPEND) {
        final int n = Math.min(BATCHES_PER_APPEND, batches - done);
        final ByteBuffer[] parts = new ByteBuffer[n];
        int bytes = 0;
        for (int i = 0; i < n; i++) {
          parts[i] =
              BenchSupport.batch(
                  offset, RECORDS_PER_BATCH, VALUE_BYTES, firstTimestamp + offset, random);
          bytes += parts[i].remaining();
          offset += RECORDS_PER_BATCH;
        }
        final ByteBuffer chunk = ByteBuffer.allocate(bytes);
        for (ByteBuffer part : parts) {
          chunk.put(part);
        }
        building.append(chunk.flip());
      }
    }
    // The clean close trimmed the index to its entries: measure raw lookups on a copy of it.
    final Path indexCopy =
        Files.copy(logDir.resolve("00000000000000000000.index"), dir.resolve("copy.index"));
    index = BenchAccess.openOffsetIndex(indexCopy, 0);
    log = SegmentedLog.open(logDir, LogConfig.defaults());

    final long end = log.logEndOffset();
    for (int i = 0; i < KEYS; i++) {
      offsets[i] = random.nextLong(end);
      timestamps[i] = firstTimestamp + random.nextLong(end);
    }
    check();
    System.out.printf(
        "%n[lookup] %d batches, offsets [0, %d), %d bytes in %d segment(s), %d offset index"
            + " entries%n",
        batches, end, log.sizeInBytes(), log.segmentCount(), index.entries());
  }

  /** The benchmarked calls must give right answers, or their timings mean nothing. */
  private void check() throws IOException {
    for (int i = 0; i < 1000; i++) {
      final long offset = offsets[i];
      final FetchSlice slice = log.read(offset, 1, Long.MAX_VALUE);
      if (slice.firstOffset() > offset || slice.nextOffset() <= offset) {
        throw new IllegalStateException("read(" + offset + ") returned " + slice);
      }
      if (index.lookup(offset) > slice.position()) {
        throw new IllegalStateException("index lookup of " + offset + " is past its batch");
      }
      final TimestampOffset found = log.offsetForTimestamp(timestamps[i]);
      if (found == null || found.offset() != timestamps[i] - firstTimestamp) {
        throw new IllegalStateException(
            "offsetForTimestamp(" + timestamps[i] + ") returned " + found);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try {
      if (index != null) {
        index.close();
      }
      if (log != null) {
        log.close();
      }
    } finally {
      BenchSupport.deleteRecursively(dir);
    }
  }

  @Benchmark
  public FetchSlice read(Cursor cursor) throws IOException {
    return log.read(offsets[cursor.next()], 1, Long.MAX_VALUE);
  }

  @Benchmark
  public TimestampOffset offsetForTimestamp(Cursor cursor) throws IOException {
    return log.offsetForTimestamp(timestamps[cursor.next()]);
  }

  @Benchmark
  public int indexLookup(Cursor cursor) {
    return index.lookup(offsets[cursor.next()]);
  }
}
