package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
 * <p>A pass (1) maps every key in the dirty section (from the cleaner checkpoint to the cleanable
 * end) to its latest offset, (2) rewrites every cleanable segment without the records the map
 * supersedes, keeping each batch's offset range (a batch left without records stays as a header),
 * and (3) swaps each rewritten segment in the way Kafka does:
 *
 * <pre>
 *   N.log.cleaned   written and fsynced      (a crash here: deleted on load)
 *   N.log.swap      renamed, dir fsynced     (the commit point: completed on load)
 *   N.index, N.timeindex deleted; N.log.swap renamed over N.log, dir fsynced; indexes rebuilt
 * </pre>
 *
 * <p>Only segments that are not active and lie wholly below the bound the caller gives (the high
 * watermark and the Raft log floor) are touched. Compressed, transactional and control batches are
 * kept as they are and their keys are not mapped.
 *
 * <p>Not thread-safe: runs under the owning {@link SegmentedLog}'s lock.
 */
final class LogCleaner {
  static final String CLEANED_SUFFIX = ".cleaned";
  static final String SWAP_SUFFIX = ".swap";

  private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);

  /** What a pass did. */
  record Result(int segmentsRewritten, long recordsRemoved, long bytesBefore, long bytesAfter) {}

  private final LogDirectory files;
  private final LogConfig config;
  private final IndexMemoryBudget budget;
  private final EpochClock clock;
  private final RecordFilter filter = new RecordFilter();

  LogCleaner(LogDirectory files, LogConfig config, IndexMemoryBudget budget, EpochClock clock) {
    this.files = files;
    this.config = config;
    this.budget = budget;
    this.clock = clock;
  }

  /** Share of the cleanable bytes that lie at or above {@code firstDirty}: 0 when none do. */
  static double dirtyRatio(
      NavigableMap<Long, LogSegment> segments, long firstDirty, long cleanableEnd) {
    long total = 0;
    long dirty = 0;
    for (LogSegment segment : segments.headMap(cleanableEnd, false).values()) {
      total += segment.size();
      if (segment.baseOffset() >= firstDirty) {
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
    final List<LogSegment> cleanable = new ArrayList<>(segments.headMap(cleanableEnd).values());
    final CleanerOffsetMap map = new CleanerOffsetMap();
    for (LogSegment segment : cleanable) {
      if (segment.baseOffset() >= firstDirty) {
        final ByteBuffer content = readAll(segment);
        forEachBatch(content, (position, batch) -> mapKeys(content, position, batch, map));
      }
    }
    final long tombstoneHorizon = clock.time() - config.deleteRetentionMs();
    int rewritten = 0;
    long removed = 0;
    long before = 0;
    long after = 0;
    for (LogSegment segment : cleanable) {
      final boolean dropTombstones = segment.largestTimestamp() < tombstoneHorizon;
      final RecordFilter.Retention retention =
          (key, offset, tombstone) -> {
            final boolean latest = key == null || offset >= map.latestOffset(key);
            return latest && !(tombstone && dropTombstones);
          };
      final ByteBuffer content = readAll(segment);
      final ByteBuffer out = ByteBuffer.allocate(content.capacity());
      final long[] dropped = {0};
      forEachBatch(
          content,
          (position, batch) -> {
            if (RecordFilter.isCleanable(batch)) {
              dropped[0] += filter.filter(content, position, retention, out);
            } else {
              out.put(content.duplicate().position(position).limit(position + batch.sizeInBytes()));
            }
          });
      before += content.capacity();
      if (dropped[0] == 0) {
        after += content.capacity();
        continue;
      }
      out.flip();
      after += out.remaining();
      removed += dropped[0];
      rewritten++;
      segments.put(segment.baseOffset(), swapIn(segment, out));
      retire.accept(segment);
    }
    if (rewritten > 0) {
      LOG.info(
          "Cleaned log {}: {} segments rewritten, {} records removed, {} -> {} bytes",
          files.name(),
          rewritten,
          removed,
          before,
          after);
    }
    return new Result(rewritten, removed, before, after);
  }

  private void mapKeys(ByteBuffer content, int position, RecordBatch batch, CleanerOffsetMap map) {
    if (RecordFilter.isCleanable(batch)) {
      filter.visitKeys(content, position, map::put);
    }
  }

  /** Writes {@code content} as the new file of {@code old}'s base offset; returns it, opened. */
  private LogSegment swapIn(LogSegment old, ByteBuffer content) throws IOException {
    final Path dir = files.path();
    final long base = old.baseOffset();
    final Path log = LogSegment.file(dir, base, LogSegment.LOG_SUFFIX);
    final Path cleaned = LogSegment.file(dir, base, LogSegment.LOG_SUFFIX + CLEANED_SUFFIX);
    final Path swap = LogSegment.file(dir, base, LogSegment.LOG_SUFFIX + SWAP_SUFFIX);
    try (FileChannel channel =
        FileChannel.open(
            cleaned,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      while (content.hasRemaining()) {
        channel.write(content);
      }
      channel.force(true);
    }
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

  private interface BatchVisitor {
    void visit(int position, RecordBatch batch) throws IOException;
  }

  private static void forEachBatch(ByteBuffer content, BatchVisitor visitor) throws IOException {
    final RecordBatch batch = new RecordBatch();
    for (int position = 0; position < content.capacity(); ) {
      batch.wrap(content, position);
      final int size = batch.sizeInBytes();
      visitor.visit(position, batch);
      position += size;
    }
  }

  private static ByteBuffer readAll(LogSegment segment) throws IOException {
    final int size = segment.size();
    final ByteBuffer buffer = ByteBuffer.allocate(size);
    while (buffer.hasRemaining()) {
      if (segment.channel().read(buffer, buffer.position()) < 0) {
        throw new IOException("segment " + segment + " ended before its size " + size);
      }
    }
    return buffer.clear();
  }
}
