package io.skiff.log;

import static io.skiff.log.CompactedLogReader.readAll;
import static org.assertj.core.api.Assertions.assertThat;

import io.skiff.log.CompactedLogReader.Entry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.agrona.concurrent.CachedEpochClock;

/**
 * Properties of {@link LogCleaner} over random keyed writes (with tombstones) in random batches and
 * segment sizes: after a pass, every record kept is the original at its offset, the latest record
 * per key below the active segment survives and nothing superseded does, the active segment is
 * untouched, tombstones past {@code delete.retention.ms} are gone, and the log reads the same after
 * an unclean reopen.
 */
class LogCleanerProperties {
  private static final long T0 = 1_000_000L;
  private static final long DELETE_RETENTION_MS = 10_000;

  @Provide
  Arbitrary<List<List<String>>> batches() {
    final Arbitrary<String> key = Arbitraries.of("a", "b", "c", "d", "e", "f", "g");
    final Arbitrary<String> value =
        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(20).injectNull(0.15);
    final Arbitrary<List<String>> record =
        key.list().ofSize(1).flatMap(k -> value.map(v -> pair(k.get(0), v)));
    return record
        .list()
        .ofMinSize(1)
        .ofMaxSize(4)
        .map(LogCleanerProperties::flatten)
        .list()
        .ofMinSize(1)
        .ofMaxSize(120);
  }

  private static List<String> pair(String k, String v) {
    final List<String> out = new ArrayList<>();
    out.add(k);
    out.add(v);
    return out;
  }

  private static List<String> flatten(List<List<String>> records) {
    final List<String> out = new ArrayList<>();
    records.forEach(out::addAll);
    return out;
  }

  @Property(tries = 60)
  void cleaningKeepsExactlyTheLatestRecordPerKey(
      @ForAll("batches") List<List<String>> batches,
      @ForAll @IntRange(min = 1024, max = 4096) int segmentBytes,
      @ForAll boolean expireTombstones)
      throws IOException {
    final Path dir = Files.createTempDirectory("cleaner-props");
    final CachedEpochClock clock = new CachedEpochClock();
    clock.update(T0);
    final LogConfig config =
        LogConfig.builder()
            .segmentBytes(segmentBytes)
            .indexIntervalBytes(128)
            .cleanupPolicy("compact,delete")
            .retentionMs(-1)
            .deleteRetentionMs(DELETE_RETENTION_MS)
            .minCleanableDirtyRatio(0)
            .build();
    try {
      SegmentedLog log = SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock);
      for (List<String> batch : batches) {
        log.appendAsLeader(CompactedLogReader.keyedBatch(T0, batch.toArray(String[]::new)), 3);
      }
      final List<Entry> before = readAll(log);
      final List<Long> bases = log.segmentBaseOffsets();
      final long activeBase = bases.get(bases.size() - 1);
      if (expireTombstones) {
        clock.update(T0 + DELETE_RETENTION_MS + 1);
      }

      log.applyRetention(log.logEndOffset());

      final List<Entry> after = readAll(log);
      assertCleaned(before, after, activeBase, expireTombstones);
      assertThat(log.logEndOffset()).isEqualTo(before.get(before.size() - 1).offset() + 1);

      Files.deleteIfExists(dir.resolve(LogDirectory.CLEAN_SHUTDOWN_FILE));
      log.flush(); // an unclean reopen of a flushed log: recovery must keep every cleaned batch
      log = SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock);
      assertThat(readAll(log)).isEqualTo(after);
      log.close();
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(f);
        }
      }
    }
  }

  private static void assertCleaned(
      List<Entry> before, List<Entry> after, long activeBase, boolean tombstonesExpired) {
    assertThat(before).containsAll(after); // offsets, keys and values as written
    final List<Entry> cleanable = before.stream().filter(e -> e.offset() < activeBase).toList();
    for (Entry entry : cleanable) {
      final boolean latest = CompactedLogs.isLatest(cleanable, entry);
      final boolean expiredTombstone = tombstonesExpired && entry.value() == null;
      assertThat(after.contains(entry))
          .as("%s kept (latest for its key: %s)", entry, latest)
          .isEqualTo(latest && !expiredTombstone);
    }
    assertThat(after.stream().filter(e -> e.offset() >= activeBase).toList())
        .isEqualTo(before.stream().filter(e -> e.offset() >= activeBase).toList());
  }
}
