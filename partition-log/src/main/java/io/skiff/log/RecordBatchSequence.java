package io.skiff.log;

import java.nio.ByteBuffer;

/**
 * Checks and rewrites a run of back-to-back v2 batches in one buffer (between its position and
 * limit), as one produce request or one replicated entry carries them. Walks the buffer with a
 * {@link RecordBatch} flyweight; never copies, never allocates per batch.
 *
 * <p>Not thread-safe: one instance per appending thread.
 */
public final class RecordBatchSequence {
  private final RecordBatch batch = new RecordBatch();

  /**
   * Validates every batch: length, magic 2, size limit and CRC32C. Offsets are not checked, so
   * batches straight from a producer (all with base offset 0) pass.
   *
   * @throws InvalidBatchException for the first invalid batch, or for an empty buffer
   */
  public void validate(ByteBuffer batches, int maxBatchBytes) {
    final int end = batches.limit();
    if (batches.position() == end) {
      throw new InvalidBatchException(InvalidBatchException.Reason.TRUNCATED, "no record batches");
    }
    for (int position = batches.position(); position < end; position += batch.sizeInBytes()) {
      batch.wrap(batches, position).validate(end - position, maxBatchBytes);
    }
  }

  /**
   * Validates every batch's framing as {@link #validate} does (length, magic 2, size limit, counts)
   * but not its CRC32C: for bytes whose CRC this process has already checked.
   *
   * @throws InvalidBatchException for the first batch whose header is invalid, or for an empty
   *     buffer
   */
  public void validateHeaders(ByteBuffer batches, int maxBatchBytes) {
    final int end = batches.limit();
    if (batches.position() == end) {
      throw new InvalidBatchException(InvalidBatchException.Reason.TRUNCATED, "no record batches");
    }
    for (int position = batches.position(); position < end; position += batch.sizeInBytes()) {
      batch.wrap(batches, position).validateHeader(end - position, maxBatchBytes);
    }
  }

  /**
   * Summarises batches that have been validated, checking from their headers that offsets run on
   * without gaps from batch to batch.
   *
   * @throws InvalidBatchException if a batch does not start right after the previous one
   */
  public LogAppendInfo summarize(ByteBuffer batches) {
    final int start = batches.position();
    final int end = batches.limit();
    long first = -1;
    long expected = -1;
    long maxTimestamp = -1;
    long offsetOfMax = -1;
    int count = 0;
    int records = 0;
    for (int position = start; position < end; position += batch.sizeInBytes()) {
      batch.wrap(batches, position);
      if (count == 0) {
        first = batch.baseOffset();
      } else if (batch.baseOffset() != expected) {
        throw new InvalidBatchException(
            InvalidBatchException.Reason.INVALID_OFFSETS,
            "batch at base offset " + batch.baseOffset() + " does not follow offset " + expected);
      }
      expected = batch.nextOffset();
      if (batch.maxTimestamp() > maxTimestamp) {
        maxTimestamp = batch.maxTimestamp();
        offsetOfMax = batch.baseOffset();
      }
      count++;
      records += batch.recordCount();
    }
    return new LogAppendInfo(
        first, expected - 1, maxTimestamp, offsetOfMax, count, records, end - start);
  }

  /**
   * Writes {@code baseOffset} and {@code leaderEpoch} into every validated batch in place,
   * consecutively from {@code firstOffset}; neither field is covered by the CRC. Returns the offset
   * after the last batch.
   */
  public long assignOffsets(ByteBuffer batches, long firstOffset, int leaderEpoch) {
    long next = firstOffset;
    for (int position = batches.position(); position < batches.limit(); ) {
      batch.wrap(batches, position);
      batch.baseOffset(next);
      batch.partitionLeaderEpoch(leaderEpoch);
      next = batch.nextOffset();
      position += batch.sizeInBytes();
    }
    return next;
  }

  /** The flyweight this sequence walks with, for callers that index the batches afterwards. */
  RecordBatch flyweight() {
    return batch;
  }
}
