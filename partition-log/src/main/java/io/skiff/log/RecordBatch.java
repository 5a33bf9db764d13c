package io.skiff.log;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Flyweight over one Kafka v2 record batch (magic 2) in a {@link ByteBuffer}, read and written in
 * place with absolute big-endian accessors; it never copies the batch and never allocates.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    baseOffset (int64)          @0            |
 *  +---------------------------------------------------------------+
 *  |  batchLength (int32) @8   |  partitionLeaderEpoch (int32) @12 |
 *  +-------+-------------------+---------------+-------------------+
 *  |magic@16|          crc (uint32) @17        | attributes @21    |
 *  +-------+-------------------+---------------+-------------------+
 *  |  lastOffsetDelta (int32) @23  |   baseTimestamp (int64) @27 ...
 *  +-------------------------------+-------------------------------+
 *  |  maxTimestamp (int64) @35     |   producerId (int64) @43    ...
 *  +-------------------------------+-------------------------------+
 *  | producerEpoch @51 | baseSequence (int32) @53 | count @57 | records @61 ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>{@code batchLength} counts the bytes after itself, so a batch occupies {@code batchLength +
 * 12} bytes. The CRC32C covers everything from {@code attributes} to the end of the batch; {@code
 * baseOffset} and {@code partitionLeaderEpoch} are outside it, which is what lets a leader assign
 * both in place without recomputing the checksum.
 *
 * <p>Not thread-safe: one instance per thread, re-pointed with {@link #wrap}.
 */
public final class RecordBatch {
  public static final int BASE_OFFSET_OFFSET = 0;
  public static final int BATCH_LENGTH_OFFSET = 8;
  public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
  public static final int MAGIC_OFFSET = 16;
  public static final int CRC_OFFSET = 17;
  public static final int ATTRIBUTES_OFFSET = 21;
  public static final int LAST_OFFSET_DELTA_OFFSET = 23;
  public static final int BASE_TIMESTAMP_OFFSET = 27;
  public static final int MAX_TIMESTAMP_OFFSET = 35;
  public static final int PRODUCER_ID_OFFSET = 43;
  public static final int PRODUCER_EPOCH_OFFSET = 51;
  public static final int BASE_SEQUENCE_OFFSET = 53;
  public static final int RECORDS_COUNT_OFFSET = 57;
  public static final int RECORDS_OFFSET = 61;

  /** Bytes before {@code batchLength} starts counting: baseOffset and batchLength themselves. */
  public static final int LOG_OVERHEAD = 12;

  /** Size of the fixed batch header; the smallest valid batch (no records) is this long. */
  public static final int HEADER_SIZE = RECORDS_OFFSET;

  public static final byte MAGIC_V2 = 2;

  private static final int COMPRESSION_CODEC_MASK = 0x07;
  private static final int TRANSACTIONAL_FLAG_MASK = 0x10;
  private static final int CONTROL_FLAG_MASK = 0x20;

  private final CRC32C crc32c = new CRC32C();
  private ByteBuffer buffer;
  private int offset;

  /** Points this flyweight at the batch starting at absolute index {@code offset} of a buffer. */
  public RecordBatch wrap(ByteBuffer buffer, int offset) {
    if (buffer.order() != ByteOrder.BIG_ENDIAN) {
      throw new IllegalArgumentException("record batches are big-endian; got " + buffer.order());
    }
    this.buffer = buffer;
    this.offset = offset;
    return this;
  }

  public ByteBuffer buffer() {
    return buffer;
  }

  public int offset() {
    return offset;
  }

  public long baseOffset() {
    return buffer.getLong(offset + BASE_OFFSET_OFFSET);
  }

  public void baseOffset(long baseOffset) {
    buffer.putLong(offset + BASE_OFFSET_OFFSET, baseOffset);
  }

  public int batchLength() {
    return buffer.getInt(offset + BATCH_LENGTH_OFFSET);
  }

  /** Bytes this batch occupies in a log, header included. */
  public int sizeInBytes() {
    return batchLength() + LOG_OVERHEAD;
  }

  public int partitionLeaderEpoch() {
    return buffer.getInt(offset + PARTITION_LEADER_EPOCH_OFFSET);
  }

  public void partitionLeaderEpoch(int epoch) {
    buffer.putInt(offset + PARTITION_LEADER_EPOCH_OFFSET, epoch);
  }

  public byte magic() {
    return buffer.get(offset + MAGIC_OFFSET);
  }

  /** The stored checksum, as an unsigned 32-bit value. */
  public long checksum() {
    return Integer.toUnsignedLong(buffer.getInt(offset + CRC_OFFSET));
  }

  public short attributes() {
    return buffer.getShort(offset + ATTRIBUTES_OFFSET);
  }

  /** Compression codec id: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  public int compressionCodec() {
    return attributes() & COMPRESSION_CODEC_MASK;
  }

  public boolean isTransactional() {
    return (attributes() & TRANSACTIONAL_FLAG_MASK) != 0;
  }

  public boolean isControl() {
    return (attributes() & CONTROL_FLAG_MASK) != 0;
  }

  public int lastOffsetDelta() {
    return buffer.getInt(offset + LAST_OFFSET_DELTA_OFFSET);
  }

  public long lastOffset() {
    return baseOffset() + lastOffsetDelta();
  }

  /** The offset after this batch: where the next batch of the log starts. */
  public long nextOffset() {
    return lastOffset() + 1;
  }

  public long baseTimestamp() {
    return buffer.getLong(offset + BASE_TIMESTAMP_OFFSET);
  }

  public long maxTimestamp() {
    return buffer.getLong(offset + MAX_TIMESTAMP_OFFSET);
  }

  public long producerId() {
    return buffer.getLong(offset + PRODUCER_ID_OFFSET);
  }

  public short producerEpoch() {
    return buffer.getShort(offset + PRODUCER_EPOCH_OFFSET);
  }

  public int baseSequence() {
    return buffer.getInt(offset + BASE_SEQUENCE_OFFSET);
  }

  public int recordCount() {
    return buffer.getInt(offset + RECORDS_COUNT_OFFSET);
  }

  /** CRC32C of the bytes from {@code attributes} to the end of the batch. */
  public long computeChecksum() {
    final int start = offset + ATTRIBUTES_OFFSET;
    final int end = offset + sizeInBytes();
    final int savedPosition = buffer.position();
    final int savedLimit = buffer.limit();
    try {
      buffer.limit(end).position(start);
      crc32c.reset();
      crc32c.update(buffer);
      return crc32c.getValue();
    } finally {
      buffer.limit(savedLimit).position(savedPosition);
    }
  }

  /**
   * The {@code maxBatchBytes} of {@link #validate} and {@link #validateHeader} that checks
   * integrity only: for batches already accepted by a leader (replication, catch-up, recovery),
   * which no size policy may refuse afterwards.
   */
  public static final int ANY_SIZE = Integer.MAX_VALUE;

  /**
   * Checks the header fields that can be checked without the body: the length fits within {@code
   * available} bytes and {@code maxBatchBytes}, the magic is 2 and the offset delta is sane.
   *
   * @param available bytes from this batch's start to the end of the data it sits in
   * @throws InvalidBatchException naming the first rule the batch breaks
   */
  public void validateHeader(int available, int maxBatchBytes) {
    if (available < HEADER_SIZE) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.TRUNCATED,
          "record batch truncated: " + available + " bytes left, header needs " + HEADER_SIZE);
    }
    final int length = batchLength();
    if (length < HEADER_SIZE - LOG_OVERHEAD) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.INVALID_LENGTH,
          "record batch length "
              + length
              + " is below the minimum "
              + (HEADER_SIZE - LOG_OVERHEAD)
              + " at base offset "
              + baseOffset());
    }
    final long size = (long) length + LOG_OVERHEAD;
    if (size > maxBatchBytes) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.TOO_LARGE,
          "record batch of "
              + size
              + " bytes exceeds the limit of "
              + maxBatchBytes
              + " bytes (max.message.bytes)");
    }
    if (size > available) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.TRUNCATED,
          "record batch truncated: length says " + size + " bytes but " + available + " remain");
    }
    if (magic() != MAGIC_V2) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.UNSUPPORTED_MAGIC,
          "record batch magic " + magic() + " is not supported; only magic 2 (Kafka 0.11+)");
    }
    if (lastOffsetDelta() < 0 || recordCount() < 0) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.INVALID_OFFSETS,
          "record batch has lastOffsetDelta "
              + lastOffsetDelta()
              + " and record count "
              + recordCount()
              + "; both must be non-negative");
    }
  }

  /**
   * Full validation: {@link #validateHeader} and the CRC32C of the body.
   *
   * @throws InvalidBatchException naming the first rule the batch breaks
   */
  public void validate(int available, int maxBatchBytes) {
    validateHeader(available, maxBatchBytes);
    final long computed = computeChecksum();
    if (computed != checksum()) {
      throw new InvalidBatchException(
          InvalidBatchException.Reason.CORRUPT,
          "record batch at base offset "
              + baseOffset()
              + " is corrupt: stored CRC32C "
              + Long.toHexString(checksum())
              + " but computed "
              + Long.toHexString(computed));
    }
  }

  /**
   * The first record whose timestamp is at least {@code timestamp}, for an uncompressed,
   * non-control batch; for other batches the base offset with the batch's max timestamp (the
   * conservative answer: a reader starting there sees every qualifying record). Returns null when
   * no record of the batch qualifies. The whole batch must be in the buffer.
   */
  public TimestampOffset firstRecordWithTimestampAtLeast(long timestamp) {
    return firstRecordWithTimestampAtLeast(timestamp, Long.MIN_VALUE);
  }

  /**
   * As {@link #firstRecordWithTimestampAtLeast(long)}, ignoring records below {@code
   * startingOffset} (the log start may fall inside a batch).
   */
  public TimestampOffset firstRecordWithTimestampAtLeast(long timestamp, long startingOffset) {
    if (maxTimestamp() < timestamp || lastOffset() < startingOffset) {
      return null;
    }
    if (compressionCodec() != 0 || isControl()) {
      return new TimestampOffset(maxTimestamp(), Math.max(baseOffset(), startingOffset));
    }
    final long base = baseTimestamp();
    final int end = offset + sizeInBytes();
    final VarintCursor cursor = new VarintCursor(buffer);
    int position = offset + RECORDS_OFFSET;
    for (int i = 0, n = recordCount(); i < n && position < end; i++) {
      cursor.position(position);
      final int recordLength = cursor.readVarint();
      final int recordStart = cursor.position();
      cursor.position(recordStart + 1); // skip the record attributes byte
      final long recordTimestamp = base + cursor.readVarlong();
      final int offsetDelta = cursor.readVarint();
      if (recordTimestamp >= timestamp && baseOffset() + offsetDelta >= startingOffset) {
        return new TimestampOffset(recordTimestamp, baseOffset() + offsetDelta);
      }
      position = recordStart + recordLength;
    }
    return null;
  }

  /** Zig-zag varint reader over absolute buffer indexes, as Kafka encodes record fields. */
  private static final class VarintCursor {
    private final ByteBuffer buffer;
    private int position;

    VarintCursor(ByteBuffer buffer) {
      this.buffer = buffer;
    }

    void position(int position) {
      this.position = position;
    }

    int position() {
      return position;
    }

    int readVarint() {
      return (int) readVarlong();
    }

    long readVarlong() {
      long raw = 0;
      int shift = 0;
      while (true) {
        final byte b = buffer.get(position++);
        raw |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          break;
        }
        shift += 7;
        if (shift > 63) {
          throw new InvalidBatchException(
              InvalidBatchException.Reason.CORRUPT, "record varint longer than 10 bytes");
        }
      }
      return (raw >>> 1) ^ -(raw & 1);
    }
  }
}
