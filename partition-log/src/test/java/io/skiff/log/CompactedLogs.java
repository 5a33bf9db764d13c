package io.skiff.log;

import io.skiff.log.CompactedLogReader.Entry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.agrona.concurrent.CachedEpochClock;

/**
 * The logs a cleaner test opens: all on one test clock, all closed by {@link #closeAll()} (the
 * test's {@code @AfterEach}), with the configuration and the checks the cleaner tests share. One
 * per test instance; not thread-safe.
 */
final class CompactedLogs {
  /** The time of every record the cleaner tests write, unless a test moves the clock on. */
  static final long T0 = 1_000_000L;

  private final CachedEpochClock clock = new CachedEpochClock();
  private final List<SegmentedLog> opened = new ArrayList<>();

  /** The clock every log opened here reads. */
  CachedEpochClock clock() {
    return clock;
  }

  /** Small segments (1 KiB) with a dense index, compacted at any dirty ratio above 1 %. */
  static LogConfig.Builder compacted() {
    return LogConfig.builder()
        .segmentBytes(1024)
        .indexIntervalBytes(64)
        .cleanupPolicy("compact")
        .minCleanableDirtyRatio(0.01);
  }

  /** Opens (or recovers) the log in {@code dir}, to be closed by {@link #closeAll()}. */
  SegmentedLog open(Path dir, LogConfig config) throws IOException {
    final SegmentedLog log = SegmentedLog.open(dir, config, IndexMemoryBudget.unlimited(), clock);
    opened.add(log);
    return log;
  }

  /** Closes every log opened so far, as a broker shutting down would. */
  void closeAll() throws IOException {
    for (SegmentedLog log : opened) {
      log.close();
    }
    opened.clear();
  }

  /** Copies a closed or flushed log's files, to compare two cleanings of the same log. */
  static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** No later record in {@code log} has the entry's key. */
  static boolean isLatest(List<Entry> log, Entry entry) {
    return log.stream().noneMatch(e -> e.key().equals(entry.key()) && e.offset() > entry.offset());
  }

  /** The latest record of every key: what a compaction must keep. */
  static List<Entry> latestPerKey(List<Entry> log) {
    return log.stream().filter(e -> isLatest(log, e)).toList();
  }
}
