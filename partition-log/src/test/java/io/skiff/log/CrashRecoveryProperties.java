package io.skiff.log;

import static io.skiff.log.SegmentedLogModelProperties.copyFiles;
import static io.skiff.log.SegmentedLogModelProperties.deleteRecursively;
import static io.skiff.log.SegmentedLogModelProperties.randomBatch;
import static io.skiff.log.SegmentedLogModelProperties.readAll;
import static io.skiff.log.SegmentedLogModelProperties.splitBatches;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import org.agrona.concurrent.CachedEpochClock;

/**
 * Crash recovery of {@link SegmentedLog}. A crash is simulated by copying the log directory while
 * the log is open (the copy has no clean-shutdown marker and holds the preallocated active
 * indexes), then damaging the copy and opening it.
 */
class CrashRecoveryProperties {

  /** How the tail of the last segment file is damaged after the crash. */
  enum TailDamage {
    /** The file is cut at a random byte: a torn write. */
    TRUNCATE,
    /** Random bytes from a random position on are changed: bit rot or a garbled write. */
    FLIP,
    /** Random bytes are appended: a write whose length reached the disk before its data. */
    GARBAGE,
    /** A copy of a batch of the segment or before it is appended: offsets that go backwards. */
    STALE_BATCH
  }

  /** What happens to an index file. */
  enum IndexDamage {
    DELETE,
    TRUNCATE_TO_ODD_LENGTH,
    GARBAGE,
    ZEROS
  }

  /** Which index files of the chosen segment are damaged. */
  enum IndexFiles {
    OFFSET,
    TIME,
    BOTH
  }

  /** One batch to append, and whether to flush after it. */
  record BatchSpec(int records, int valueSize, long seed, boolean flushAfter) {}

  // ---------------------------------------------------------------- properties

  /**
   * After a crash and damage to the last segment's tail, reopening keeps exactly the batches that
   * lie wholly before the first damaged byte, byte for byte, returns nothing corrupt, ends the log
   * right after them, accepts the next append, and survives another crash and a clean restart.
   */
  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void recoveryCutsTheTailAtTheFirstDamagedBatch(
      @ForAll("configs") LogConfig config,
      @ForAll("batches") List<BatchSpec> specs,
      @ForAll TailDamage damage,
      @ForAll @IntRange(min = 0, max = 1_000_000) int positionPick,
      @ForAll @IntRange(min = 1, max = 8) int flips,
      @ForAll @IntRange(min = 1, max = 300) int garbageLength,
      @ForAll long noiseSeed)
      throws IOException {
    crashDamageAndReopen(
        config, specs, -1, damage, positionPick, flips, garbageLength, noiseSeed, true);
  }

  /**
   * As {@link #recoveryCutsTheTailAtTheFirstDamagedBatch}, but the damage is in an older segment
   * that may hold unflushed data (its batches reach past the recovery point), if there is one: the
   * log must then end right before the first damaged batch, and every later segment must go.
   * (Damage below the recovery point is out of scope: like Kafka, the log trusts flushed segments
   * and only checks their tails.) An older segment cut exactly at a batch boundary is a known bug
   * and is stepped around here by cutting one byte later.
   */
  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void recoveryOfAnOlderUnflushedSegmentCutsEverythingFromTheFirstDamagedBatch(
      @ForAll("configs") LogConfig config,
      @ForAll("rarelyFlushedBatches") List<BatchSpec> specs,
      @ForAll @IntRange(min = 0, max = 1_000_000) int segmentPick,
      @ForAll TailDamage damage,
      @ForAll @IntRange(min = 0, max = 1_000_000) int positionPick,
      @ForAll @IntRange(min = 1, max = 8) int flips,
      @ForAll @IntRange(min = 1, max = 300) int garbageLength,
      @ForAll long noiseSeed)
      throws IOException {
    crashDamageAndReopen(
        config, specs, segmentPick, damage, positionPick, flips, garbageLength, noiseSeed, true);
  }

  /**
   * As {@link #recoveryOfAnOlderUnflushedSegmentCutsEverythingFromTheFirstDamagedBatch}, including
   * cuts at a batch boundary (a lost page-cache tail that ends between batches, or a file left
   * empty by the crash).
   */
  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void recoveryOfAnOlderSegmentCutAtABatchBoundaryLeavesNoHole(
      @ForAll("configs") LogConfig config,
      @ForAll("rarelyFlushedBatches") List<BatchSpec> specs,
      @ForAll @IntRange(min = 0, max = 1_000_000) int segmentPick,
      @ForAll TailDamage damage,
      @ForAll @IntRange(min = 0, max = 1_000_000) int positionPick,
      @ForAll @IntRange(min = 1, max = 8) int flips,
      @ForAll @IntRange(min = 1, max = 300) int garbageLength,
      @ForAll long noiseSeed)
      throws IOException {
    crashDamageAndReopen(
        config, specs, segmentPick, damage, positionPick, flips, garbageLength, noiseSeed, false);
  }

  /**
   * The shrunk counterexample of {@link #recoveryOfAnOlderSegmentCutAtABatchBoundaryLeavesNoHole}:
   * two segments, nothing flushed, and the crash leaves the first segment file empty. Recovery
   * finds nothing to cut in it (no torn bytes), so it keeps the second segment: the log claims the
   * offsets up to its old end but the first segment's offsets are gone.
   */
  @Example
  void olderSegmentLeftEmptyByACrashTakesTheLaterSegmentsWithIt() throws IOException {
    final LogConfig config = LogConfig.builder().segmentBytes(1024).build();
    final CachedEpochClock clock = new CachedEpochClock();
    final Path original = SegmentedLogModelProperties.tempDirectory("skiff-crash-");
    final Path crashed = SegmentedLogModelProperties.tempDirectory("skiff-crash-");
    try {
      try (SegmentedLog log = open(original, config, clock)) {
        for (long offset = 0; offset < 10; offset++) {
          log.append(randomBatch(offset, 1, 200, 0, offset)); // 3 batches of ~280 B per segment
        }
        assertThat(log.segmentBaseOffsets()).hasSizeGreaterThan(1);
        copyFiles(original, crashed);
      }
      Files.write(LogSegment.file(crashed, 0, LogSegment.LOG_SUFFIX), new byte[0]);
      try (SegmentedLog log = open(crashed, config, clock)) {
        // Observed: the log end is still 10, and a read at 0 returns the batches from offset 3.
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.segmentBaseOffsets()).containsExactly(0L);
      }
    } finally {
      deleteRecursively(original);
      deleteRecursively(crashed);
    }
  }

  /**
   * Appends {@code specs}, copies the open log's directory, damages one segment file of the copy
   * (the last if {@code segmentPick < 0}, else an older one not wholly below the recovery point, or
   * the last if there is none) and checks the reopened copy against the batches that lie before the
   * first damaged byte.
   */
  private static void crashDamageAndReopen(
      LogConfig config,
      List<BatchSpec> specs,
      int segmentPick,
      TailDamage damage,
      int positionPick,
      int flips,
      int garbageLength,
      long noiseSeed,
      boolean avoidBoundaryCutOfOlderSegment)
      throws IOException {
    final List<Path> dirs = new ArrayList<>();
    final CachedEpochClock clock = new CachedEpochClock();
    clock.update(SegmentedLogModelProperties.CLOCK_START_MS);
    try {
      final Path original = tempDir(dirs);
      final Path crashed = tempDir(dirs);
      final List<Written> written;
      final List<Long> bases;
      final long recoveryPoint;
      try (SegmentedLog log = open(original, config, clock)) {
        written = appendAll(log, config, specs);
        bases = log.segmentBaseOffsets();
        recoveryPoint = log.recoveryPoint();
        copyFiles(original, crashed);
      }
      final long end = written.get(written.size() - 1).last + 1;

      // The segment to damage: the last one, or any whose batches reach past the recovery point.
      final List<Integer> candidates = new ArrayList<>();
      for (int i = 0; i < bases.size() - 1; i++) {
        if (segmentPick >= 0 && bases.get(i + 1) > recoveryPoint) {
          candidates.add(i); // an older segment that may hold unflushed batches
        }
      }
      if (candidates.isEmpty()) {
        candidates.add(bases.size() - 1);
      }
      final int target = candidates.get(Math.max(0, segmentPick) % candidates.size());
      final boolean last = target == bases.size() - 1;
      final long targetBase = bases.get(target);
      final long targetNext = last ? end : bases.get(target + 1);

      // Lay out the target segment file as the model sees it.
      final Path file = LogSegment.file(crashed, targetBase, LogSegment.LOG_SUFFIX);
      final List<Written> inTarget = new ArrayList<>();
      final List<Integer> positions = new ArrayList<>();
      int size = 0;
      for (Written w : written) {
        if (w.base >= targetBase && w.base < targetNext) {
          inTarget.add(w);
          positions.add(size);
          size += w.bytes.length;
        }
      }
      assertThat(Files.size(file)).as("segment file of the crash image").isEqualTo(size);
      assertThat(inTarget).as("batches in the damaged segment").isNotEmpty();

      final Random noise = new Random(noiseSeed);
      final int firstDamaged;
      switch (damage) {
        case TRUNCATE -> {
          // A third of the cuts fall between batches: a lost tail of whole batches, or all of them.
          final int cut =
              noise.nextInt(3) == 0
                  ? positions.get(positionPick % positions.size())
                  : positionPick % size;
          firstDamaged =
              avoidBoundaryCutOfOlderSegment && !last && positions.contains(cut) ? cut + 1 : cut;
          try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(firstDamaged);
          }
        }
        case FLIP -> {
          firstDamaged = checkedPosition(positionPick % size, positions);
          final byte[] bytes = Files.readAllBytes(file);
          bytes[firstDamaged] ^= (byte) (1 + noise.nextInt(255));
          for (int i = 1; i < flips; i++) {
            final int p = firstDamaged + noise.nextInt(size - firstDamaged);
            bytes[p] ^= (byte) (1 + noise.nextInt(255));
          }
          Files.write(file, bytes);
        }
        case GARBAGE -> {
          firstDamaged = size;
          final byte[] garbage = new byte[garbageLength];
          noise.nextBytes(garbage);
          Files.write(file, garbage, StandardOpenOption.APPEND);
        }
        case STALE_BATCH -> {
          firstDamaged = size;
          // A batch at or before the segment's last one: its offsets go backwards. (A copy of a
          // batch from a later segment would be a valid continuation, not damage.)
          final int upTo = written.indexOf(inTarget.get(inTarget.size() - 1)) + 1;
          final Written stale = written.get(positionPick % upTo);
          Files.write(file, stale.bytes, StandardOpenOption.APPEND);
        }
        default -> throw new IllegalStateException(damage.toString());
      }

      // The model's answer: every batch that ends at or before the first damaged byte survives;
      // if the damaged segment is not the last, nothing after it does.
      long expectedEnd = last ? end : targetNext;
      int intactBytes = size;
      for (int i = 0; i < inTarget.size(); i++) {
        if (positions.get(i) + inTarget.get(i).bytes.length > firstDamaged) {
          expectedEnd = inTarget.get(i).base;
          intactBytes = positions.get(i);
          break;
        }
      }
      final List<Written> survivors = new ArrayList<>();
      for (Written w : written) {
        if (w.last < expectedEnd) {
          survivors.add(w);
        }
      }

      Statistics.label("segments").collect(Math.min(bases.size(), 6));
      Statistics.label("damage").collect(damage, last ? "last segment" : "older segment");
      final Path again = tempDir(dirs);
      try (SegmentedLog log = open(crashed, config, clock)) {
        assertThat(log.logEndOffset()).as("log end after recovery").isEqualTo(expectedEnd);
        assertThat(log.logStartOffset()).isZero();
        assertThat(log.recoveryPoint()).isEqualTo(expectedEnd);
        assertThat(Files.size(file))
            .as("damaged segment file after recovery")
            .isEqualTo(intactBytes);
        assertThat(log.segmentBaseOffsets())
            .as("segments after recovery")
            .isEqualTo(bases.subList(0, target + 1));
        assertThat(countSegments(crashed)).as("segment files after recovery").isEqualTo(target + 1);
        checkContents(log, survivors);

        // The log goes on: a new append at the end, then another crash.
        final ByteBuffer next = randomBatch(expectedEnd, 3, 10, clock.time(), noiseSeed);
        assertThat(log.append(next.duplicate()).firstOffset()).isEqualTo(expectedEnd);
        survivors.add(new Written(expectedEnd, expectedEnd + 2, TestBatches.bytes(next)));
        checkContents(log, survivors);
        copyFiles(crashed, again);
      }
      try (SegmentedLog log = open(again, config, clock)) {
        assertThat(log.logEndOffset())
            .as("log end after the second crash")
            .isEqualTo(expectedEnd + 3);
        checkContents(log, survivors);
      }
      try (SegmentedLog log = open(again, config, clock)) {
        assertThat(log.logEndOffset())
            .as("log end after a clean restart")
            .isEqualTo(expectedEnd + 3);
        checkContents(log, survivors);
      }
    } finally {
      for (Path d : dirs) {
        deleteRecursively(d);
      }
    }
  }

  /**
   * Deleting, truncating or garbling the offset and time index files of any segment, after a clean
   * shutdown or a crash, loses nothing: the indexes are rebuilt or bypassed, every batch is read
   * back byte for byte, reads at any offset find the right batch, and the log goes on.
   */
  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void damagedIndexesLoseNothing(
      @ForAll("configs") LogConfig config,
      @ForAll("batches") List<BatchSpec> specs,
      @ForAll boolean crash,
      @ForAll IndexDamage damage,
      @ForAll IndexFiles which,
      @ForAll @IntRange(min = 0, max = 1_000_000) int segmentPick,
      @ForAll long noiseSeed)
      throws IOException {
    final List<Path> dirs = new ArrayList<>();
    final CachedEpochClock clock = new CachedEpochClock();
    clock.update(SegmentedLogModelProperties.CLOCK_START_MS);
    try {
      final Path original = tempDir(dirs);
      final Path dir = crash ? tempDir(dirs) : original;
      final List<Written> written;
      final List<Long> bases;
      try (SegmentedLog log = open(original, config, clock)) {
        written = appendAll(log, config, specs);
        bases = log.segmentBaseOffsets();
        if (crash) {
          copyFiles(original, dir);
        }
      }
      final long base = bases.get(segmentPick % bases.size());
      final Random noise = new Random(noiseSeed);
      if (which != IndexFiles.TIME) {
        damageIndex(LogSegment.file(dir, base, LogSegment.INDEX_SUFFIX), damage, config, noise);
      }
      if (which != IndexFiles.OFFSET) {
        damageIndex(
            LogSegment.file(dir, base, LogSegment.TIME_INDEX_SUFFIX), damage, config, noise);
      }
      final long end = written.get(written.size() - 1).last + 1;
      Statistics.label("segments").collect(Math.min(bases.size(), 6));
      try (SegmentedLog log = open(dir, config, clock)) {
        assertThat(log.logEndOffset()).as("log end").isEqualTo(end);
        assertThat(log.segmentBaseOffsets()).isEqualTo(bases);
        checkContents(log, written);
        final ByteBuffer next = randomBatch(end, 2, 5, clock.time(), noiseSeed);
        log.append(next.duplicate());
        written.add(new Written(end, end + 1, TestBatches.bytes(next)));
        checkContents(log, written);
      }
      try (SegmentedLog log = open(dir, config, clock)) {
        assertThat(log.logEndOffset()).as("log end after a clean restart").isEqualTo(end + 2);
        checkContents(log, written);
      }
    } finally {
      for (Path d : dirs) {
        deleteRecursively(d);
      }
    }
  }

  // ---------------------------------------------------------------- generators

  @Provide
  Arbitrary<LogConfig> configs() {
    return Combinators.combine(
            Arbitraries.integers().between(2048, 8192),
            Arbitraries.integers().between(0, 1024),
            Arbitraries.integers().between(120, 400))
        .as(
            (segmentBytes, interval, maxIndex) ->
                LogConfig.builder()
                    .segmentBytes(segmentBytes)
                    .indexIntervalBytes(interval)
                    .maxIndexBytes(maxIndex)
                    .build());
  }

  @Provide
  Arbitrary<List<BatchSpec>> batches() {
    return batches(10);
  }

  @Provide
  Arbitrary<List<BatchSpec>> rarelyFlushedBatches() {
    return batches(100);
  }

  /** Up to 60 batches, each followed by a flush with probability {@code 1 / flushOneIn}. */
  static Arbitrary<List<BatchSpec>> batches(int flushOneIn) {
    final Arbitrary<BatchSpec> spec =
        Combinators.combine(
                Arbitraries.frequencyOf(
                    Tuple.of(2, Arbitraries.integers().between(1, 3)),
                    Tuple.of(1, SegmentedLogModelProperties.uniform(1, 20))),
                Arbitraries.frequencyOf(
                    Tuple.of(2, Arbitraries.integers().between(0, 20)),
                    Tuple.of(1, SegmentedLogModelProperties.uniform(0, 300))),
                Arbitraries.longs(),
                Arbitraries.frequencyOf(
                    Tuple.of(flushOneIn - 1, Arbitraries.just(false)),
                    Tuple.of(1, Arbitraries.just(true))))
            .as(BatchSpec::new);
    return spec.list()
        .ofMinSize(1)
        .ofMaxSize(60)
        .withSizeDistribution(RandomDistribution.uniform());
  }

  // ---------------------------------------------------------------- helpers

  /** A batch as appended: offsets and exact bytes. */
  record Written(long base, long last, byte[] bytes) {
    @Override
    public String toString() {
      return "[" + base + ".." + last + "]:" + bytes.length + "B";
    }
  }

  private static SegmentedLog open(Path dir, LogConfig config, CachedEpochClock clock)
      throws IOException {
    return SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock);
  }

  private static long countSegments(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(LogSegment.LOG_SUFFIX)).count();
    }
  }

  private static Path tempDir(List<Path> dirs) throws IOException {
    final Path dir = SegmentedLogModelProperties.tempDirectory("skiff-crash-");
    dirs.add(dir);
    return dir;
  }

  /** Appends one batch per spec (skipping batches larger than a segment), flushing as told. */
  private static List<Written> appendAll(SegmentedLog log, LogConfig config, List<BatchSpec> specs)
      throws IOException {
    final List<Written> written = new ArrayList<>();
    long timestamp = SegmentedLogModelProperties.CLOCK_START_MS;
    for (BatchSpec spec : specs) {
      final long base = log.logEndOffset();
      final ByteBuffer batch =
          randomBatch(base, spec.records(), spec.valueSize(), timestamp += 100, spec.seed());
      if (batch.remaining() > config.segmentBytes()) {
        continue;
      }
      log.append(batch.duplicate());
      written.add(new Written(base, base + spec.records() - 1, TestBatches.bytes(batch)));
      if (spec.flushAfter()) {
        log.flush();
      }
    }
    if (written.isEmpty()) {
      final ByteBuffer batch = randomBatch(0, 1, 0, timestamp, 0);
      log.append(batch.duplicate());
      written.add(new Written(0, 0, TestBatches.bytes(batch)));
    }
    return written;
  }

  /**
   * Moves a flip position off the fields a CRC32C cannot see, baseOffset (bytes 0-7 of a batch) and
   * partitionLeaderEpoch (bytes 12-15): the v2 format leaves them outside the checksum so that a
   * leader can assign them in place, so damage there is undetectable by design.
   */
  private static int checkedPosition(int position, List<Integer> batchStarts) {
    int start = 0;
    for (int s : batchStarts) {
      if (s <= position) {
        start = s;
      }
    }
    final int inBatch = position - start;
    if (inBatch < RecordBatch.BATCH_LENGTH_OFFSET) {
      return start + RecordBatch.BATCH_LENGTH_OFFSET;
    }
    if (inBatch >= RecordBatch.PARTITION_LEADER_EPOCH_OFFSET
        && inBatch < RecordBatch.MAGIC_OFFSET) {
      return start + RecordBatch.MAGIC_OFFSET;
    }
    return position;
  }

  private static void damageIndex(Path file, IndexDamage damage, LogConfig config, Random noise)
      throws IOException {
    switch (damage) {
      case DELETE -> Files.deleteIfExists(file);
      case TRUNCATE_TO_ODD_LENGTH -> {
        final long length = Files.exists(file) ? Files.size(file) : 0;
        final long odd = length <= 2 ? 1 : (noise.nextInt((int) (length - 1) / 2) * 2L + 1);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
          raf.setLength(odd);
        }
      }
      case GARBAGE -> {
        final byte[] garbage = new byte[1 + noise.nextInt(2 * config.maxIndexBytes())];
        noise.nextBytes(garbage);
        Files.write(file, garbage);
      }
      case ZEROS -> Files.write(file, new byte[1 + noise.nextInt(2 * config.maxIndexBytes())]);
      default -> throw new IllegalStateException(damage.toString());
    }
  }

  /**
   * The log holds exactly {@code batches}: read from the start they come back byte for byte and
   * CRC-clean, and a one-byte read at the first, last and a middle offset of each batch returns
   * that batch alone (which exercises the offset index lookups).
   */
  private static void checkContents(SegmentedLog log, List<Written> batches) throws IOException {
    final ByteArrayOutputStream expected = new ByteArrayOutputStream();
    batches.forEach(b -> expected.writeBytes(b.bytes));
    final long end = log.logEndOffset();
    if (!batches.isEmpty()) {
      assertThat(end).isEqualTo(batches.get(batches.size() - 1).last + 1);
    }
    assertThat(readAll(log, log.logStartOffset(), end))
        .as("bytes read back")
        .isEqualTo(expected.toByteArray());
    for (Written b : batches) {
      for (long offset : new long[] {b.base, (b.base + b.last) / 2, b.last}) {
        final FetchSlice slice = log.read(offset, 1, Long.MAX_VALUE);
        final List<byte[]> got = splitBatches(SegmentedLogModelProperties.bytesOf(slice));
        assertThat(got).as("one-byte read at %d", offset).hasSize(1);
        assertThat(got.get(0)).as("one-byte read at %d", offset).isEqualTo(b.bytes);
        assertThat(slice.firstOffset()).isEqualTo(b.base);
        assertThat(slice.nextOffset()).isEqualTo(b.last + 1);
      }
    }
  }
}
