package io.skiff.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Builders;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.agrona.concurrent.CachedEpochClock;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * Model-based properties of {@link SegmentedLog}: random sequences of appends, reads, truncations,
 * DeleteRecords, retention, flushes, clean and unclean reopens run against a real log with tiny
 * segments and tiny indexes, and after every step the log must agree with a plain list of batches.
 *
 * <p>The model is the ordered list of appended batches (base offset, last offset, exact bytes) that
 * are still physically in the log, plus the log start and end offsets. Segment boundaries are the
 * log's own business: the model only requires that they fall on batch boundaries, that no readable
 * batch is ever lost to a segment deletion, and that a read never crosses one.
 */
class SegmentedLogModelProperties {

  static final long CLOCK_START_MS = 10_000_000L;

  // ---------------------------------------------------------------- properties

  /**
   * Known bugs that the enabled properties step around so that they keep guarding everything else;
   * each has a disabled property that does not avoid it, and a disabled {@code @Example}.
   */
  enum KnownBug {
    /** See {@link #truncatingIntoTheBatchHoldingTheLogStartKeepsStartAtMostEnd}. */
    TRUNCATE_BELOW_LOG_START,
    /** See {@link #offsetForTimestampIgnoresRecordsBelowTheLogStart}. */
    TIMESTAMP_LOOKUP_BELOW_LOG_START
  }

  private static final Set<KnownBug> AVOID_ALL = EnumSet.allOf(KnownBug.class);

  /**
   * Every operation of the API, single-batch appends: the log and the model agree after each step.
   */
  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void logAgreesWithModel(@ForAll("scenarios") Scenario scenario) throws IOException {
    run(scenario, AVOID_ALL);
  }

  /**
   * As {@link #logAgreesWithModel} but truncations may also land in the batch that holds the log
   * start when DeleteRecords left the start inside a batch.
   */
  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void logAgreesWithModelWhenTruncatingBelowTheLogStart(@ForAll("scenarios") Scenario scenario)
      throws IOException {
    run(scenario, EnumSet.complementOf(EnumSet.of(KnownBug.TRUNCATE_BELOW_LOG_START)));
  }

  /**
   * As {@link #logAgreesWithModel} with appends of several batches at once, as a follower appends
   * what it fetched from the leader.
   */
  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void logAgreesWithModelWithMultiBatchAppends(
      @ForAll("scenariosWithMultiBatchAppends") Scenario scenario) throws IOException {
    run(scenario, AVOID_ALL);
  }

  /**
   * As {@link #logAgreesWithModel}, also checking ListOffsets by timestamp: {@code
   * offsetForTimestamp(t)} is the first offset at or after the log start whose record has a
   * timestamp of at least {@code t}, or null if there is none. Lookups while the log start lies
   * inside a batch are skipped (known bug).
   */
  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void offsetForTimestampAgreesWithModel(@ForAll("scenariosWithListOffsets") Scenario scenario)
      throws IOException {
    run(scenario, AVOID_ALL);
  }

  /** As {@link #offsetForTimestampAgreesWithModel}, including lookups with a mid-batch start. */
  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void offsetForTimestampAgreesWithModelWhenTheLogStartsInsideABatch(
      @ForAll("scenariosWithListOffsets") Scenario scenario) throws IOException {
    run(scenario, EnumSet.complementOf(EnumSet.of(KnownBug.TIMESTAMP_LOOKUP_BELOW_LOG_START)));
  }

  /**
   * The shrunk counterexample of {@link #logAgreesWithModelWhenTruncatingBelowTheLogStart}: the log
   * start is moved into the middle of a two-record batch, then the log is truncated at the log
   * start. The batch holding the start goes, so the end drops below the start.
   */
  @Example
  void truncatingIntoTheBatchHoldingTheLogStartKeepsStartAtMostEnd() throws IOException {
    final Path dir = tempDirectory("skiff-model-");
    try (SegmentedLog log =
        SegmentedLog.open(
            dir,
            LogConfig.builder().build(),
            IndexMemoryBudget.unlimited(),
            new CachedEpochClock())) {
      log.append(randomBatch(0, 1, 0, 0, 0)); // offset 0
      log.append(randomBatch(1, 2, 0, 0, 0)); // offsets 1..2
      log.deleteRecordsBefore(2); // the log starts inside the batch [1..2]
      assertThat(log.truncateTo(2)).isEqualTo(1); // removes the batch [1..2]
      assertThat(log.logEndOffset()).isEqualTo(1);
      assertThat(log.logStartOffset()).isLessThanOrEqualTo(log.logEndOffset()); // fails: 2 > 1
    } finally {
      deleteRecursively(dir);
    }
  }

  /**
   * The shrunk counterexample of {@link #logAgreesWithModelWithMultiBatchAppends}: with 120-byte
   * indexes the time index has 10 slots and counts as full at 9 entries. Nine single-batch appends
   * with growing timestamps leave 8 entries; the log does not roll (the index is not full yet), and
   * a follower append of three batches then needs three more entries.
   */
  @Example
  void multiBatchAppendThatFillsTheIndexesRollsOrFitsInsteadOfFailingHalfway() throws IOException {
    final Path dir = tempDirectory("skiff-model-");
    final LogConfig config =
        LogConfig.builder().segmentBytes(8192).indexIntervalBytes(0).maxIndexBytes(120).build();
    final List<ByteBuffer> all = new ArrayList<>();
    try {
      try (SegmentedLog log =
          SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), new CachedEpochClock())) {
        for (int i = 0; i < 9; i++) {
          final ByteBuffer batch = TestBatches.batch(i, 1, 0, 1000 + 10 * i);
          all.add(batch.duplicate());
          log.append(batch);
        }
        final List<ByteBuffer> three = new ArrayList<>();
        for (int i = 9; i < 12; i++) {
          three.add(TestBatches.batch(i, 1, 0, 1000 + 10 * i));
        }
        all.addAll(three);
        // Throws IllegalStateException "time index ... is full at 9 entries" after writing the
        // three batches into the segment file past its size.
        log.append(TestBatches.concat(three));
        assertThat(log.logEndOffset()).isEqualTo(12);
        assertThat(readAll(log, 0, 12)).isEqualTo(TestBatches.bytes(TestBatches.concat(all)));
      }
      try (SegmentedLog log =
          SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), new CachedEpochClock())) {
        assertThat(log.logEndOffset()).isEqualTo(12);
        assertThat(log.sizeInBytes()).isEqualTo(TestBatches.concat(all).remaining());
        assertThat(readAll(log, 0, 12)).isEqualTo(TestBatches.bytes(TestBatches.concat(all)));
      }
    } finally {
      deleteRecursively(dir);
    }
  }

  /**
   * The shrunk counterexample of {@link #offsetForTimestampAgreesWithModel}: record timestamps
   * within a batch need not grow (the producer sets them). The log starts inside the batch [0..1]
   * whose record 0 (below the start) has timestamp 200 and record 1 has 100; the first record at or
   * after the start with a timestamp of at least 150 is offset 2.
   */
  @Example
  void offsetForTimestampIgnoresRecordsBelowTheLogStart() throws IOException {
    final Path dir = tempDirectory("skiff-model-");
    try (SegmentedLog log =
        SegmentedLog.open(
            dir,
            LogConfig.builder().build(),
            IndexMemoryBudget.unlimited(),
            new CachedEpochClock())) {
      log.append(
          MemoryRecords.withRecords(
                  0L,
                  Compression.NONE,
                  new SimpleRecord(200L, null, "a".getBytes()),
                  new SimpleRecord(100L, null, "b".getBytes()))
              .buffer());
      log.append(
          MemoryRecords.withRecords(
                  2L, Compression.NONE, new SimpleRecord(150L, null, "c".getBytes()))
              .buffer());
      log.deleteRecordsBefore(1);
      final TimestampOffset found = log.offsetForTimestamp(150);
      assertThat(found).isNotNull();
      assertThat(found.offset()).isEqualTo(2); // is 1, with timestamp 200 (that of offset 0)
      assertThat(found.timestamp()).isEqualTo(150);
    } finally {
      deleteRecursively(dir);
    }
  }

  // ---------------------------------------------------------------- scenario and generators

  /** A log configuration and an operation sequence; printed as the counterexample on failure. */
  record Scenario(Settings settings, List<Op> ops) {
    @Override
    public String toString() {
      final StringBuilder out = new StringBuilder(settings.toString());
      for (int i = 0; i < ops.size(); i++) {
        out.append("\n  ").append(i).append(": ").append(ops.get(i));
      }
      return out.toString();
    }
  }

  /** The knobs of {@link LogConfig} the properties vary, plus the index memory budget. */
  record Settings(
      int segmentBytes,
      int indexIntervalBytes,
      int maxIndexBytes,
      long retentionBytes,
      long retentionMs,
      long rollMs,
      long fileDeleteDelayMs,
      long indexBudgetBytes,
      boolean smallBatches) {

    LogConfig config() {
      return LogConfig.builder()
          .segmentBytes(segmentBytes)
          .indexIntervalBytes(indexIntervalBytes)
          .maxIndexBytes(maxIndexBytes)
          .retentionBytes(retentionBytes)
          .retentionMs(retentionMs)
          .rollMs(rollMs)
          .fileDeleteDelayMs(fileDeleteDelayMs)
          .build();
    }

    IndexMemoryBudget budget() {
      return indexBudgetBytes <= 0
          ? IndexMemoryBudget.unlimited()
          : new IndexMemoryBudget(indexBudgetBytes);
    }
  }

  @Provide
  Arbitrary<Scenario> scenarios() {
    return scenarios(60, false, false);
  }

  @Provide
  Arbitrary<Scenario> scenariosWithMultiBatchAppends() {
    return scenarios(60, true, false);
  }

  @Provide
  Arbitrary<Scenario> scenariosWithListOffsets() {
    return scenarios(60, false, true);
  }

  static Arbitrary<Scenario> scenarios(int maxOps, boolean multiBatchAppends, boolean listOffsets) {
    return Combinators.combine(
            settings(),
            ops(multiBatchAppends, listOffsets)
                .list()
                .ofMaxSize(maxOps)
                .withSizeDistribution(RandomDistribution.uniform()))
        .as((s, ops) -> new Scenario(s, List.copyOf(ops)));
  }

  static Arbitrary<Settings> settings() {
    return Builders.withBuilder(() -> new long[9])
        .use(
            Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.integers().between(2048, 4096)),
                Tuple.of(1, Arbitraries.integers().between(2048, 8192))))
        .in((a, v) -> set(a, 0, v))
        .use(
            Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.integers().between(0, 64)),
                Tuple.of(1, Arbitraries.integers().between(0, 1024))))
        .in((a, v) -> set(a, 1, v))
        .use(Arbitraries.integers().between(120, 400))
        .in((a, v) -> set(a, 2, v))
        .use(
            Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.longs().between(1_000, 10_000)),
                Tuple.of(2, Arbitraries.longs().between(10_000, 60_000))))
        .in((a, v) -> set(a, 3, v))
        .use(
            Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.just(-1L)),
                Tuple.of(1, Arbitraries.longs().between(1_000, 3_000_000))))
        .in((a, v) -> set(a, 4, v))
        .use(
            Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.longs().between(1_000, 20_000)),
                Tuple.of(2, Arbitraries.longs().between(20_000, 3_000_000))))
        .in((a, v) -> set(a, 5, v))
        .use(Arbitraries.of(0L, 60_000L))
        .in((a, v) -> set(a, 6, v))
        .use(
            Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.just(0L)),
                Tuple.of(1, Arbitraries.longs().between(1, 2000))))
        .in((a, v) -> set(a, 7, v))
        .use(Arbitraries.of(false, true))
        .in((a, v) -> set(a, 8, v ? 1 : 0))
        .build(
            a ->
                new Settings(
                    (int) a[0], (int) a[1], (int) a[2], a[3], a[4], a[5], a[6], a[7], a[8] != 0));
  }

  /** Integers spread evenly over the range (jqwik's default favours values near the minimum). */
  static Arbitrary<Integer> uniform(int min, int max) {
    return Arbitraries.integers().between(min, max).withDistribution(RandomDistribution.uniform());
  }

  private static long[] set(long[] a, int i, long v) {
    a[i] = v;
    return a;
  }

  static Arbitrary<Op> ops(boolean multiBatchAppends, boolean listOffsets) {
    final Arbitrary<Integer> pick = uniform(0, 1_000_000);
    final Arbitrary<Op> append =
        Builders.withBuilder(() -> new long[5])
            .use(uniform(1, 20))
            .in((a, v) -> set(a, 0, v))
            .use(uniform(0, 300))
            .in((a, v) -> set(a, 1, v))
            .use(
                Arbitraries.frequencyOf(
                    Tuple.of(3, Arbitraries.longs().between(-2_000, 2_000)),
                    Tuple.of(1, Arbitraries.longs().between(-3_000_000, 100_000))))
            .in((a, v) -> set(a, 2, v))
            .use(Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(-1)), Tuple.of(1, pick)))
            .in((a, v) -> set(a, 3, v))
            .use(Arbitraries.longs())
            .in((a, v) -> set(a, 4, v))
            .build(a -> new Append((int) a[0], (int) a[1], a[2], (int) a[3], a[4]));
    final Arbitrary<Integer> maxBytes =
        Arbitraries.frequencyOf(
            Tuple.of(1, Arbitraries.just(0)),
            Tuple.of(2, Arbitraries.just(1)),
            Tuple.of(4, uniform(1, 25_000)),
            Tuple.of(3, Arbitraries.just(Integer.MAX_VALUE)));
    final Arbitrary<Op> read =
        Combinators.combine(
                pick,
                maxBytes,
                Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(-1)), Tuple.of(2, pick)))
            .as(Read::new);
    final Arbitrary<Op> appendMany =
        append
            .map(Append.class::cast)
            .list()
            .ofMinSize(2)
            .ofMaxSize(5)
            .map(parts -> new AppendMany(List.copyOf(parts)));
    final Arbitrary<Op> listOffsetsOp =
        Combinators.combine(pick, Arbitraries.of(true, false)).as(ListOffsets::new);
    return Arbitraries.frequencyOf(
        Tuple.of(16, append),
        Tuple.of(multiBatchAppends ? 6 : 0, appendMany),
        Tuple.of(listOffsets ? 6 : 0, listOffsetsOp),
        Tuple.of(1, pick.map(TruncateFully::new)),
        Tuple.of(6, read),
        Tuple.of(2, pick.map(Truncate::new)),
        Tuple.of(2, pick.map(DeleteBefore::new)),
        Tuple.of(
            2,
            Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(-1)), Tuple.of(1, pick))
                .map(Retention::new)),
        Tuple.of(1, Arbitraries.just(new Reopen())),
        Tuple.of(1, Arbitraries.just(new CrashReopen())),
        Tuple.of(1, Arbitraries.just(new Flush())),
        Tuple.of(1, Arbitraries.longs().between(1, 2_000_000).map(Tick::new)));
  }

  // ---------------------------------------------------------------- operations

  /** One step against the log and the model. */
  interface Op {
    void run(Harness h) throws IOException;
  }

  /**
   * Appends one batch at the log end (follower path), or at a wrong base offset through the leader
   * path when {@code leaderEpoch >= 0}. A batch larger than a segment must be rejected.
   */
  record Append(int records, int valueSize, long timestampDelta, int leaderEpoch, long seed)
      implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final int records = h.records(this);
      final int valueSize = h.valueSize(this);
      final long firstTimestamp = h.clock.time() + timestampDelta;
      final ByteBuffer expected =
          randomBatch(h.model.end, records, valueSize, firstTimestamp, seed);
      final boolean asLeader = leaderEpoch >= 0;
      if (asLeader) {
        expected.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, leaderEpoch);
      }
      final ByteBuffer input =
          asLeader
              ? randomBatch(seed & 0xffff, records, valueSize, firstTimestamp, seed)
              : expected.duplicate();
      final byte[] bytes = TestBatches.bytes(expected);
      // Only a leader refuses a batch for size; a follower holds what a leader accepted.
      if (asLeader && bytes.length > h.config.segmentBytes()) {
        assertThatThrownBy(() -> h.append(input, leaderEpoch))
            .isInstanceOf(InvalidBatchException.class)
            .extracting(e -> ((InvalidBatchException) e).reason())
            .isEqualTo(InvalidBatchException.Reason.TOO_LARGE);
        return;
      }
      final List<Long> segmentsBefore = h.log.segmentBaseOffsets();
      final long activeBytes =
          h.model.bytesBetween(segmentsBefore.get(segmentsBefore.size() - 1), Long.MAX_VALUE);
      final LogAppendInfo info = h.append(input, asLeader ? leaderEpoch : -1);
      final long base = h.model.end;
      final List<Long> segmentsAfter = h.log.segmentBaseOffsets();
      if (!segmentsAfter.equals(segmentsBefore)) {
        Statistics.label("roll")
            .collect(
                activeBytes + bytes.length > h.config.segmentBytes() ? "size" : "index or time");
      }
      assertThat(info.firstOffset()).isEqualTo(base);
      assertThat(info.lastOffset()).isEqualTo(base + records - 1);
      assertThat(info.sizeInBytes()).isEqualTo(bytes.length);
      if (asLeader) {
        assertThat(TestBatches.bytes(input)).isEqualTo(bytes);
      }
      h.model.batches.add(new ModelBatch(base, base + records - 1, bytes));
      h.model.end = base + records;
    }
  }

  /**
   * Several batches in one {@code append} call, or one {@code appendAsLeader} call with offsets
   * numbered from 0 by the producer.
   */
  record AppendMany(List<Append> parts) implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final int leaderEpoch = parts.get(0).leaderEpoch();
      final boolean asLeader = leaderEpoch >= 0;
      final List<ByteBuffer> expected = new ArrayList<>();
      final List<ByteBuffer> input = new ArrayList<>();
      long base = h.model.end;
      long producerBase = 0; // the leader path gets batches with the producer's offsets from 0
      for (Append part : parts) {
        final long firstTimestamp = h.clock.time() + part.timestampDelta();
        final ByteBuffer batch =
            randomBatch(base, h.records(part), h.valueSize(part), firstTimestamp, part.seed());
        if (asLeader) {
          batch.putInt(RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, leaderEpoch);
        }
        expected.add(batch);
        input.add(
            randomBatch(
                asLeader ? producerBase : base,
                h.records(part),
                h.valueSize(part),
                firstTimestamp,
                part.seed()));
        base += h.records(part);
        producerBase += h.records(part);
      }
      final ByteBuffer all = TestBatches.concat(input);
      final int size = all.remaining();
      if (asLeader && size > h.config.segmentBytes()) {
        assertThatThrownBy(() -> h.append(all, leaderEpoch))
            .isInstanceOf(InvalidBatchException.class)
            .extracting(e -> ((InvalidBatchException) e).reason())
            .isEqualTo(InvalidBatchException.Reason.TOO_LARGE);
        return;
      }
      final LogAppendInfo info = h.append(all, leaderEpoch);
      assertThat(info.firstOffset()).isEqualTo(h.model.end);
      assertThat(info.nextOffset()).isEqualTo(base);
      assertThat(info.batchCount()).isEqualTo(parts.size());
      assertThat(info.sizeInBytes()).isEqualTo(size);
      for (ByteBuffer batch : expected) {
        final RecordBatch header = new RecordBatch().wrap(batch, 0);
        h.model.batches.add(
            new ModelBatch(header.baseOffset(), header.lastOffset(), TestBatches.bytes(batch)));
      }
      h.model.end = base;
    }
  }

  /**
   * {@code offsetForTimestamp(t)} for a timestamp of a record in the log ({@code exact}) or any
   * timestamp around the clock.
   */
  record ListOffsets(int pick, boolean exact) implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final Model m = h.model;
      final int holding = m.indexOfBatchHolding(m.start);
      if (h.avoid.contains(KnownBug.TIMESTAMP_LOOKUP_BELOW_LOG_START)
          && holding >= 0
          && m.batches.get(holding).base < m.start) {
        return;
      }
      final List<long[]> records = m.readableRecords();
      final long timestamp =
          exact && !records.isEmpty()
              ? records.get(pick % records.size())[1]
              : Math.max(0, h.clock.time() - 3_100_000 + pick * 4L);
      long expected = -1;
      for (long[] record : records) {
        if (record[1] >= timestamp) {
          expected = record[0];
          break;
        }
      }
      final TimestampOffset found = h.log.offsetForTimestamp(timestamp);
      if (expected < 0) {
        assertThat(found).as("offsetForTimestamp(%d) of %s", timestamp, records.size()).isNull();
      } else {
        assertThat(found).as("offsetForTimestamp(%d)", timestamp).isNotNull();
        assertThat(found.offset()).as("offsetForTimestamp(%d)", timestamp).isEqualTo(expected);
      }
    }
  }

  /** {@code truncateFullyAndStartAt} at any offset from 0 to 50 past the end. */
  record TruncateFully(int pick) implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final long offset = pick % (h.model.end + 51);
      h.log.truncateFullyAndStartAt(offset);
      h.model.batches.clear();
      h.model.start = offset;
      h.model.end = offset;
    }
  }

  /**
   * {@code read(offset, maxBytes, maxOffset)} with the offset anywhere from one below the log start
   * to one above the end, and {@code maxOffset} either unbounded ({@code maxOffsetPick < 0}) or in
   * [start, end + 1].
   */
  record Read(int offsetPick, int maxBytes, int maxOffsetPick) implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final Model m = h.model;
      final long offset = m.start - 1 + offsetPick % (m.end - m.start + 3);
      final long maxOffset =
          maxOffsetPick < 0 ? Long.MAX_VALUE : m.start + maxOffsetPick % (m.end - m.start + 2);
      h.checkRead(offset, maxBytes, maxOffset);
    }
  }

  /** {@code truncateTo} anywhere from one below the log start to one above the end. */
  record Truncate(int pick) implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final Model m = h.model;
      final long offset = m.start - 1 + pick % (m.end - m.start + 3);
      if (offset >= m.end) {
        assertThat(h.log.truncateTo(offset)).isEqualTo(m.end);
        return;
      }
      if (offset < m.start) {
        assertThatThrownBy(() -> h.log.truncateTo(offset))
            .isInstanceOf(IllegalArgumentException.class);
        return;
      }
      int holding = m.indexOfBatchHolding(offset);
      long target = offset;
      if (h.avoid.contains(KnownBug.TRUNCATE_BELOW_LOG_START)
          && m.batches.get(holding).base < m.start) {
        // Known bug (see logAgreesWithModelWhenTruncatingBelowTheLogStart): truncate at the next
        // batch boundary instead, which keeps the batch that holds the log start.
        target = m.batches.get(holding).last + 1;
        if (target >= m.end) {
          assertThat(h.log.truncateTo(target)).isEqualTo(m.end);
          return;
        }
        holding++;
      }
      final long newEnd = m.batches.get(holding).base;
      final long truncateAt = target;
      assertThat(h.log.truncateTo(truncateAt))
          .as("new end returned by truncateTo")
          .isEqualTo(newEnd);
      m.batches.subList(holding, m.batches.size()).clear();
      m.end = newEnd;
      // The documented invariant logStartOffset <= logEndOffset: a truncation into the batch that
      // holds the log start must pull the start down to the new end (as Kafka does).
      m.start = Math.min(m.start, newEnd);
    }
  }

  /** {@code deleteRecordsBefore} anywhere from one below the log start to one above the end. */
  record DeleteBefore(int pick) implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final Model m = h.model;
      final long offset = m.start - 1 + pick % (m.end - m.start + 3);
      if (offset > m.end) {
        assertThatThrownBy(() -> h.log.deleteRecordsBefore(offset))
            .isInstanceOf(OffsetOutOfRangeException.class);
        return;
      }
      h.log.deleteRecordsBefore(offset);
      m.start = Math.max(m.start, offset);
    }
  }

  /**
   * {@code applyRetention(highWatermark)} with the high watermark at the log end ({@code pick < 0})
   * or anywhere in [start, end]. Retention may only delete whole segments from the front.
   */
  record Retention(int pick) implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final Model m = h.model;
      final long highWatermark = pick < 0 ? m.end : m.start + pick % (m.end - m.start + 1);
      final long before = m.start;
      // Segments wholly below the log start (kept by DeleteRecords or a reopen) go regardless of
      // size or age; only the others count as deleted by size.
      final List<Long> basesBefore = h.log.segmentBaseOffsets();
      int hidden = 0;
      while (hidden + 1 < basesBefore.size()
          && basesBefore.get(hidden + 1) <= Math.min(before, highWatermark)) {
        hidden++;
      }
      final int deleted = h.log.applyRetention(highWatermark);
      final long after = h.log.logStartOffset();
      assertThat(after).as("log start after retention").isGreaterThanOrEqualTo(before);
      assertThat(after).as("log start after retention").isLessThanOrEqualTo(highWatermark);
      assertThat(deleted).isNotNegative();
      if (deleted == 0) {
        assertThat(after).as("log start when retention deleted nothing").isEqualTo(before);
      } else if (after != before) {
        assertThat(after == m.end || m.batches.stream().anyMatch(b -> b.base == after))
            .as("new log start %d is a batch boundary", after)
            .isTrue();
      }
      m.start = after;
      h.checkInvariants();
      if (h.config.retentionMs() < 0) {
        final List<Long> bases = h.log.segmentBaseOffsets();
        final long size = h.log.sizeInBytes();
        if (deleted > hidden) {
          assertThat(size)
              .as("size-based retention deleted too much")
              .isGreaterThanOrEqualTo(h.config.retentionBytes());
        }
        if (bases.size() > 1 && bases.get(1) <= highWatermark) {
          assertThat(size - m.bytesBetween(bases.get(0), bases.get(1)))
              .as("size-based retention left a deletable segment behind")
              .isLessThan(h.config.retentionBytes());
        }
      }
    }
  }

  /** Clean close and reopen: nothing changes. */
  record Reopen() implements Op {
    @Override
    public void run(Harness h) throws IOException {
      h.log.close();
      assertThat(h.budget.mappedBytes()).as("index bytes still mapped after close").isZero();
      assertThat(h.budget.indexCount()).as("indexes still registered after close").isZero();
      h.log = h.open();
      assertThat(h.log.recoveryPoint()).isEqualTo(h.model.end);
    }
  }

  /**
   * Unclean restart: the files are copied while the log is open (so the copy has no clean-shutdown
   * marker and holds the preallocated active indexes), and the copy is opened. Nothing may change.
   */
  record CrashReopen() implements Op {
    @Override
    public void run(Harness h) throws IOException {
      final Path copy = h.newDir();
      copyFiles(h.dir, copy);
      h.log.close();
      h.dir = copy;
      h.log = h.open();
      assertThat(h.log.recoveryPoint()).isEqualTo(h.model.end);
    }
  }

  /** {@code flush()} moves the recovery point to the log end. */
  record Flush() implements Op {
    @Override
    public void run(Harness h) throws IOException {
      h.log.flush();
      assertThat(h.log.recoveryPoint()).isEqualTo(h.model.end);
    }
  }

  /** Moves the clock on, for time-based rolls and retention. */
  record Tick(long ms) implements Op {
    @Override
    public void run(Harness h) {
      h.clock.advance(ms);
    }
  }

  // ---------------------------------------------------------------- the model

  record ModelBatch(long base, long last, byte[] bytes) {
    @Override
    public String toString() {
      return "[" + base + ".." + last + "]:" + bytes.length + "B";
    }
  }

  /** Batches still on disk in offset order, and the log's start and end offsets. */
  static final class Model {
    final List<ModelBatch> batches = new ArrayList<>();
    long start;
    long end;

    int indexOfBatchHolding(long offset) {
      for (int i = 0; i < batches.size(); i++) {
        if (batches.get(i).last >= offset) {
          return i;
        }
      }
      return -1;
    }

    /** Bytes of the batches readable from the log start on. */
    byte[] readableBytes() {
      final ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (ModelBatch b : batches) {
        if (b.last >= start) {
          out.writeBytes(b.bytes);
        }
      }
      return out.toByteArray();
    }

    /** (offset, timestamp) of every record at or after the log start, in offset order. */
    List<long[]> readableRecords() {
      final List<long[]> out = new ArrayList<>();
      for (ModelBatch b : batches) {
        if (b.last < start) {
          continue;
        }
        for (org.apache.kafka.common.record.internal.RecordBatch batch :
            MemoryRecords.readableRecords(ByteBuffer.wrap(b.bytes)).batches()) {
          for (org.apache.kafka.common.record.internal.Record record : batch) {
            if (record.offset() >= start) {
              out.add(new long[] {record.offset(), record.timestamp()});
            }
          }
        }
      }
      return out;
    }

    long bytesBetween(long fromBase, long toBase) {
      long total = 0;
      for (ModelBatch b : batches) {
        if (b.base >= fromBase && b.base < toBase) {
          total += b.bytes.length;
        }
      }
      return total;
    }
  }

  // ---------------------------------------------------------------- running

  static void run(Scenario scenario, Set<KnownBug> avoid) throws IOException {
    try (Harness h = new Harness(scenario.settings(), avoid)) {
      h.checkInvariants();
      int maxSegments = 1;
      for (int i = 0; i < scenario.ops().size(); i++) {
        final Op op = scenario.ops().get(i);
        try {
          op.run(h);
          h.checkInvariants();
          maxSegments = Math.max(maxSegments, h.log.segmentCount());
          Statistics.label("op").collect(op.getClass().getSimpleName());
        } catch (AssertionError | RuntimeException e) {
          throw new AssertionError("step " + i + " " + op + " failed: " + e.getMessage(), e);
        }
      }
      Statistics.label("max segments").collect(Math.min(maxSegments, 10));
    }
  }

  /** The log under test, its model and its temporary directories. */
  static final class Harness implements AutoCloseable {
    final LogConfig config;
    final IndexMemoryBudget budget;
    final CachedEpochClock clock = new CachedEpochClock();
    final Model model = new Model();
    final List<Path> dirs = new ArrayList<>();
    final Set<KnownBug> avoid;
    final boolean smallBatches;
    Path dir;
    SegmentedLog log;

    Harness(Settings settings, Set<KnownBug> avoid) throws IOException {
      this.avoid = avoid;
      this.smallBatches = settings.smallBatches();
      this.config = settings.config();
      this.budget = settings.budget();
      clock.update(CLOCK_START_MS);
      dir = newDir();
      log = open();
    }

    Path newDir() throws IOException {
      final Path d = tempDirectory("skiff-model-");
      dirs.add(d);
      return d;
    }

    SegmentedLog open() throws IOException {
      return SegmentedLog.open(dir, config, budget, clock);
    }

    /** Small-batch scenarios fill the indexes before the segment: at most 3 records of 16 B. */
    int records(Append append) {
      return smallBatches ? 1 + (append.records() - 1) % 3 : append.records();
    }

    int valueSize(Append append) {
      return smallBatches ? append.valueSize() % 17 : append.valueSize();
    }

    LogAppendInfo append(ByteBuffer batch, int leaderEpoch) throws IOException {
      return leaderEpoch >= 0 ? log.appendAsLeader(batch, leaderEpoch) : log.append(batch);
    }

    /** Everything that must hold between any two operations. */
    void checkInvariants() throws IOException {
      final Model m = model;
      assertThat(log.logEndOffset()).as("logEndOffset").isEqualTo(m.end);
      assertThat(log.logStartOffset()).as("logStartOffset").isEqualTo(m.start);
      assertThat(log.logStartOffset())
          .as("logStartOffset <= logEndOffset")
          .isLessThanOrEqualTo(log.logEndOffset());
      assertThat(log.recoveryPoint()).as("recoveryPoint").isLessThanOrEqualTo(m.end);
      assertThat(budget.mappedBytes()).as("mapped index bytes").isNotNegative();

      final List<Long> bases = log.segmentBaseOffsets();
      assertThat(bases).as("segments").isNotEmpty().isSorted();
      for (int i = 0; i < bases.size(); i++) {
        final long base = bases.get(i);
        final boolean last = i == bases.size() - 1;
        final boolean onBatch = m.batches.stream().anyMatch(b -> b.base == base);
        assertThat(onBatch || (last && base == m.end))
            .as("segment base %d of %s lies on a batch boundary of %s", base, bases, m.batches)
            .isTrue();
      }
      final long firstBase = bases.get(0);
      assertThat(firstBase).as("first segment base").isLessThanOrEqualTo(m.start);
      // Batches below the first segment are gone from disk; none of them may have been readable.
      while (!m.batches.isEmpty() && m.batches.get(0).base < firstBase) {
        assertThat(m.batches.get(0).last).as("deleted batch was readable").isLessThan(m.start);
        m.batches.remove(0);
      }
      assertThat(log.sizeInBytes())
          .as("sizeInBytes")
          .isEqualTo(m.bytesBetween(firstBase, Long.MAX_VALUE));
      assertThat(readAll(log, m.start, m.end))
          .as("bytes read from the log start")
          .isEqualTo(m.readableBytes());
      assertThat(log.offsetForTimestamp(SegmentedLog.EARLIEST_TIMESTAMP).offset())
          .isEqualTo(m.start);
      assertThat(log.offsetForTimestamp(SegmentedLog.LATEST_TIMESTAMP).offset()).isEqualTo(m.end);
    }

    /** One read, checked against the model. */
    void checkRead(long offset, int maxBytes, long maxOffset) throws IOException {
      final Model m = model;
      if (offset < m.start || offset > m.end) {
        assertThatThrownBy(() -> log.read(offset, maxBytes, maxOffset))
            .isInstanceOf(OffsetOutOfRangeException.class);
        return;
      }
      final FetchSlice slice = log.read(offset, maxBytes, maxOffset);
      final List<byte[]> got = splitBatches(bytesOf(slice));
      if (offset == m.end || offset >= maxOffset || maxBytes == 0) {
        assertThat(slice.isEmpty()).as("read at the end, the bound or of 0 bytes").isTrue();
        assertThat(slice.nextOffset()).isEqualTo(offset);
        return;
      }
      final int first = m.indexOfBatchHolding(offset);
      assertThat(first).isNotNegative();
      if (got.isEmpty()) {
        assertThat(m.batches.get(first).last)
            .as("empty read although the batch holding %d is below maxOffset", offset)
            .isGreaterThanOrEqualTo(maxOffset);
        assertThat(slice.nextOffset()).isEqualTo(offset);
        return;
      }
      int total = 0;
      for (int i = 0; i < got.size(); i++) {
        assertThat(first + i).as("read past the log end").isLessThan(m.batches.size());
        final ModelBatch expected = m.batches.get(first + i);
        assertThat(got.get(i))
            .as("batch %d of the read at %d", i, offset)
            .isEqualTo(expected.bytes);
        assertThat(expected.last).as("batch beyond maxOffset").isLessThan(maxOffset);
        total += expected.bytes.length;
      }
      if (got.size() > 1) {
        assertThat(total)
            .as("read of several batches above maxBytes")
            .isLessThanOrEqualTo(maxBytes);
      }
      final ModelBatch lastRead = m.batches.get(first + got.size() - 1);
      assertThat(slice.firstOffset()).isEqualTo(m.batches.get(first).base);
      assertThat(slice.nextOffset()).isEqualTo(lastRead.last + 1);
      assertThat(slice.length()).isEqualTo(total);
      // The read stops only for a reason: the log end, maxOffset, maxBytes or a segment boundary.
      final int next = first + got.size();
      if (next < m.batches.size()) {
        final ModelBatch after = m.batches.get(next);
        final boolean segmentBoundary = log.segmentBaseOffsets().contains(after.base);
        assertThat(
                segmentBoundary
                    || after.last >= maxOffset
                    || (long) total + after.bytes.length > maxBytes)
            .as("read at %d stopped before %s for no reason", offset, after)
            .isTrue();
      }
    }

    @Override
    public void close() throws IOException {
      try {
        if (log != null) {
          log.close();
          assertThat(budget.mappedBytes()).as("index bytes mapped after close").isZero();
        }
      } finally {
        for (Path d : dirs) {
          deleteRecursively(d);
        }
      }
    }
  }

  // ---------------------------------------------------------------- helpers shared with others

  /**
   * One uncompressed v2 batch at {@code baseOffset} whose contents depend only on {@code seed} and
   * the arguments, not on the base offset: record timestamps jitter around {@code firstTimestamp}.
   */
  static ByteBuffer randomBatch(
      long baseOffset, int records, int valueSize, long firstTimestamp, long seed) {
    final Random random = new Random(seed);
    final SimpleRecord[] simple = new SimpleRecord[records];
    for (int i = 0; i < records; i++) {
      final byte[] value = new byte[valueSize];
      random.nextBytes(value);
      final byte[] key = random.nextBoolean() ? null : ("k" + random.nextInt(1000)).getBytes();
      final long timestamp = Math.max(0, firstTimestamp + random.nextInt(2001) - 1000);
      simple[i] = new SimpleRecord(timestamp, key, value);
    }
    return MemoryRecords.withRecords(baseOffset, Compression.NONE, simple).buffer();
  }

  /** Reads every batch from {@code from} to {@code to} with unbounded reads, slice by slice. */
  static byte[] readAll(SegmentedLog log, long from, long to) throws IOException {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    long offset = from;
    while (offset < to) {
      final FetchSlice slice = log.read(offset, Integer.MAX_VALUE, Long.MAX_VALUE);
      assertThat(slice.isEmpty()).as("empty read at %d below the end %d", offset, to).isFalse();
      assertThat(slice.nextOffset()).as("read at %d makes progress", offset).isGreaterThan(offset);
      assertThat(slice.firstOffset()).isLessThanOrEqualTo(offset);
      final byte[] bytes = bytesOf(slice);
      splitBatches(bytes);
      out.writeBytes(bytes);
      offset = slice.nextOffset();
    }
    return out.toByteArray();
  }

  /** The bytes of a slice, read with positional reads of its channel. */
  static byte[] bytesOf(FetchSlice slice) throws IOException {
    if (slice.isEmpty()) {
      return new byte[0];
    }
    final ByteBuffer buffer = ByteBuffer.allocate(slice.length());
    while (buffer.hasRemaining()) {
      if (slice.channel().read(buffer, slice.position() + buffer.position()) < 0) {
        throw new EOFException("slice " + slice + " runs past the end of its file");
      }
    }
    return buffer.array();
  }

  /** Splits whole batches, asserting that each one is a valid, CRC-clean v2 batch. */
  static List<byte[]> splitBatches(byte[] bytes) {
    final ByteBuffer buffer = ByteBuffer.wrap(bytes);
    final RecordBatch batch = new RecordBatch();
    final List<byte[]> out = new ArrayList<>();
    int position = 0;
    while (position < bytes.length) {
      batch.wrap(buffer, position).validate(bytes.length - position, Integer.MAX_VALUE);
      final int size = batch.sizeInBytes();
      final byte[] one = new byte[size];
      System.arraycopy(bytes, position, one, 0, size);
      out.add(one);
      position += size;
    }
    return out;
  }

  /**
   * A new temporary directory, in {@code /dev/shm} where there is one: the logs fsync on flush,
   * roll and close, and on tmpfs that costs nothing, which keeps the run time steady.
   */
  static Path tempDirectory(String prefix) throws IOException {
    final Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return Files.createTempDirectory(shm, prefix);
    }
    return Files.createTempDirectory(prefix);
  }

  /** Copies every regular file of {@code from} into {@code to}, as a crash would leave them. */
  static void copyFiles(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(file)) {
          Files.copy(file, to.resolve(file.getFileName()));
        }
      }
    }
  }

  static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
