package io.skiff.log;

import java.io.IOException;
import java.util.List;
import java.util.NavigableMap;
import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the segments of a log directory and brings them to a consistent state, the way Kafka's
 * {@code LogLoader} does.
 *
 * <p>After a clean shutdown, segments are trusted as they are unless an index fails its sanity
 * check. After an unclean one, every segment that may hold unflushed batches (from the one holding
 * the recovery point on) is CRC-checked from its start; a torn or corrupt batch and everything
 * after it are cut, with a warning, and segments after a cut are deleted because their offsets no
 * longer follow on. Nothing before the first bad batch is ever removed. Segments lying wholly below
 * the checkpointed log start offset are kept: DeleteRecords may have left them for replication
 * ({@link SegmentedLog#deleteRecordsBefore(long, long)}), and retention deletes them.
 *
 * <p>Runs once, single-threaded, before the log is published.
 */
final class LogLoader {
  private static final Logger LOG = LoggerFactory.getLogger(LogLoader.class);

  /**
   * What the loaded log starts from. {@code clean}: nothing on disk was recovered, so nothing needs
   * to be made durable before appends — after a clean shutdown, or for a new log (no segment yet),
   * whose empty files need no sync until its first flush.
   */
  record Loaded(long logStartOffset, long logEndOffset, long recoveryPoint, boolean clean) {}

  private final LogDirectory files;
  private final LogConfig config;
  private final IndexMemoryBudget budget;
  private final EpochClock clock;

  LogLoader(LogDirectory files, LogConfig config, IndexMemoryBudget budget, EpochClock clock) {
    this.files = files;
    this.config = config;
    this.budget = budget;
    this.clock = clock;
  }

  /** Fills {@code segments} (empty on entry) and tells the offsets the log starts from. */
  Loaded load(NavigableMap<Long, LogSegment> segments) throws IOException {
    final boolean clean = files.consumeCleanShutdownMarker();
    final List<Long> swapped = LogCleaner.completeInterruptedSwaps(files.path());
    final List<Long> bases = files.scanSegments();
    final long recoveryPoint = files.readCheckpoint(LogDirectory.RECOVERY_POINT_FILE, 0);
    final long checkpointedStart =
        files.readCheckpoint(
            LogDirectory.LOG_START_OFFSET_FILE, bases.isEmpty() ? 0 : bases.get(0));
    if (bases.isEmpty()) {
      segments.put(checkpointedStart, create(checkpointedStart));
    }
    for (int i = 0; i < bases.size(); i++) {
      final boolean last = i == bases.size() - 1;
      final LogSegment segment = open(bases.get(i), last);
      segments.put(segment.baseOffset(), segment);
      final boolean mayHoldUnflushed = last || bases.get(i + 1) > recoveryPoint;
      boolean recovered = false;
      int cut = 0;
      if ((!clean && mayHoldUnflushed) || swapped.contains(bases.get(i)) || !segment.loadTail()) {
        cut = recover(segment, last);
        recovered = true;
      }
      if (!last && (cut > 0 || segment.nextOffset() != bases.get(i + 1))) {
        // A cut tail, a hole or an overlap: offsets are dense and each segment starts where the
        // previous one ends, so the later segments can no longer be trusted (as in Kafka).
        if (!recovered) {
          recover(segment, false);
        }
        segment.activate();
        dropSegments(segment, bases.subList(i + 1, bases.size()));
        break;
      }
    }
    final long end = segments.lastEntry().getValue().nextOffset();
    final long start = Math.min(Math.max(checkpointedStart, segments.firstKey()), end);
    if (start != checkpointedStart) {
      // A crash lost batches the checkpoint had already moved past: the log starts at its end
      // now, and must keep starting there once batches are appended again.
      files.writeCheckpoint(LogDirectory.LOG_START_OFFSET_FILE, start);
    }
    LOG.debug(
        "Loaded log {}: offsets [{}, {}), {} segments, clean={}",
        files.name(),
        start,
        end,
        segments.size(),
        clean);
    return new Loaded(
        start, end, clean ? end : Math.min(recoveryPoint, end), clean || bases.isEmpty());
  }

  /**
   * CRC-checks a segment from its start and cuts a bad tail.
   *
   * @return bytes cut
   */
  private int recover(LogSegment segment, boolean last) throws IOException {
    LOG.info("Recovering segment {} of log {}", segment.baseOffset(), files.name());
    if (!last) {
      segment.activate(); // the rebuilt indexes may need more room than the old files had
    }
    final int cut = segment.recover();
    if (!last) {
      segment.deactivate();
    }
    return cut;
  }

  private void dropSegments(LogSegment cutSegment, List<Long> later) throws IOException {
    LOG.warn(
        "Segment {} of log {} was cut or ends at offset {}, not where the next segment starts;"
            + " deleting the {} later segments",
        cutSegment.baseOffset(),
        files.name(),
        cutSegment.nextOffset(),
        later.size());
    for (long base : later) {
      final LogSegment dropped = open(base, false);
      dropped.deleteFiles();
      dropped.channel().close();
      files.entriesChanged();
    }
  }

  private LogSegment create(long base) throws IOException {
    files.entriesChanged();
    return LogSegment.create(files.path(), base, config, budget, clock.time());
  }

  private LogSegment open(long base, boolean active) throws IOException {
    return LogSegment.open(files.path(), base, config, budget, active, clock.time());
  }
}
