package io.skiff.log;

import static io.skiff.log.SegmentedLogModelProperties.deleteRecursively;
import static io.skiff.log.SegmentedLogModelProperties.randomBatch;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.agrona.concurrent.CachedEpochClock;

/**
 * A {@link SegmentedLog} survives a power cut: random appends, flushes, truncations, log start
 * moves, restarts at an offset and clean reopenings run on a {@link PowerCutFileSystem}; then the
 * power is cut (only what was fsynced, files and directory entries alike, is kept) and the log is
 * opened again. Complements {@link CrashRecoveryProperties}, whose crashes keep every written byte
 * and damage the tail on purpose.
 */
class PowerCutProperties {

  /** One step of the workload. */
  sealed interface Op {}

  record Append(int records, int valueSize, long seed, boolean asLeader) implements Op {}

  record Flush() implements Op {}

  record Truncate(int pick) implements Op {}

  record DeleteRecords(int pick) implements Op {}

  record RestartAt(int gap) implements Op {}

  record Reopen() implements Op {}

  /**
   * After a power cut the log opens, holds every batch it held when it was last fsynced (less what
   * was truncated or deleted since), and nothing but whole batches once appended at their offsets;
   * it then takes an append and reopens cleanly with the same content.
   */
  @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
  void powerCutKeepsEverySyncedBatchAndNoTornOne(
      @ForAll("configs") LogConfig config, @ForAll("workloads") List<Op> ops) throws IOException {
    final CachedEpochClock clock = new CachedEpochClock();
    clock.update(SegmentedLogModelProperties.CLOCK_START_MS);
    final Path realRoot = SegmentedLogModelProperties.tempDirectory("skiff-powercut-");
    final Path crashed = SegmentedLogModelProperties.tempDirectory("skiff-powercut-after-");
    try {
      final PowerCutFileSystem fs = PowerCutFileSystem.over(realRoot);
      final Path dir = fs.root().resolve("topic-0");
      final PowerCutLogModel model = new PowerCutLogModel();
      SegmentedLog log = open(dir, config, clock);
      try {
        for (Op op : ops) {
          log = run(op, log, model, dir, config, clock);
        }
        fs.powerCut(crashed);
      } finally {
        log.close();
      }
      Statistics.label("acknowledged").collect(model.acknowledgedEnd() < 0 ? "none" : "some");
      final Path recoveredDir = crashed.resolve("topic-0");
      final long end;
      try (SegmentedLog recovered = open(recoveredDir, config, clock)) {
        model.check(recovered);
        model.recovered(recovered);
        end = recovered.logEndOffset();
        final ByteBuffer next = randomBatch(end, 2, 10, clock.time(), 7);
        recovered.append(next.duplicate());
        model.appended(next);
        model.synced();
      }
      try (SegmentedLog reopened = open(recoveredDir, config, clock)) {
        assertThat(reopened.logEndOffset()).as("log end after a clean restart").isEqualTo(end + 2);
        model.check(reopened);
      }
    } finally {
      deleteRecursively(realRoot);
      deleteRecursively(crashed);
    }
  }

  /**
   * A shrunk counterexample: a truncation into a flushed segment, then appends that roll to a new
   * segment, then a clean close. The close flushed only from the new segment on, so the cut tail of
   * the old one came back after the power cut, in front of the acknowledged batches.
   */
  @Example
  void truncationFollowedByARollIsDurable() throws IOException {
    powerCutKeepsEverySyncedBatchAndNoTornOne(
        LogConfig.builder()
            .segmentBytes(2048)
            .indexIntervalBytes(0)
            .maxIndexBytes(64)
            .fileDeleteDelayMs(0)
            .build(),
        List.of(
            new Append(3, 240, 3, true),
            new Append(2, 0, 0, true),
            new Append(1, 51, 9490, false),
            new Flush(),
            new Truncate(3),
            new Append(5, 222, -8501723, true),
            new Append(1, 109, 731594, true),
            new Append(3, 133, 1225890454, true),
            new Reopen()));
  }

  private static SegmentedLog run(
      Op op,
      SegmentedLog log,
      PowerCutLogModel model,
      Path dir,
      LogConfig config,
      CachedEpochClock clock)
      throws IOException {
    clock.advance(10);
    final long start = log.logStartOffset();
    final long end = log.logEndOffset();
    if (op instanceof Append a) {
      final ByteBuffer batch = randomBatch(end, a.records(), a.valueSize(), clock.time(), a.seed());
      if (a.asLeader()) {
        log.appendAsLeader(batch.duplicate(), 1);
      } else {
        log.append(batch.duplicate());
      }
      model.appended(batch);
    } else if (op instanceof Flush) {
      log.flush();
      model.synced();
    } else if (op instanceof Truncate t) {
      if (end > start) {
        model.truncatedTo(log.truncateTo(start + t.pick() % (end - start)));
      }
    } else if (op instanceof DeleteRecords d) {
      log.deleteRecordsBefore(start + d.pick() % (end - start + 1));
      model.startMovedTo(log.logStartOffset());
    } else if (op instanceof RestartAt r) {
      log.truncateFullyAndStartAt(end + r.gap());
      model.restartedAt(end + r.gap());
    } else if (op instanceof Reopen) {
      log.close();
      model.synced();
      log = open(dir, config, clock);
    }
    return log;
  }

  private static SegmentedLog open(Path dir, LogConfig config, CachedEpochClock clock)
      throws IOException {
    return SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock);
  }

  @Provide
  Arbitrary<LogConfig> configs() {
    return Combinators.combine(
            Arbitraries.integers().between(2048, 4096),
            Arbitraries.integers().between(0, 1024),
            Arbitraries.integers().between(64, 400))
        .as(
            (segmentBytes, interval, maxIndex) ->
                LogConfig.builder()
                    .segmentBytes(segmentBytes)
                    .indexIntervalBytes(interval)
                    .maxIndexBytes(maxIndex)
                    .fileDeleteDelayMs(0)
                    .build());
  }

  @Provide
  Arbitrary<List<Op>> workloads() {
    final Arbitrary<Op> append =
        Combinators.combine(
                Arbitraries.integers().between(1, 5),
                Arbitraries.integers().between(0, 300),
                Arbitraries.longs(),
                Arbitraries.of(true, false))
            .as(Append::new);
    final Arbitrary<Op> pick = Arbitraries.integers().between(0, 1_000_000).map(Truncate::new);
    final Arbitrary<Op> delete =
        Arbitraries.integers().between(0, 1_000_000).map(DeleteRecords::new);
    final Arbitrary<Op> restart = Arbitraries.integers().between(0, 5).map(RestartAt::new);
    return Arbitraries.frequencyOf(
            Tuple.of(30, append),
            Tuple.of(6, Arbitraries.just(new Flush())),
            Tuple.of(3, pick),
            Tuple.of(2, delete),
            Tuple.of(1, restart),
            Tuple.of(1, Arbitraries.just(new Reopen())))
        .list()
        .ofMinSize(1)
        .ofMaxSize(60);
  }
}
