package io.skiff.log;

import java.nio.ByteBuffer;

/**
 * Walks the records of one uncompressed v2 batch and writes the batch again with only the records a
 * {@link Retention} keeps, offsets and timestamps untouched: the batch keeps its base offset,
 * {@code lastOffsetDelta}, timestamps and producer fields, so a log stays a chain of batches whose
 * offsets follow on, while the records inside may have gaps (as Kafka's cleaner leaves them).
 *
 * <pre>
 *   record := length varint | attributes int8 | timestampDelta varlong | offsetDelta varint
 *             | keyLength varint | key | valueLength varint | value | headers ...
 *   (varints zig-zag encoded; a key or value of length -1 is null, a null value a tombstone)
 * </pre>
 *
 * <p>Not thread-safe: one instance per cleaning pass.
 */
final class RecordFilter {
  /** Decides which records a cleaned batch keeps. */
  interface Retention {
    /**
     * @param key the key, position to limit, or null
     * @param offset the record's offset
     * @param tombstone whether the value is null
     */
    boolean keep(ByteBuffer key, long offset, boolean tombstone);
  }

  /** Receives each keyed record of a batch, for building the offset map. */
  interface KeyVisitor {
    void visit(ByteBuffer key, long offset);
  }

  private final RecordBatch batch = new RecordBatch();
  private final RecordBatch written = new RecordBatch();
  private int cursor;

  /**
   * Whether the cleaner may look inside a batch: not transactional or control (transactions and
   * their markers are kept whole).
   */
  static boolean isCleanable(RecordBatch batch) {
    return !batch.isTransactional() && !batch.isControl();
  }

  /** Calls {@code visitor} for every record with a key in the batch at {@code position}. */
  void visitKeys(ByteBuffer buffer, int position, KeyVisitor visitor) {
    batch.wrap(buffer, position);
    cursor = position + RecordBatch.RECORDS_OFFSET;
    for (int i = 0; i < batch.recordCount(); i++) {
      final int next = recordEnd(buffer);
      final long offset = readOffset(buffer);
      final ByteBuffer k = readKey(buffer);
      if (k != null) {
        visitor.visit(k, offset);
      }
      cursor = next;
    }
  }

  /**
   * Writes the batch at {@code position} of {@code buffer} into {@code out} with only the records
   * {@code retention} keeps; the CRC is computed again.
   *
   * @return the number of records dropped
   */
  int filter(ByteBuffer buffer, int position, Retention retention, ByteBuffer out) {
    batch.wrap(buffer, position);
    final int start = out.position();
    out.put(buffer.duplicate().position(position).limit(position + RecordBatch.HEADER_SIZE));
    cursor = position + RecordBatch.RECORDS_OFFSET;
    final int count = batch.recordCount();
    int kept = 0;
    for (int i = 0; i < count; i++) {
      final int recordStart = cursor;
      final int next = recordEnd(buffer);
      final long offset = readOffset(buffer);
      final ByteBuffer k = readKey(buffer);
      final boolean tombstone = readVarint(buffer) < 0;
      if (retention.keep(k, offset, tombstone)) {
        out.put(buffer.duplicate().position(recordStart).limit(next));
        kept++;
      }
      cursor = next;
    }
    written.wrap(out, start);
    out.putInt(start + RecordBatch.BATCH_LENGTH_OFFSET, out.position() - start - 12);
    out.putInt(start + RecordBatch.RECORDS_COUNT_OFFSET, kept);
    out.putInt(start + RecordBatch.CRC_OFFSET, (int) written.computeChecksum());
    return count - kept;
  }

  /** Reads a record's length at the cursor, leaves the cursor after it, returns the record end. */
  private int recordEnd(ByteBuffer buffer) {
    final int length = readVarint(buffer);
    return cursor + length;
  }

  /** Reads attributes, timestamp delta and offset delta; returns the absolute offset. */
  private long readOffset(ByteBuffer buffer) {
    cursor++; // attributes
    readVarlong(buffer); // timestampDelta
    return batch.baseOffset() + readVarint(buffer);
  }

  /** Reads the key at the cursor: a view of it, or null; leaves the cursor after it. */
  private ByteBuffer readKey(ByteBuffer buffer) {
    final int length = readVarint(buffer);
    if (length < 0) {
      return null;
    }
    final ByteBuffer k = buffer.duplicate().limit(cursor + length).position(cursor);
    cursor += length;
    return k;
  }

  private int readVarint(ByteBuffer buffer) {
    return (int) readVarlong(buffer);
  }

  private long readVarlong(ByteBuffer buffer) {
    long raw = 0;
    int shift = 0;
    byte b;
    do {
      if (shift > 63) {
        throw new InvalidBatchException(
            InvalidBatchException.Reason.CORRUPT, "varint longer than 10 bytes in a record");
      }
      b = buffer.get(cursor++);
      raw |= (long) (b & 0x7f) << shift;
      shift += 7;
    } while ((b & 0x80) != 0);
    return (raw >>> 1) ^ -(raw & 1);
  }
}
