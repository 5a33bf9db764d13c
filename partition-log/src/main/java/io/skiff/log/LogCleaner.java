package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.function.Consumer;
import org.agrona.concurrent.EpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compacts a log whose {@code cleanup.policy} holds {@code compact}, with Kafka's semantics: the
 * latest record per key survives, tombstones (null values) survive for {@code delete.retention.ms}
 * after their segment's largest timestamp, offsets never change.
 *
 * <p>A pass (1) maps the keys of the dirty section (from the cleaner checkpoint on) to their latest
 * offsets in a {@link CleanerOffsetMap} of bounded size, up to the cleanable end or to the first
 * batch that no longer fits, (2) rewrites every segment below the mapped end without the records
 * the map supersedes, keeping each batch's offset range (a batch left without records stays as a
 * header), and (3) swaps each rewritten segment in the way Kafka does:
 *
 * <pre>
 *   N.log.cleaned   written and fsynced      (a crash here: deleted on load)
 *   N.log.swap      renamed, dir fsynced     (the commit point: completed on load)
 *   N.index, N.timeindex deleted; N.log.swap renamed over N.log, dir fsynced; indexes rebuilt
 * </pre>
 *
 * <p>Segments are streamed through a {@link SegmentBatchReader} and a {@link CleanedSegmentWriter}
 * ({@code log.cleaner.io.buffer.size} between them), never read whole. Compressed batches are
 * decompressed, filtered and recompressed with their codec ({@link CompressedBatchFilter});
 * transactional and control batches are kept as they are and their keys are not mapped. Given the
 * same bytes, the same bound and the same tombstone decision, every replica writes the same bytes.
 * Only segments that are not active and lie wholly below the bound the caller gives (the high
 * watermark and the Raft log floor) are touched.
 *
 * <p>Not thread-safe: runs under the owning {@link SegmentedLog}'s lock.
 */
final class LogCleaner {
  static final String CLEANED_SUFFIX = ".cleaned";
  static final String SWAP_SUFFIX = ".swap";

  private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);

  /**
   * What a pass did.
   *
   * @param cleanedTo the offset the pass mapped to: the next pass's first dirty offset
   */
  record Result(
      int segmentsRewritten,
      long recordsRemoved,
      long bytesBefore,
      long bytesAfter,
      long cleanedTo) {}

  private final LogDirectory files;
  private final LogConfig config;
  private final IndexMemoryBudget budget;
  private final EpochClock clock;
  private final RecordFilter filter = new RecordFilter();
  private final CompressedBatchFilter compressed = new CompressedBatchFilter();
  private final SegmentBatchReader reader;
  private final CleanedSegmentWriter writer;

  LogCleaner(LogDirectory files, LogConfig config, IndexMemoryBudget budget, EpochClock clock) {
    this.files = files;
    this.config = config;
    this.budget = budget;
    this.clock = clock;
    this.reader = new SegmentBatchReader(config.cleanerIoBufferBytes() / 2);
    this.writer = new CleanedSegmentWriter(config.cleanerIoBufferBytes() / 2);
  }

  /**
   * Share of the cleanable bytes (segments below {@code cleanableEnd}) in segments that hold
   * offsets at or above {@code firstDirty}: 0 when none do.
   */
  static double dirtyRatio(
      NavigableMap<Long, LogSegment> segments, long firstDirty, long cleanableEnd) {
    long total = 0;
    long dirty = 0;
    for (LogSegment segment : segments.headMap(cleanableEnd, false).values()) {
      total += segment.size();
      final Long next = segments.higherKey(segment.baseOffset());
      if (next == null || next > firstDirty) {
        dirty += segment.size();
      }
    }
    return total == 0 ? 0 : (double) dirty / total;
  }

  /**
   * Cleans the segments below {@code cleanableEnd} (a segment base offset), replacing them in
   * {@code segments} and handing each replaced segment to {@code retire} (its files are already
   * gone or replaced; only its channel remains open for reads under way).
   */
  Result clean(
      NavigableMap<Long, LogSegment> segments,
      long firstDirty,
      long cleanableEnd,
      Consumer<LogSegment> retire)
      throws IOException {
    final CleanerOffsetMap map = new CleanerOffsetMap(config.cleanerDedupeBufferBytes());
    final long mappedEnd = mapDirtySection(segments, firstDirty, cleanableEnd, map);
    final long tombstoneHorizon = clock.time() - config.deleteRetentionMs();
    int rewritten = 0;
    long removed = 0;
    long before = 0;
    long after = 0;
    for (LogSegment segment : new ArrayList<>(segments.headMap(mappedEnd).values())) {
      final boolean dropTombstones = segment.largestTimestamp() < tombstoneHorizon;
      // Above the mapped end the map cannot tell whether a tombstone is the latest: keep it.
      final RecordFilter.Retention retention =
          (key, offset, tombstone) ->
              key == null
                  || (offset >= map.latestOffset(key)
                      && !(tombstone && dropTombstones && offset < mappedEnd));
      final long dropped = rewrite(segment, retention);
      before += segment.size();
      if (dropped == 0) {
        after += segment.size();
        continue;
      }
      final LogSegment cleaned = swapIn(segment);
      after += cleaned.size();
      removed += dropped;
      rewritten++;
      segments.put(segment.baseOffset(), cleaned);
      retire.accept(segment);
    }
    if (rewritten > 0 || mappedEnd < cleanableEnd) {
      LOG.info(
          "Cleaned log {} up to offset {}{}: {} segments rewritten, {} records removed, {} -> {}"
              + " bytes, {} keys mapped",
          files.name(),
          mappedEnd,
          mappedEnd < cleanableEnd
              ? " (log.cleaner.dedupe.buffer.size is full; the next pass goes on to "
                  + cleanableEnd
                  + ")"
              : "",
          rewritten,
          removed,
          before,
          after,
          map.size());
    }
    return new Result(rewritten, removed, before, after, mappedEnd);
  }

  /**
   * Maps the keys of the batches from {@code firstDirty} on, up to {@code cleanableEnd} or the
   * first batch the map has no room for.
   *
   * @return the offset mapped up to (exclusive)
   */
  private long mapDirtySection(
      NavigableMap<Long, LogSegment> segments,
      long firstDirty,
      long cleanableEnd,
      CleanerOffsetMap map)
      throws IOException {
    final Long from = segments.floorKey(firstDirty);
    final long[] end = {cleanableEnd};
    for (LogSegment segment :
        segments.subMap(from == null ? firstDirty : from, true, cleanableEnd, false).values()) {
      final boolean[] full = {false};
      reader.forEachBatch(
          segment.channel(),
          segment.size(),
          (buffer, position, batch) -> {
            if (batch.nextOffset() <= firstDirty || !RecordFilter.isCleanable(batch)) {
              return true;
            }
            if (!map.hasRoomFor(batch.recordCount())) {
              full[0] = true;
              end[0] = batch.baseOffset();
              return false;
            }
            mapKeys(buffer, position, batch, map);
            return true;
          });
      if (full[0]) {
        break;
      }
    }
    if (end[0] <= firstDirty) {
      throw new IllegalStateException(
          "log.cleaner.dedupe.buffer.size holds "
              + map.maxEntries()
              + " keys, fewer than the batch at offset "
              + firstDirty
              + " of log "
              + files.name()
              + " has records; raise it to clean this log");
    }
    return end[0];
  }

  private void mapKeys(ByteBuffer buffer, int position, RecordBatch batch, CleanerOffsetMap map) {
    if (batch.compressionCodec() == 0) {
      filter.visitKeys(buffer, position, map::put);
    } else {
      compressed.visitKeys(buffer, position, batch.sizeInBytes(), map::put);
    }
  }

  /**
   * Writes {@code segment}'s batches, filtered, to its {@code .cleaned} file; deletes that file
   * again when nothing was dropped.
   *
   * @return the number of records dropped
   */
  private long rewrite(LogSegment segment, RecordFilter.Retention retention) throws IOException {
    writer.start(cleanedFile(segment.baseOffset()));
    final long[] dropped = {0};
    try {
      reader.forEachBatch(
          segment.channel(),
          segment.size(),
          (buffer, position, batch) -> {
            final int size = batch.sizeInBytes();
            if (!RecordFilter.isCleanable(batch)) {
              writer.write(buffer.duplicate().position(position).limit(position + size));
            } else if (batch.compressionCodec() == 0) {
              dropped[0] += filter.filter(buffer, position, retention, writer.reserve(size));
            } else {
              dropped[0] += compressed.filter(buffer, position, size, retention, writer);
            }
            return true;
          });
    } catch (IOException | RuntimeException e) {
      writer.abandon();
      throw e;
    }
    if (dropped[0] == 0) {
      writer.abandon();
    } else {
      writer.finish();
    }
    return dropped[0];
  }

  private Path cleanedFile(long base) {
    return LogSegment.file(files.path(), base, LogSegment.LOG_SUFFIX + CLEANED_SUFFIX);
  }

  /** Swaps the fsynced {@code .cleaned} file of {@code old} in; returns the new segment, opened. */
  private LogSegment swapIn(LogSegment old) throws IOException {
    final Path dir = files.path();
    final long base = old.baseOffset();
    final Path log = LogSegment.file(dir, base, LogSegment.LOG_SUFFIX);
    final Path cleaned = cleanedFile(base);
    final Path swap = LogSegment.file(dir, base, LogSegment.LOG_SUFFIX + SWAP_SUFFIX);
    Files.move(cleaned, swap, StandardCopyOption.ATOMIC_MOVE);
    Fsync.directory(dir);
    old.deleteIndexFiles();
    Files.move(swap, log, StandardCopyOption.ATOMIC_MOVE);
    Fsync.directory(dir);
    return reopen(dir, base);
  }

  /** Opens a swapped-in segment and rebuilds its indexes from its batches. */
  private LogSegment reopen(Path dir, long base) throws IOException {
    final LogSegment segment = LogSegment.open(dir, base, config, budget, true, clock.time());
    segment.recover();
    segment.deactivate();
    return segment;
  }

  /**
   * Finishes or undoes a pass a crash interrupted: a {@code .cleaned} file is deleted, a {@code
   * .swap} file replaces its segment's {@code .log} (its indexes are deleted, to be rebuilt).
   *
   * @return base offsets of the segments swapped in, whose indexes must be rebuilt
   */
  static List<Long> completeInterruptedSwaps(Path dir) throws IOException {
    final List<Long> swapped = new ArrayList<>();
    try (var entries = Files.newDirectoryStream(dir)) {
      for (Path file : entries) {
        final String name = file.getFileName().toString();
        if (name.endsWith(CLEANED_SUFFIX)) {
          LOG.warn("Deleting {}: a log cleaner pass was interrupted before its swap", file);
          Files.delete(file);
        } else if (name.endsWith(LogSegment.LOG_SUFFIX + SWAP_SUFFIX)) {
          final long base = Long.parseLong(name.substring(0, 20));
          LOG.warn("Completing the swap of cleaned segment {} interrupted by a crash", file);
          Files.deleteIfExists(LogSegment.file(dir, base, LogSegment.INDEX_SUFFIX));
          Files.deleteIfExists(LogSegment.file(dir, base, LogSegment.TIME_INDEX_SUFFIX));
          Files.move(
              file,
              LogSegment.file(dir, base, LogSegment.LOG_SUFFIX),
              StandardCopyOption.ATOMIC_MOVE);
          swapped.add(base);
        }
      }
    }
    if (!swapped.isEmpty()) {
      Fsync.directory(dir);
    }
    return swapped;
  }
}
