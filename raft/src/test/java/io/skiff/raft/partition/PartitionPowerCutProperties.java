package io.skiff.raft.partition;

import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.Fsync;
import io.skiff.log.IndexMemoryBudget;
import io.skiff.log.LogConfig;
import io.skiff.log.PowerCutFileSystem;
import io.skiff.log.PowerCutLogModel;
import io.skiff.log.SegmentedLog;
import io.skiff.raft.producer.PartitionProducers;
import io.skiff.raft.producer.ProducerRun;
import io.skiff.raft.producer.ProducerStateTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.agrona.concurrent.CachedEpochClock;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/**
 * A partition replica's persistent pieces survive a power cut together: the partition log and the
 * state machine's snapshots (point and producer state, {@link SnapshotFile}), driven as {@link
 * PartitionStateMachine} drives them. Idempotent appends, Raft flushes (an fsync of the log),
 * snapshots (flush, save, then the older snapshot goes as Ratis' purge makes it go), truncations of
 * the uncommitted tail and clean restarts run on a {@link PowerCutFileSystem}; then the power is
 * cut, and the replica must be able to start from what is left:
 *
 * <ul>
 *   <li>every acknowledged (fsynced) batch is in the log, and nothing else but whole batches once
 *       appended at their offsets;
 *   <li>the latest snapshot saved is there, whole, its producer state readable and equal to what
 *       was saved, and the log reaches its high watermark (else {@code restore} refuses to start:
 *       the Raft entries it replaced are purged, so nothing could rebuild the lost batches).
 * </ul>
 */
class PartitionPowerCutProperties {
  private static final String SNAPSHOT_PREFIX = "snapshot.1_";

  sealed interface Op {}

  record Append(int producer, int records, long seed) implements Op {}

  record Flush() implements Op {}

  record Snapshot() implements Op {}

  record TruncateUncommitted(int pick) implements Op {}

  record Restart() implements Op {}

  /** What the replica holds on the power-cut file system, and what it acknowledged. */
  private static final class Replica {
    final Path logDir;
    final Path snapshotDir;
    final LogConfig config;
    final CachedEpochClock clock;
    final PowerCutLogModel model = new PowerCutLogModel();
    final PartitionProducers producers =
        new PartitionProducers(ProducerStateTable.DEFAULT_EXPIRATION_MS);
    final Map<Integer, Integer> nextSequence = new HashMap<>();
    SegmentedLog log;
    long raftIndex;
    long committed; // the high watermark: offsets a snapshot covered are never truncated
    PartitionRequest.SnapshotPoint lastSnapshot;
    ByteBuffer lastProducerState;

    Replica(Path root, LogConfig config, CachedEpochClock clock) throws IOException {
      this.logDir = root.resolve("log").resolve("t-0");
      this.snapshotDir = Fsync.createDirectories(root.resolve("raft").resolve("sm"));
      this.config = config;
      this.clock = clock;
      this.log = SegmentedLog.open(logDir, config, IndexMemoryBudget.unlimited(), clock);
    }
  }

  @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
  void aPowerCutLeavesAReplicaThatStartsWithEveryAcknowledgedRecord(
      @ForAll("configs") LogConfig config, @ForAll("workloads") List<Op> ops) throws IOException {
    final CachedEpochClock clock = new CachedEpochClock();
    clock.update(1_000_000L);
    final Path realRoot = tempDirectory("skiff-replica-powercut-");
    final Path crashed = tempDirectory("skiff-replica-after-");
    try {
      final PowerCutFileSystem fs = PowerCutFileSystem.over(realRoot);
      final Replica replica = new Replica(fs.root(), config, clock);
      try {
        for (Op op : ops) {
          run(op, replica);
        }
        fs.powerCut(crashed);
      } finally {
        replica.log.close();
      }
      Statistics.label("snapshot").collect(replica.lastSnapshot == null ? "none" : "taken");
      checkRecovered(crashed, replica);
    } finally {
      deleteRecursively(realRoot);
      deleteRecursively(crashed);
    }
  }

  private static void checkRecovered(Path crashed, Replica replica) throws IOException {
    final Path snapshotDir = crashed.resolve("raft").resolve("sm");
    final Path latest = latestSnapshot(snapshotDir);
    try (SegmentedLog log =
        SegmentedLog.open(
            crashed.resolve("log").resolve("t-0"),
            replica.config,
            IndexMemoryBudget.unlimited(),
            replica.clock)) {
      replica.model.check(log);
      if (replica.lastSnapshot == null) {
        return;
      }
      assertThat(latest).as("the latest snapshot after the power cut").isNotNull();
      final PartitionSnapshots.Loaded loaded = SnapshotFile.read(latest);
      assertThat(loaded.point()).as("snapshot point").isEqualTo(replica.lastSnapshot);
      final PartitionProducers restored =
          new PartitionProducers(ProducerStateTable.DEFAULT_EXPIRATION_MS);
      restored.restore(loaded.producerState());
      final PartitionProducers saved =
          new PartitionProducers(ProducerStateTable.DEFAULT_EXPIRATION_MS);
      saved.restore(replica.lastProducerState);
      assertThat(restored.snapshot()).as("producer state").isEqualTo(saved.snapshot());
      assertThat(log.logEndOffset())
          .as(
              "log end after the power cut, snapshot high watermark %d",
              loaded.point().highWatermark())
          .isGreaterThanOrEqualTo(loaded.point().highWatermark());
    }
  }

  /** The snapshot with the highest index, as Ratis picks it; null if there is none. */
  private static Path latestSnapshot(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return null;
    }
    Path best = null;
    long bestIndex = -1;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, SNAPSHOT_PREFIX + "*")) {
      for (Path file : files) {
        final String suffix = file.getFileName().toString().substring(SNAPSHOT_PREFIX.length());
        if (suffix.chars().allMatch(Character::isDigit) && Long.parseLong(suffix) > bestIndex) {
          bestIndex = Long.parseLong(suffix);
          best = file;
        }
      }
    }
    return best;
  }

  private static void run(Op op, Replica r) throws IOException {
    r.clock.advance(10);
    if (op instanceof Append a) {
      final int sequence = r.nextSequence.getOrDefault(a.producer(), 0);
      final ByteBuffer batch = idempotentBatch(r.log.logEndOffset(), a, sequence, r.clock.time());
      final long base = r.log.logEndOffset();
      r.log.appendAsLeader(batch.duplicate(), 1);
      // Applied as a replica applies its entry: from the entry header the leader filled in.
      final EntryHeader header =
          EntryHeader.forAppend(
              batch.remaining(), a.records(), r.clock.time(), ProducerRun.of(batch));
      header.assign(base, r.log.logEndOffset(), 1, r.clock.time());
      r.producers.applied(header);
      r.model.appended(batch);
      r.nextSequence.put(a.producer(), sequence + a.records());
      r.raftIndex++;
    } else if (op instanceof Flush) {
      r.log.flush();
      r.model.synced();
    } else if (op instanceof Snapshot) {
      // PartitionStateMachine.takeSnapshot: everything applied is committed; fsync, then save.
      r.committed = r.log.logEndOffset();
      r.log.flush();
      r.model.synced();
      final Path previous = r.lastSnapshot == null ? null : snapshotFile(r, r.lastSnapshot);
      final PartitionRequest.SnapshotPoint point =
          new PartitionRequest.SnapshotPoint(1, r.raftIndex, r.committed, r.log.logStartOffset());
      final ByteBuffer producerState = r.producers.snapshot();
      SnapshotFile.write(snapshotFile(r, point), point, producerState);
      r.lastSnapshot = point;
      r.lastProducerState = producerState;
      r.raftIndex++;
      if (previous != null && !previous.equals(snapshotFile(r, point))) {
        Files.delete(previous); // Ratis keeps only the newest snapshots
      }
    } else if (op instanceof TruncateUncommitted t) {
      final long end = r.log.logEndOffset();
      if (end > r.committed) {
        r.model.truncatedTo(r.log.truncateTo(r.committed + t.pick() % (end - r.committed)));
      }
    } else if (op instanceof Restart) {
      r.log.close();
      r.model.synced();
      r.log = SegmentedLog.open(r.logDir, r.config, IndexMemoryBudget.unlimited(), r.clock);
    }
  }

  private static Path snapshotFile(Replica r, PartitionRequest.SnapshotPoint point) {
    return r.snapshotDir.resolve(SNAPSHOT_PREFIX + point.index());
  }

  private static ByteBuffer idempotentBatch(long base, Append a, int sequence, long timestamp) {
    final Random random = new Random(a.seed());
    final SimpleRecord[] records = new SimpleRecord[a.records()];
    for (int i = 0; i < records.length; i++) {
      final byte[] value = new byte[random.nextInt(200)];
      random.nextBytes(value);
      records[i] = new SimpleRecord(timestamp, null, value);
    }
    return MemoryRecords.withIdempotentRecords(
            base, Compression.NONE, 1000L + a.producer(), (short) 0, sequence, 1, records)
        .buffer();
  }

  @Provide
  Arbitrary<LogConfig> configs() {
    return Arbitraries.integers()
        .between(2048, 4096)
        .map(
            segmentBytes ->
                LogConfig.builder()
                    .segmentBytes(segmentBytes)
                    .indexIntervalBytes(256)
                    .maxIndexBytes(128)
                    .fileDeleteDelayMs(0)
                    .build());
  }

  @Provide
  Arbitrary<List<Op>> workloads() {
    final Arbitrary<Op> append =
        Combinators.combine(
                Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(1, 5),
                Arbitraries.longs())
            .as(Append::new);
    final Arbitrary<Op> truncate =
        Arbitraries.integers().between(0, 1_000_000).map(TruncateUncommitted::new);
    return Arbitraries.frequencyOf(
            Tuple.of(30, append),
            Tuple.of(5, Arbitraries.just(new Flush())),
            Tuple.of(4, Arbitraries.just(new Snapshot())),
            Tuple.of(3, truncate),
            Tuple.of(1, Arbitraries.just(new Restart())))
        .list()
        .ofMinSize(1)
        .ofMaxSize(60);
  }

  private static Path tempDirectory(String prefix) throws IOException {
    final Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return Files.createTempDirectory(shm, prefix);
    }
    return Files.createTempDirectory(prefix);
  }

  private static void deleteRecursively(Path root) throws IOException {
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
