package io.skiff.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One segment of a partition log: a {@code .log} file of whole v2 record batches starting at {@link
 * #baseOffset()}, with its {@link OffsetIndex} and {@link TimeIndex}. File names are the base
 * offset in 20 digits, as in Kafka ({@code 00000000000000000000.log}).
 *
 * <p>Invariants of the {@code .log} file: batches are back to back from position 0; each batch's
 * base offset is above the previous batch's last offset and at least {@link #baseOffset()}; every
 * batch up to {@link #size()} passed CRC validation when it was appended or recovered. Bytes past
 * {@link #size()} (a torn write) are never read and are cut off by {@link #recover}.
 *
 * <p>Thread-safety: mutations ({@link #append}, {@link #truncateTo}, {@link #recover}, roll) are
 * made by the owning {@link SegmentedLog} under its append lock. Reads run concurrently: they take
 * a snapshot of the volatile {@link #size()} and read only below it, and {@code size} is published
 * after the bytes and index entries it covers are written.
 */
final class LogSegment implements AutoCloseable {
  static final String LOG_SUFFIX = ".log";
  static final String INDEX_SUFFIX = ".index";
  static final String TIME_INDEX_SUFFIX = ".timeindex";

  private static final Logger LOG = LoggerFactory.getLogger(LogSegment.class);

  private final long baseOffset;
  private final Path logFile;
  private final FileChannel channel;
  private final OffsetIndex offsetIndex;
  private final TimeIndex timeIndex;
  private volatile LogConfig config; // roll limits and index interval; see reconfigure
  private final long createdMs;

  private volatile int size;
  private volatile long nextOffset;
  private volatile long maxTimestamp = -1;
  private volatile long offsetOfMaxTimestamp;
  private long rollingBasedTimestamp = -1;
  private int bytesSinceLastIndexEntry;

  private LogSegment(
      Path dir,
      long baseOffset,
      LogConfig config,
      IndexMemoryBudget budget,
      boolean active,
      long nowMs)
      throws IOException {
    this.baseOffset = baseOffset;
    this.config = config;
    this.createdMs = nowMs;
    this.logFile = file(dir, baseOffset, LOG_SUFFIX);
    this.channel =
        FileChannel.open(
            logFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    final int maxIndex = config.maxIndexBytes();
    OffsetIndex offsets = null;
    try {
      offsets =
          new OffsetIndex(
              file(dir, baseOffset, INDEX_SUFFIX), baseOffset, maxIndex, active, budget);
      this.timeIndex =
          new TimeIndex(
              file(dir, baseOffset, TIME_INDEX_SUFFIX), baseOffset, maxIndex, active, budget);
    } catch (IOException | RuntimeException e) {
      // A full disk can refuse an index file: leave no open channel or mapping behind.
      if (offsets != null) {
        offsets.close();
      }
      channel.close();
      throw e;
    }
    this.offsetIndex = offsets;
    final long length = channel.size();
    if (length > Integer.MAX_VALUE) {
      throw new IOException(logFile + " is " + length + " bytes, above the 2 GiB segment limit");
    }
    this.size = (int) length;
    this.nextOffset = baseOffset;
  }

  /** Creates an empty active segment, replacing any leftover files with its name. */
  static LogSegment create(
      Path dir, long baseOffset, LogConfig config, IndexMemoryBudget budget, long nowMs)
      throws IOException {
    for (String suffix : new String[] {LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX}) {
      Files.deleteIfExists(file(dir, baseOffset, suffix));
    }
    return new LogSegment(dir, baseOffset, config, budget, true, nowMs);
  }

  /**
   * Opens an existing segment without scanning it. The caller checks {@link #loadTail()} and calls
   * {@link #recover} when the files cannot be trusted.
   */
  static LogSegment open(
      Path dir,
      long baseOffset,
      LogConfig config,
      IndexMemoryBudget budget,
      boolean active,
      long nowMs)
      throws IOException {
    return new LogSegment(dir, baseOffset, config, budget, active, nowMs);
  }

  /**
   * Puts new settings in force for this (active) segment: its size and age limits and the index
   * interval; its index files keep the size they were preallocated with. Called under the log's
   * lock.
   */
  void reconfigure(LogConfig newConfig) {
    this.config = newConfig;
  }

  static Path file(Path dir, long baseOffset, String suffix) {
    return dir.resolve(String.format("%020d", baseOffset) + suffix);
  }

  long baseOffset() {
    return baseOffset;
  }

  /** Bytes of valid batches in the file. */
  int size() {
    return size;
  }

  /** The offset after the last batch; the base offset when empty. */
  long nextOffset() {
    return nextOffset;
  }

  boolean isEmpty() {
    return size == 0;
  }

  long maxTimestamp() {
    return maxTimestamp;
  }

  long offsetOfMaxTimestamp() {
    return offsetOfMaxTimestamp;
  }

  FileChannel channel() {
    return channel;
  }

  OffsetIndex offsetIndex() {
    return offsetIndex;
  }

  TimeIndex timeIndex() {
    return timeIndex;
  }

  /** The timestamp retention compares: the largest batch timestamp, else the file's mtime. */
  long largestTimestamp() throws IOException {
    return maxTimestamp >= 0 ? maxTimestamp : Files.getLastModifiedTime(logFile).toMillis();
  }

  /** Whether {@code bytes} more would overflow {@code log.segment.bytes}. */
  boolean wouldOverflow(int bytes) {
    return size > config.segmentBytes() - bytes;
  }

  /**
   * Whether both indexes can take an entry for each of {@code batches} more batches (the most an
   * append of that many batches adds), keeping the time index's slot for the roll-time entry.
   */
  boolean indexesHaveRoomFor(int batches) {
    return offsetIndex.entries() + batches < offsetIndex.maxEntries()
        && timeIndex.entries() + batches < timeIndex.maxEntries() - 1;
  }

  /**
   * Whether a non-empty segment has spanned {@code log.roll.ms}, as Kafka decides it: by the
   * timestamps in the batches (the incoming batch's max timestamp against the first batch's), so
   * replicas decide alike; by wall-clock age only when the batches carry no timestamps.
   */
  boolean isDueForTimeRoll(long nowMs, long incomingMaxTimestamp) {
    if (size == 0) {
      return false;
    }
    if (rollingBasedTimestamp >= 0 && incomingMaxTimestamp >= 0) {
      return incomingMaxTimestamp - rollingBasedTimestamp > config.rollMs();
    }
    return nowMs - createdMs > config.rollMs();
  }

  /** Whether {@code lastOffset} still fits a 32-bit offset relative to the base. */
  boolean canHoldOffset(long lastOffset) {
    return lastOffset - baseOffset <= Integer.MAX_VALUE;
  }

  /**
   * Appends validated, contiguous batches (buffer position to limit) with positional writes and
   * indexes them; publishes them to readers last. The buffer's position is left unchanged.
   *
   * @param batch a flyweight for walking the buffer
   */
  void append(ByteBuffer batches, RecordBatch batch) throws IOException {
    final int start = batches.position();
    final int length = batches.remaining();
    final int position = size;
    reserveIndexBlocks(batches, batch);
    try {
      while (batches.hasRemaining()) {
        channel.write(batches, position + (batches.position() - start));
      }
    } catch (IOException e) {
      batches.position(start);
      channel.truncate(position);
      throw new IOException("append to " + logFile + " failed: " + e.getMessage(), e);
    }
    batches.position(start);
    long next = nextOffset;
    for (int p = start; p < start + length; p += batch.sizeInBytes()) {
      batch.wrap(batches, p);
      indexBatch(batch, position + (p - start));
      next = batch.nextOffset();
    }
    nextOffset = next;
    size = position + length;
  }

  /**
   * Disk blocks for the index entries these batches can add (one per batch at most, plus the time
   * index's roll-time entry), before any byte is written: a full disk fails the append here.
   */
  private void reserveIndexBlocks(ByteBuffer batches, RecordBatch batch) throws IOException {
    int count = 1;
    for (int p = batches.position(); p < batches.limit(); p += batch.sizeInBytes()) {
      batch.wrap(batches, p);
      count++;
    }
    offsetIndex.reserve(count);
    timeIndex.reserve(count);
  }

  private void indexBatch(RecordBatch batch, int position) {
    if (batch.maxTimestamp() > maxTimestamp) {
      maxTimestamp = batch.maxTimestamp();
      offsetOfMaxTimestamp = batch.baseOffset();
    }
    if (rollingBasedTimestamp < 0 && position == 0) {
      rollingBasedTimestamp = batch.maxTimestamp();
    }
    // A full index (possible only when one append carries more batches than an empty segment's
    // index holds) just stops getting entries: lookups then scan further, and stay correct.
    if (bytesSinceLastIndexEntry > config.indexIntervalBytes() && !offsetIndex.isFull()) {
      offsetIndex.append(batch.lastOffset(), position);
      if (maxTimestamp >= 0 && !timeIndex.isFull()) {
        timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp, false);
      }
      bytesSinceLastIndexEntry = 0;
    }
    bytesSinceLastIndexEntry += batch.sizeInBytes();
  }

  /**
   * A zero-copy slice of whole batches from the batch holding {@code offset}: at most {@code
   * maxBytes} unless the first batch alone is larger (then that batch whole), and only batches
   * whose last offset is below {@code maxOffset}.
   *
   * @return null when {@code offset} is past this segment's last batch
   */
  FetchSlice read(long offset, int maxBytes, long maxOffset) throws IOException {
    final int end = size;
    final int start = positionOf(offset, end);
    if (start < 0) {
      return null;
    }
    final BatchHeaderReader reader = BatchHeaderReader.get();
    long first = -1;
    long next = offset;
    int total = 0;
    while (start + total < end && total < maxBytes) {
      final RecordBatch batch = reader.readAt(channel, start + total, end);
      if (batch == null || batch.lastOffset() >= maxOffset) {
        break;
      }
      final int batchSize = batch.sizeInBytes();
      if (total > 0 && total + batchSize > maxBytes) {
        break;
      }
      if (first < 0) {
        first = batch.baseOffset();
      }
      next = batch.nextOffset();
      total += batchSize;
    }
    return total == 0
        ? FetchSlice.empty(offset)
        : new FetchSlice(channel, start, total, first, next);
  }

  /**
   * Position of the first batch whose last offset is at least {@code offset}, scanning headers from
   * the nearest index entry; -1 if there is none below {@code end}.
   */
  int positionOf(long offset, int end) throws IOException {
    final BatchHeaderReader reader = BatchHeaderReader.get();
    int position = offsetIndex.lookup(offset);
    while (position < end) {
      final RecordBatch batch = reader.readAt(channel, position, end);
      if (batch == null) {
        return -1;
      }
      if (batch.lastOffset() >= offset) {
        return position;
      }
      position += batch.sizeInBytes();
    }
    return -1;
  }

  /**
   * The first record at or after {@code startingOffset} whose timestamp is at least {@code
   * timestamp}, or null if this segment has none.
   */
  TimestampOffset findOffsetByTimestamp(long timestamp, long startingOffset) throws IOException {
    final int end = size;
    final TimestampOffset hint = timeIndex.lookup(timestamp);
    int position = offsetIndex.lookup(Math.max(hint.offset(), startingOffset));
    final BatchHeaderReader reader = BatchHeaderReader.get();
    while (position < end) {
      final RecordBatch header = reader.readAt(channel, position, end);
      if (header == null) {
        return null;
      }
      final int batchSize = header.sizeInBytes();
      if (header.lastOffset() >= startingOffset && header.maxTimestamp() >= timestamp) {
        final ByteBuffer whole = readBatch(position, batchSize);
        final TimestampOffset found =
            new RecordBatch()
                .wrap(whole, 0)
                .firstRecordWithTimestampAtLeast(timestamp, startingOffset);
        if (found != null) {
          return found;
        }
      }
      position += batchSize;
    }
    return null;
  }

  private ByteBuffer readBatch(int position, int length) throws IOException {
    final ByteBuffer buffer = ByteBuffer.allocate(length);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, position + buffer.position()) < 0) {
        throw new IOException("unexpected end of " + logFile + " at " + position);
      }
    }
    return buffer.flip();
  }

  /**
   * Loads the in-memory state of a segment opened from disk: the largest timestamp from the time
   * index, then batch headers from the last offset index entry to the end of the file.
   *
   * @return false if the indexes fail their sanity checks or the headers do not chain to the file's
   *     end: the segment then needs {@link #recover}
   */
  boolean loadTail() throws IOException {
    if (!offsetIndex.sanityCheck(Math.max(size, 1))) {
      return false;
    }
    final TimestampOffset lastTime = timeIndex.lastEntry();
    maxTimestamp = lastTime.timestamp();
    offsetOfMaxTimestamp = lastTime.timestamp() >= 0 ? lastTime.offset() : baseOffset;
    final BatchHeaderReader reader = BatchHeaderReader.get();
    final int indexed = offsetIndex.lookup(Long.MAX_VALUE);
    long next = baseOffset;
    int position = indexed;
    while (position < size) {
      final RecordBatch batch = reader.readAt(channel, position, size);
      if (batch == null || !headerLooksValid(batch, size - position, next)) {
        return false;
      }
      if (batch.maxTimestamp() > maxTimestamp) {
        maxTimestamp = batch.maxTimestamp();
        offsetOfMaxTimestamp = batch.baseOffset();
      }
      next = batch.nextOffset();
      position += batch.sizeInBytes();
    }
    if (position == indexed && indexed > 0) {
      return false; // the last index entry points at the end of the file: not a batch
    }
    nextOffset = size == 0 ? baseOffset : next;
    bytesSinceLastIndexEntry = size - indexed;
    final RecordBatch first = size == 0 ? null : reader.readAt(channel, 0, size);
    rollingBasedTimestamp = first == null ? -1 : first.maxTimestamp();
    return timeIndex.sanityCheck(nextOffset);
  }

  private boolean headerLooksValid(RecordBatch batch, int available, long minBaseOffset) {
    try {
      batch.validateHeader(available, RecordBatch.ANY_SIZE);
    } catch (InvalidBatchException e) {
      return false;
    }
    return batch.baseOffset() >= minBaseOffset && canHoldOffset(batch.lastOffset());
  }

  /**
   * Rebuilds this segment's state and indexes by reading and CRC-checking every batch from the
   * start, and cuts the file at the first batch that is torn, corrupt, or out of order. Everything
   * before that batch is kept.
   *
   * @return bytes cut off
   */
  int recover() throws IOException {
    offsetIndex.reset();
    timeIndex.reset();
    maxTimestamp = -1;
    offsetOfMaxTimestamp = baseOffset;
    rollingBasedTimestamp = -1;
    bytesSinceLastIndexEntry = 0;
    final long fileSize = channel.size();
    final RecordBatch batch = new RecordBatch();
    ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
    long next = baseOffset;
    int position = 0;
    String reason = null;
    while (position < fileSize && reason == null) {
      final RecordBatch header = BatchHeaderReader.get().readAt(channel, position, fileSize);
      if (header == null) {
        reason = "torn batch header";
        break;
      }
      final int available = (int) Math.min(Integer.MAX_VALUE, fileSize - position);
      try {
        header.validateHeader(available, RecordBatch.ANY_SIZE); // integrity, never size policy
        final int length = header.sizeInBytes();
        if (header.baseOffset() < next || !canHoldOffset(header.lastOffset())) {
          throw new InvalidBatchException(
              InvalidBatchException.Reason.INVALID_OFFSETS,
              "base offset " + header.baseOffset() + " does not follow offset " + (next - 1));
        }
        if (buffer.capacity() < length) {
          buffer = ByteBuffer.allocateDirect(Integer.highestOneBit(length - 1) << 1);
        }
        buffer.clear().limit(length);
        while (buffer.hasRemaining()) {
          channel.read(buffer, position + buffer.position());
        }
        batch.wrap(buffer, 0).validate(length, RecordBatch.ANY_SIZE);
        indexBatch(batch, position);
        next = batch.nextOffset();
        position += length;
      } catch (InvalidBatchException e) {
        reason = e.getMessage();
      }
    }
    final int cut = (int) (fileSize - position);
    if (cut > 0) {
      LOG.warn(
          "Recovery of {} cut {} bytes at position {} ({}); batches before it are intact",
          logFile,
          cut,
          position,
          reason);
      channel.truncate(position);
    }
    size = position;
    nextOffset = position == 0 ? baseOffset : next;
    return cut;
  }

  /**
   * Removes the batch holding {@code offset} and everything after it.
   *
   * @return this segment's next offset afterwards
   */
  long truncateTo(long offset) throws IOException {
    final int end = size;
    final int position = positionOf(offset, end);
    if (position < 0) {
      return nextOffset;
    }
    final RecordBatch batch = BatchHeaderReader.get().readAt(channel, position, end);
    final long newNext = position == 0 ? baseOffset : batch.baseOffset();
    size = position;
    nextOffset = newNext;
    offsetIndex.truncateTo(newNext);
    timeIndex.truncateTo(newNext);
    channel.truncate(position);
    if (!loadTail()) {
      recover();
    }
    return nextOffset;
  }

  /** This segment stops taking appends: record its final largest timestamp and trim indexes. */
  void deactivate() throws IOException {
    if (maxTimestamp >= 0) {
      timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp, true);
    }
    offsetIndex.deactivate();
    timeIndex.deactivate();
  }

  /** A truncation made this segment the last one again: make room in its indexes. */
  void activate() throws IOException {
    offsetIndex.activate(config.maxIndexBytes());
    timeIndex.activate(config.maxIndexBytes());
  }

  /** Fsyncs the log file and the indexes. */
  void flush() throws IOException {
    flush(true);
  }

  /**
   * Fsyncs the log file and, if {@code indexes}, the indexes. The active segment's indexes need not
   * be: recovery after a crash rebuilds the last segment's (and any later than the recovery
   * point's) from the log file, and an index that lost its tail only makes lookups scan further.
   */
  void flush(boolean indexes) throws IOException {
    channel.force(true);
    if (indexes) {
      flushIndexes();
    }
  }

  /** Writes the indexes' mapped pages back (msync); the log file is left to the caller to sync. */
  void flushIndexes() throws IOException {
    offsetIndex.flush();
    timeIndex.flush();
  }

  /** Deletes the files but leaves the channel open for reads under way; see {@link #close()}. */
  void deleteFiles() throws IOException {
    offsetIndex.delete();
    timeIndex.delete();
    Files.deleteIfExists(logFile);
  }

  /**
   * Deletes the index files only: the cleaner is about to replace the {@code .log} file by a
   * rename.
   */
  void deleteIndexFiles() throws IOException {
    offsetIndex.delete();
    timeIndex.delete();
  }

  @Override
  public void close() throws IOException {
    try {
      if (offsetIndex.isActive()) {
        deactivate();
      }
      offsetIndex.close();
      timeIndex.close();
    } finally {
      channel.close();
    }
  }

  @Override
  public String toString() {
    return "LogSegment(" + logFile + ", size=" + size + ", next=" + nextOffset + ")";
  }
}
