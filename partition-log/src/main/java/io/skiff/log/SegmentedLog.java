package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log of one partition: Kafka v2 record batches stored byte for byte in a directory of {@link
 * LogSegment}s, read back as zero-copy {@link FetchSlice}s.
 *
 * <p>Directory layout (Kafka's names):
 *
 * <pre>
 *   00000000000000000000.log        batches with offsets [0, 4711)
 *   00000000000000000000.index      offset index of that segment
 *   00000000000000000000.timeindex  time index of that segment
 *   00000000000000004711.log        the active segment: appends go here
 *   ...
 *   log-start-offset                checkpoint of the first readable offset
 *   cleaner-offset-checkpoint       compacted logs: where the not yet cleaned section starts
 *   recovery-point                  every batch below this offset has been fsynced (rewritten at
 *                                   most every log.flush.offset.checkpoint.interval.ms)
 *   .clean-shutdown                 present only between a clean close and the next open
 * </pre>
 *
 * <p>Invariants: offsets increase across segments without overlap; the last segment is the only
 * active one; {@code logStartOffset <= logEndOffset}; a batch once acknowledged by {@link #append}
 * is only ever removed by {@link #truncateTo}, {@link #deleteRecordsBefore}, {@link
 * #truncateFullyAndStartAt} or retention, never by recovery, which cuts only a torn or corrupt
 * tail.
 *
 * <p>Thread-safety: one appender at a time. Every mutating method ({@code append}, truncation,
 * retention, flush, close) takes an internal lock, so concurrent callers are serialised rather than
 * corrupting the log, but the design point is a single writer. Any number of threads may call
 * {@link #read} and the offset queries concurrently with the writer and each other; reads take no
 * lock. A segment deleted while a read is using its file stays readable for {@code
 * log.segment.delete.delay.ms}.
 */
public final class SegmentedLog implements AutoCloseable {
  public static final long LATEST_TIMESTAMP = -1L;
  public static final long EARLIEST_TIMESTAMP = -2L;
  public static final long MAX_TIMESTAMP = -3L;

  /**
   * Bytes left free on a log's file system beyond an append before {@link #checkSpaceFor} refuses
   * it: room for the Raft log entry, its preallocated segment ({@code 64 KiB}), index blocks
   * ({@link MappedIndex#ALLOCATION_CHUNK} per index), checkpoints and a snapshot, so that a full
   * disk stops producers before any write fails half way.
   */
  public static final long MIN_FREE_BYTES = 1 << 20;

  /**
   * Bytes a replica's write of batches its leader has accepted leaves free ({@link
   * #checkSpaceFor(int, long)}): less than {@link #MIN_FREE_BYTES}, so that followers go on taking
   * what a leader with room took, but enough for the small writes the broker cannot refuse on the
   * same disk: the metadata group's Raft log (its segments preallocate 64 KiB) and checkpoints.
   */
  public static final long REPLICA_RESERVE_BYTES = 256 << 10;

  private static final Logger LOG = LoggerFactory.getLogger(SegmentedLog.class);

  private final Path dir;
  private final LogDirectory files;
  private volatile LogConfig config; // replaced under lock by updateConfig
  private final IndexMemoryBudget budget;
  private final EpochClock clock;
  private final FileStore store;
  private final FreeSpace freeSpace;
  private final ReentrantLock lock = new ReentrantLock();
  private final ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
  private final RecordBatchSequence sequence = new RecordBatchSequence(); // guarded by lock
  private final ArrayDeque<Retired> retired = new ArrayDeque<>(); // guarded by lock

  private volatile long logStartOffset;
  private volatile long logEndOffset;
  private volatile long recoveryPoint;
  private long checkpointedRecoveryPoint; // guarded by lock: what the recovery-point file says
  private long lastRecoveryCheckpointMs; // guarded by lock
  private volatile boolean closed;
  private long unflushedRecords; // guarded by lock
  private long lastFlushMs; // guarded by lock

  /** Truncations so far: a flush that synced outside the lock does not advance past one. */
  private long truncations; // guarded by lock

  private volatile CleanerStats cleanerStats = CleanerStats.NONE; // replaced under lock

  /** A deleted segment whose channel stays open until {@code deadlineMs} for reads under way. */
  private record Retired(LogSegment segment, long deadlineMs) {}

  private SegmentedLog(Path dir, LogConfig config, IndexMemoryBudget budget, EpochClock clock)
      throws IOException {
    this.files = new LogDirectory(dir);
    this.dir = files.path();
    this.store = Files.getFileStore(this.dir);
    this.freeSpace = FreeSpace.of(store);
    this.config = config;
    this.budget = budget;
    this.clock = clock;
    this.lastFlushMs = clock.time();
    this.lastRecoveryCheckpointMs = lastFlushMs;
  }

  /** Opens the log in {@code dir} with no index budget and the system clock. */
  public static SegmentedLog open(Path dir, LogConfig config) throws IOException {
    return open(dir, config, IndexMemoryBudget.unlimited(), SystemEpochClock.INSTANCE);
  }

  /**
   * Opens the log in {@code dir}, creating it if needed. After an unclean shutdown every segment
   * from the recovery point on is CRC-checked and a torn or corrupt tail is cut off, with a
   * warning; indexes that fail their sanity checks are rebuilt.
   */
  public static SegmentedLog open(
      Path dir, LogConfig config, IndexMemoryBudget budget, EpochClock clock) throws IOException {
    final SegmentedLog log = new SegmentedLog(dir, config, budget, clock);
    log.load();
    return log;
  }

  public Path dir() {
    return dir;
  }

  public LogConfig config() {
    return config;
  }

  /** What the cleaner has done to this log since it was opened; all zero unless compacted. */
  public CleanerStats cleanerStats() {
    return cleanerStats;
  }

  /**
   * Puts new settings in force, as a topic config change does: the size and age limits of the
   * active segment, the index interval, batch size limit, flush intervals and retention apply at
   * once; a new index size applies from the next segment (index files are preallocated).
   */
  public void updateConfig(LogConfig newConfig) {
    lock.lock();
    try {
      config = newConfig;
      final var active = segments.lastEntry();
      if (active != null) {
        active.getValue().reconfigure(newConfig);
      }
    } finally {
      lock.unlock();
    }
  }

  /** The first readable offset. */
  public long logStartOffset() {
    return logStartOffset;
  }

  /** The offset the next appended batch gets. */
  public long logEndOffset() {
    return logEndOffset;
  }

  /** Every batch below this offset has been fsynced. */
  public long recoveryPoint() {
    return recoveryPoint;
  }

  public int segmentCount() {
    return segments.size();
  }

  /** Bytes of batches on disk across all segments. */
  public long sizeInBytes() {
    long total = 0;
    for (LogSegment segment : segments.values()) {
      total += segment.size();
    }
    return total;
  }

  /** Base offsets of the segments, oldest first. */
  public List<Long> segmentBaseOffsets() {
    return new ArrayList<>(segments.keySet());
  }

  /**
   * Appends batches whose offsets are already assigned (a follower's path): the first batch must
   * start at {@link #logEndOffset()} and each next batch right after the previous one. All batches
   * are checked for integrity (framing, magic 2, CRC32C) before any byte is written, never against
   * size limits: they were committed, or will be, under the limits in force on the leader when it
   * accepted them, and a replica with a lower limit (or a limit lowered since) must still hold
   * them.
   *
   * @param batches one or more whole batches between position and limit; not modified
   * @throws InvalidBatchException if any batch is invalid or does not continue the log
   */
  public LogAppendInfo append(ByteBuffer batches) throws IOException {
    return appendAssigned(batches, true);
  }

  /**
   * {@link #append} for batches this process has already validated in full, CRC32C included, and
   * changed since only in fields the CRC does not cover (base offset and leader epoch): a leader
   * writing the entry it built from a produce request it checked. Framing (lengths, magic, counts)
   * and offset continuity are checked as in {@link #append}; the CRC32C, the costly part, is not
   * computed a second time. Bytes from anywhere else (a follower's entries, a catch-up fetch) go
   * through {@link #append}.
   *
   * @param batches one or more whole batches between position and limit; not modified
   * @throws InvalidBatchException if the framing is broken or the batches do not continue the log
   */
  public LogAppendInfo appendValidated(ByteBuffer batches) throws IOException {
    return appendAssigned(batches, false);
  }

  private LogAppendInfo appendAssigned(ByteBuffer batches, boolean checkCrc) throws IOException {
    lock.lock();
    try {
      ensureOpen();
      if (checkCrc) {
        sequence.validate(batches, RecordBatch.ANY_SIZE);
      } else {
        sequence.validateHeaders(batches, RecordBatch.ANY_SIZE);
      }
      final LogAppendInfo info = sequence.summarize(batches);
      if (info.firstOffset() != logEndOffset) {
        throw new InvalidBatchException(
            InvalidBatchException.Reason.INVALID_OFFSETS,
            "batches start at offset "
                + info.firstOffset()
                + " but log "
                + files.name()
                + " ends at "
                + logEndOffset);
      }
      write(batches, info);
      return info;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Assigns offsets from {@link #logEndOffset()} and {@code leaderEpoch} to every batch in place,
   * then appends them (a leader's path). Validation happens before the buffer is touched.
   *
   * @throws InvalidBatchException if any batch is invalid; the buffer is then unchanged
   */
  public LogAppendInfo appendAsLeader(ByteBuffer batches, int leaderEpoch) throws IOException {
    lock.lock();
    try {
      ensureOpen();
      checkFitsASegment(batches);
      sequence.validate(batches, config.maxBatchBytes());
      sequence.assignOffsets(batches, logEndOffset, leaderEpoch);
      final LogAppendInfo info = sequence.summarize(batches);
      write(batches, info);
      return info;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Refuses an append of {@code bytes} when the log's file system would be left with less than
   * {@link #MIN_FREE_BYTES}. Cheap: the file system's answer is reused for a few milliseconds while
   * the disk is far from full, and asked for at every check near the limit ({@link FreeSpace}); the
   * caller checks before it hands the batches to replication, so that a full disk fails the
   * request, not a replica's write.
   *
   * @throws LogStorageException if the space is not there; nothing has been written
   */
  public void checkSpaceFor(int bytes) throws LogStorageException {
    checkSpaceFor(bytes, MIN_FREE_BYTES);
  }

  /**
   * Refuses a write of {@code bytes} when the log's file system would be left with less than {@code
   * reserve} bytes ({@link #REPLICA_RESERVE_BYTES} for a replica's write).
   *
   * @throws LogStorageException if the space is not there; nothing has been written
   */
  public void checkSpaceFor(int bytes, long reserve) throws LogStorageException {
    final long usable;
    try {
      usable = freeSpace.take(bytes, reserve);
    } catch (IOException e) {
      throw new LogStorageException(
          "cannot read the free space of " + store + " holding log " + files.name(), e);
    }
    if (usable < bytes + reserve) {
      throw new LogStorageException(
          "the disk holding log "
              + dir
              + " is full: "
              + usable
              + " bytes usable, an append of "
              + bytes
              + " bytes needs "
              + reserve
              + " more; free space (retention, DeleteRecords, deleting topics) and it goes on");
    }
  }

  private void checkFitsASegment(ByteBuffer batches) {
    if (batches.remaining() > config.segmentBytes()) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.TOO_LARGE,
          batches.remaining()
              + " bytes of batches exceed log.segment.bytes "
              + config.segmentBytes());
    }
  }

  private void write(ByteBuffer batches, LogAppendInfo info) throws IOException {
    final LogSegment segment = segmentFor(info);
    segment.append(batches, sequence.flyweight());
    logEndOffset = info.nextOffset();
    unflushedRecords += info.recordCount();
    final long now = clock.time();
    if (unflushedRecords >= config.flushIntervalMessages()
        || now - lastFlushMs >= config.flushIntervalMs()) {
      flushLocked(now, false);
    }
  }

  private LogSegment segmentFor(LogAppendInfo info) throws IOException {
    final LogSegment active = segments.lastEntry().getValue();
    if (active.wouldOverflow(info.sizeInBytes())
        || !active.indexesHaveRoomFor(info.batchCount())
        || active.isDueForTimeRoll(clock.time(), info.maxTimestamp())
        || !active.canHoldOffset(info.lastOffset())) {
      return roll();
    }
    return active;
  }

  /** Starts a new active segment at the log end offset, unless the active one is still empty. */
  private LogSegment roll() throws IOException {
    final LogSegment active = segments.lastEntry().getValue();
    if (active.isEmpty() && active.baseOffset() == logEndOffset) {
      return active;
    }
    if (active.offsetIndex().isActive()) {
      active.deactivate(); // not again when the last roll failed (disk full) after this
    }
    final LogSegment next = LogSegment.create(dir, logEndOffset, config, budget, clock.time());
    files.entriesChanged();
    segments.put(next.baseOffset(), next);
    LOG.debug("Rolled {} to a new segment at offset {}", files.name(), logEndOffset);
    return next;
  }

  /**
   * Whole batches from the one holding {@code offset}, as a zero-copy slice of one segment file: at
   * most {@code maxBytes} unless the first batch alone is larger (it is then returned whole, as
   * Kafka does), and only batches whose last offset is below {@code maxOffset} (the high
   * watermark). A read at the log end or at {@code maxOffset} returns an empty slice.
   *
   * @throws OffsetOutOfRangeException if {@code offset} is below the log start or above the log end
   */
  public FetchSlice read(long offset, int maxBytes, long maxOffset) throws IOException {
    return read(offset, maxBytes, maxOffset, logStartOffset);
  }

  /**
   * Like {@link #read(long, int)}, but also below the log start, from segments DeleteRecords hid
   * and has not deleted yet ({@link #deleteRecordsBefore(long, long)}): replication reads back
   * batches that entries still in the Raft log refer to.
   *
   * @throws OffsetOutOfRangeException if no retained segment holds {@code offset}
   */
  public FetchSlice readRetained(long offset, int maxBytes) throws IOException {
    final Long first = segments.isEmpty() ? null : segments.firstKey();
    return read(offset, maxBytes, Long.MAX_VALUE, first == null ? logStartOffset : first);
  }

  private FetchSlice read(long offset, int maxBytes, long maxOffset, long lowest)
      throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must be >= 0 but was " + maxBytes);
    }
    final long end = logEndOffset;
    if (offset < lowest || offset > end) {
      throw outOfRange(offset);
    }
    if (offset == end || offset >= maxOffset || maxBytes == 0) {
      return FetchSlice.empty(offset);
    }
    Map.Entry<Long, LogSegment> entry = segments.floorEntry(offset);
    if (entry == null) {
      throw outOfRange(offset); // retention removed the segment after the check above
    }
    while (entry != null) {
      final FetchSlice slice = entry.getValue().read(offset, maxBytes, maxOffset);
      if (slice != null) {
        return slice;
      }
      entry = segments.higherEntry(entry.getKey());
    }
    return FetchSlice.empty(offset);
  }

  /** {@link #read(long, int, long)} with no high watermark bound. */
  public FetchSlice read(long offset, int maxBytes) throws IOException {
    return read(offset, maxBytes, Long.MAX_VALUE);
  }

  private OffsetOutOfRangeException outOfRange(long offset) {
    return new OffsetOutOfRangeException(files.name(), offset, logStartOffset, logEndOffset);
  }

  /**
   * ListOffsets: {@link #LATEST_TIMESTAMP} gives the log end, {@link #EARLIEST_TIMESTAMP} the log
   * start, {@link #MAX_TIMESTAMP} the batch with the largest timestamp, and a timestamp {@code >=
   * 0} the first record at or after it.
   *
   * @return null when no batch qualifies (Kafka answers offset -1)
   */
  public TimestampOffset offsetForTimestamp(long timestamp) throws IOException {
    if (timestamp == LATEST_TIMESTAMP) {
      return new TimestampOffset(-1, logEndOffset);
    }
    if (timestamp == EARLIEST_TIMESTAMP) {
      return new TimestampOffset(-1, logStartOffset);
    }
    if (timestamp == MAX_TIMESTAMP) {
      return maxTimestampOffset();
    }
    if (timestamp < 0) {
      throw new IllegalArgumentException("unsupported ListOffsets timestamp " + timestamp);
    }
    final long start = logStartOffset;
    for (LogSegment segment : segments.values()) {
      if (segment.nextOffset() > start && segment.maxTimestamp() >= timestamp) {
        final TimestampOffset found = segment.findOffsetByTimestamp(timestamp, start);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  private TimestampOffset maxTimestampOffset() {
    TimestampOffset best = null;
    for (LogSegment segment : segments.values()) {
      if (segment.nextOffset() > logStartOffset
          && segment.maxTimestamp() >= 0
          && (best == null || segment.maxTimestamp() > best.timestamp())) {
        best = new TimestampOffset(segment.maxTimestamp(), segment.offsetOfMaxTimestamp());
      }
    }
    return best;
  }

  /**
   * Removes the batch holding {@code offset} and everything after it (Raft truncation of an
   * uncommitted tail). Readers must not be serving offsets at or above {@code offset}.
   *
   * @return the new log end offset: {@code offset} when it is a batch boundary, else the base
   *     offset of the batch that held it
   * @throws IllegalArgumentException if {@code offset} is below the log start offset
   */
  public long truncateTo(long offset) throws IOException {
    lock.lock();
    try {
      truncations++;
      ensureOpen();
      if (offset >= logEndOffset) {
        return logEndOffset;
      }
      if (offset < logStartOffset) {
        throw new IllegalArgumentException(
            "cannot truncate log "
                + files.name()
                + " to "
                + offset
                + ", below its start "
                + logStartOffset
                + "; use truncateFullyAndStartAt");
      }
      if (offset < recoveryPoint) {
        // Lowered on disk first: batches appended after the cut are not fsynced, and recovery
        // must check them rather than trust the old recovery point.
        recoveryPoint = offset;
        writeRecoveryPoint(clock.time());
      }
      while (segments.size() > 1 && segments.lastKey() >= offset) {
        retire(segments.pollLastEntry().getValue());
      }
      final LogSegment last = segments.lastEntry().getValue();
      final long end = last.truncateTo(offset);
      // Durable now: once a roll follows, flushes start at a later segment, and a crash would
      // bring back the cut tail in front of batches appended after it.
      last.flush();
      if (!last.offsetIndex().isActive()) {
        last.activate();
      }
      logEndOffset = end;
      recoveryPoint = Math.min(recoveryPoint, end);
      if (checkpointedRecoveryPoint > recoveryPoint) {
        writeRecoveryPoint(clock.time());
      }
      if (end < logStartOffset) {
        // The batch holding the log start was removed whole: the log now starts where it ends.
        logStartOffset = end;
        files.writeCheckpoint(LogDirectory.LOG_START_OFFSET_FILE, end);
      }
      LOG.info("Truncated log {} to offset {}", files.name(), end);
      return end;
    } finally {
      lock.unlock();
    }
  }

  /** Drops every segment and restarts the log empty at {@code offset} (follower catch-up). */
  public void truncateFullyAndStartAt(long offset) throws IOException {
    lock.lock();
    try {
      truncations++;
      ensureOpen();
      if (offset < 0) {
        throw new IllegalArgumentException("offset must be >= 0 but was " + offset);
      }
      final List<LogSegment> old = new ArrayList<>(segments.values());
      segments.clear();
      for (LogSegment segment : old) {
        retire(segment);
      }
      final LogSegment fresh = LogSegment.create(dir, offset, config, budget, clock.time());
      files.entriesChanged();
      segments.put(offset, fresh);
      logEndOffset = offset;
      logStartOffset = offset;
      recoveryPoint = offset;
      files.writeCheckpoint(LogDirectory.LOG_START_OFFSET_FILE, offset);
      writeRecoveryPoint(clock.time());
      LOG.info("Restarted log {} empty at offset {}", files.name(), offset);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Moves the log start offset up to {@code offset} (DeleteRecords) and deletes the segments that
   * lie wholly below it. The caller bounds {@code offset} by the high watermark.
   *
   * @throws OffsetOutOfRangeException if {@code offset} is above the log end offset
   */
  public void deleteRecordsBefore(long offset) throws IOException {
    deleteRecordsBefore(offset, offset);
  }

  /**
   * Moves the log start offset up to {@code offset} (DeleteRecords) at once, but deletes only the
   * segments wholly below {@code min(offset, keepFrom)}: the ones from {@code keepFrom} on stay,
   * hidden from {@link #read} but readable through {@link #readRetained}, until {@link
   * #applyRetention} is called with a bound past them (a replicated log keeps what its Raft log
   * still refers to).
   *
   * @throws OffsetOutOfRangeException if {@code offset} is above the log end offset
   */
  public void deleteRecordsBefore(long offset, long keepFrom) throws IOException {
    lock.lock();
    try {
      ensureOpen();
      if (offset > logEndOffset) {
        throw outOfRange(offset);
      }
      if (offset <= logStartOffset) {
        return;
      }
      logStartOffset = offset;
      files.writeCheckpoint(LogDirectory.LOG_START_OFFSET_FILE, offset);
      if (offset == logEndOffset) {
        roll();
      }
      final long deleteBelow = Math.min(offset, keepFrom);
      int deleted = 0;
      while (segments.size() > 1 && segments.higherKey(segments.firstKey()) <= deleteBelow) {
        retire(segments.pollFirstEntry().getValue());
        deleted++;
      }
      LOG.info(
          "Log {} starts at offset {} now; {} segments deleted{}",
          files.name(),
          offset,
          deleted,
          deleteBelow < offset
              ? ", those from offset " + segments.firstKey() + " kept until replication passes them"
              : "");
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes old segments by {@code log.retention.ms} and {@code log.retention.bytes} when {@code
   * cleanup.policy} holds {@code delete}, and the segments wholly below the log start that {@link
   * #deleteRecordsBefore(long, long)} kept, oldest first, only ever whole segments wholly below
   * {@code highWatermark}; compacts the log first ({@link LogCleaner}) when the policy holds {@code
   * compact}. An expired active segment is rolled first so that idle partitions expire too. Also
   * closes files of segments deleted longer than {@code log.segment.delete.delay.ms} ago. Call it
   * periodically.
   *
   * @return number of segments deleted
   */
  public int applyRetention(long highWatermark) throws IOException {
    lock.lock();
    try {
      ensureOpen();
      final long now = clock.time();
      closeRetired(now);
      if (config.compact()) {
        compactLocked(highWatermark);
      }
      // Without the delete policy only the segments DeleteRecords hid below the start go.
      final boolean delete = config.delete();
      final LogSegment active = segments.lastEntry().getValue();
      if (delete && !active.isEmpty() && logEndOffset <= highWatermark && expired(active, now)) {
        roll();
      }
      long total = sizeInBytes();
      long newStart = logStartOffset;
      int deleted = 0;
      // Decide first, then publish the new start, then unlink: a reader that passed the start
      // check always finds its segment in the map.
      for (LogSegment oldest : segments.values()) {
        final Long nextBase = segments.higherKey(oldest.baseOffset());
        if (nextBase == null || nextBase > highWatermark) {
          break;
        }
        final boolean bySize =
            delete
                && config.retentionBytes() >= 0
                && total - oldest.size() >= config.retentionBytes();
        final boolean hidden = nextBase <= logStartOffset;
        if (!hidden && !bySize && !(delete && expired(oldest, now))) {
          break;
        }
        total -= oldest.size();
        newStart = Math.max(newStart, nextBase);
        deleted++;
      }
      if (deleted == 0) {
        return 0;
      }
      logStartOffset = newStart;
      files.writeCheckpoint(LogDirectory.LOG_START_OFFSET_FILE, newStart);
      for (int i = 0; i < deleted; i++) {
        retire(segments.pollFirstEntry().getValue());
      }
      LOG.info(
          "Retention deleted {} segments of log {}; it starts at offset {}",
          deleted,
          files.name(),
          newStart);
      return deleted;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Cleans the inactive segments wholly below {@code bound} once the share of bytes not cleaned yet
   * reaches {@code min.cleanable.dirty.ratio}.
   *
   * @return what the pass did, or null when the log was not dirty enough
   */
  private LogCleaner.Result compactLocked(long bound) throws IOException {
    long cleanableEnd = logStartOffset;
    for (Long base : segments.headMap(segments.lastKey(), false).keySet()) {
      final long next = segments.higherKey(base);
      if (next > bound) {
        break;
      }
      cleanableEnd = next;
    }
    final long checkpoint = files.readCheckpoint(LogDirectory.CLEANER_CHECKPOINT_FILE, 0);
    // A checkpoint past the log end belongs to a log since replaced (snapshot install): start over.
    final long firstDirty =
        checkpoint > logEndOffset ? logStartOffset : Math.max(logStartOffset, checkpoint);
    final double dirtyRatio =
        cleanableEnd <= firstDirty ? 0 : LogCleaner.dirtyRatio(segments, firstDirty, cleanableEnd);
    cleanerStats = cleanerStats.withDirtyRatio(dirtyRatio);
    if (cleanableEnd <= firstDirty || dirtyRatio < config.minCleanableDirtyRatio()) {
      return null;
    }
    final LogCleaner.Result result =
        new LogCleaner(files, config, budget, clock)
            .clean(
                segments,
                firstDirty,
                cleanableEnd,
                old -> retired.add(new Retired(old, clock.time() + config.fileDeleteDelayMs())));
    // A key map that filled up stops the pass short of cleanableEnd: the next pass goes on there.
    files.writeCheckpoint(LogDirectory.CLEANER_CHECKPOINT_FILE, result.cleanedTo());
    cleanerStats = cleanerStats.plus(result);
    return result;
  }

  /**
   * Runs the compaction step of {@link #applyRetention} alone, for a log whose {@code
   * cleanup.policy} holds {@code compact}, with the same bound and dirty-ratio rule.
   *
   * @return records removed, or -1 when the log was not dirty enough to be cleaned
   */
  public long compact(long bound) throws IOException {
    lock.lock();
    try {
      ensureOpen();
      final LogCleaner.Result result = compactLocked(bound);
      return result == null ? -1 : result.recordsRemoved();
    } finally {
      lock.unlock();
    }
  }

  private boolean expired(LogSegment segment, long now) throws IOException {
    return config.retentionMs() >= 0 && now - segment.largestTimestamp() > config.retentionMs();
  }

  /**
   * Fsyncs every segment written since the last flush and advances the recovery point; the {@code
   * recovery-point} file follows once {@link LogConfig#recoveryPointCheckpointIntervalMs} has
   * passed since it was last written (Kafka's offset checkpoint interval).
   */
  public void flush() throws IOException {
    lock.lock();
    try {
      ensureOpen();
      flushLocked(clock.time(), false);
    } finally {
      lock.unlock();
    }
  }

  /**
   * As {@link #flush()}, with the segments made durable by one {@code syncfs} of their file system
   * shared with concurrent flushes of other logs ({@link FileSystemSync}) instead of an {@code
   * fsync} per segment; {@code null} fsyncs each segment. The lock is not held while the sync runs:
   * appends and truncations go on, and the recovery point advances to where the log ended when the
   * flush began, unless a truncation came in between (it moved the point itself).
   */
  public void flush(FileSystemSync fileSystem) throws IOException {
    if (fileSystem == null) {
      flush();
      return;
    }
    final long end;
    final long records;
    final long cuts;
    lock.lock();
    try {
      ensureOpen();
      end = logEndOffset;
      records = unflushedRecords;
      cuts = truncations;
      flushIndexesAndEntries();
    } finally {
      lock.unlock();
    }
    fileSystem.sync(); // covers every byte written before the call: all of [recoveryPoint, end)
    lock.lock();
    try {
      if (closed || truncations != cuts || end <= recoveryPoint) {
        return; // closing flushed everything itself; a truncation set the point itself
      }
      advanceRecoveryPoint(end, clock.time(), false);
      unflushedRecords = Math.max(0, unflushedRecords - records);
    } finally {
      lock.unlock();
    }
  }

  /**
   * @param checkpoint rewrite the recovery-point file now if it lags, whatever the interval, and
   *     fsync the active segment's indexes too (close, recovery)
   */
  private void flushLocked(long now, boolean checkpoint) throws IOException {
    final LogSegment active = segments.lastEntry().getValue();
    for (LogSegment segment : unflushedSegments()) {
      // The active segment's indexes only at close and after recovery: a crash rebuilds them.
      segment.flush(checkpoint || segment != active);
    }
    files.syncEntries(); // new segment files get their names on disk
    advanceRecoveryPoint(logEndOffset, now, checkpoint);
    unflushedRecords = 0;
  }

  /**
   * What {@link #flushLocked} does besides fsyncing the segments: msyncs the indexes of the
   * segments written since the last flush but the active one, and fsyncs the directory if segment
   * files were created or deleted.
   */
  private void flushIndexesAndEntries() throws IOException {
    final LogSegment active = segments.lastEntry().getValue();
    for (LogSegment segment : unflushedSegments()) {
      if (segment != active) {
        segment.flushIndexes();
      }
    }
    files.syncEntries(); // new segment files get their names on disk
  }

  /** The segments a flush covers: the one holding the recovery point and every later one. */
  private Collection<LogSegment> unflushedSegments() {
    final Long from = segments.floorKey(recoveryPoint);
    return segments.tailMap(from == null ? 0L : from).values();
  }

  /**
   * Moves the recovery point to {@code end}, durable now, and rewrites its file when due (or now,
   * with {@code checkpoint}).
   */
  private void advanceRecoveryPoint(long end, long now, boolean checkpoint) throws IOException {
    recoveryPoint = end;
    if (checkpointedRecoveryPoint != recoveryPoint
        && (checkpoint
            || now - lastRecoveryCheckpointMs >= config.recoveryPointCheckpointIntervalMs())) {
      writeRecoveryPoint(now);
    }
    lastFlushMs = now;
  }

  /**
   * Writes the in-memory recovery point to its file. The file never claims more than was fsynced:
   * flushes only advance the recovery point after fsyncing, and truncation lowers the file at once.
   */
  private void writeRecoveryPoint(long now) throws IOException {
    files.writeCheckpoint(LogDirectory.RECOVERY_POINT_FILE, recoveryPoint);
    checkpointedRecoveryPoint = recoveryPoint;
    lastRecoveryCheckpointMs = now;
  }

  /** Flushes, trims the active indexes, closes every file and marks the shutdown as clean. */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      flushLocked(clock.time(), true);
      closed = true;
      for (LogSegment segment : segments.values()) {
        segment.close();
      }
      closeRetired(Long.MAX_VALUE);
      files.markCleanShutdown();
    } finally {
      lock.unlock();
    }
  }

  /** Closes the log and deletes its directory (DeleteTopics). */
  public void delete() throws IOException {
    close();
    files.deleteAll();
  }

  private void retire(LogSegment segment) throws IOException {
    segment.deleteFiles();
    files.entriesChanged();
    retired.add(new Retired(segment, clock.time() + config.fileDeleteDelayMs()));
  }

  private void closeRetired(long now) throws IOException {
    while (!retired.isEmpty() && retired.peekFirst().deadlineMs() <= now) {
      retired.pollFirst().segment().channel().close();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("log " + dir + " is closed");
    }
  }

  private void load() throws IOException {
    final LogLoader.Loaded loaded = new LogLoader(files, config, budget, clock).load(segments);
    logStartOffset = loaded.logStartOffset();
    logEndOffset = loaded.logEndOffset();
    recoveryPoint = loaded.recoveryPoint();
    checkpointedRecoveryPoint = recoveryPoint;
    if (!loaded.clean()) {
      flushLocked(clock.time(), true); // what recovery kept is now durable
    }
    files.syncEntries(); // and what it deleted stays deleted
  }
}
