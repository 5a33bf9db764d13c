package io.skiff.raft.partition;

import io.skiff.raft.producer.ProducerRun;
import io.skiff.raft.producer.ProducerStateTable;
import java.nio.ByteBuffer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The Raft log's part of an append entry: a fixed 72-byte header describing the batches, which
 * themselves travel as state-machine data and are written once, into the partition log.
 *
 * <pre>
 *  0        1        2                 4                                 8
 *  +--------+--------+-----------------+---------------------------------+
 *  | type   |version | reserved        | batchBytes (int32)              |
 *  +--------+--------+-----------------+---------------------------------+
 *  | baseOffset (int64) @8                                               |
 *  | nextOffset (int64) @16                                              |
 *  | recordCount (int32) @24         | leaderEpoch (int32) @28           |
 *  | maxTimestamp (int64) @32                                            |
 *  +---------------------------------------------------------------------+  version 2 adds:
 *  | producerId (int64) @40, -1 for non-idempotent batches               |
 *  | appendTimeMs (int64) @48, the leader's clock when it sequenced      |
 *  | firstSequence (int32) @56        | lastSequence (int32) @60          |
 *  | producerEpoch (int16) @64 | reserved (6 bytes)                      |
 *  +---------------------------------------------------------------------+
 * </pre>
 *
 * <p>Offsets, epoch and append time are filled in by the leader when it appends the entry;
 * followers read them to check that the batches continue their log, and every replica updates its
 * producer state from the producer fields when it applies the entry. Version 1 headers (40 bytes,
 * no producer fields) read as non-idempotent. Not thread-safe: a flyweight over one buffer.
 */
public final class EntryHeader {
  static final byte TYPE_APPEND = 'A';
  static final byte VERSION = 2;
  static final int SIZE = 72;
  private static final byte VERSION_1 = 1;
  private static final int SIZE_V1 = 40;

  private static final int TYPE_OFFSET = 0;
  private static final int VERSION_OFFSET = 1;
  private static final int BATCH_BYTES_OFFSET = 4;
  private static final int BASE_OFFSET_OFFSET = 8;
  private static final int NEXT_OFFSET_OFFSET = 16;
  private static final int RECORD_COUNT_OFFSET = 24;
  private static final int LEADER_EPOCH_OFFSET = 28;
  private static final int MAX_TIMESTAMP_OFFSET = 32;
  private static final int PRODUCER_ID_OFFSET = 40;
  private static final int APPEND_TIME_OFFSET = 48;
  private static final int FIRST_SEQUENCE_OFFSET = 56;
  private static final int LAST_SEQUENCE_OFFSET = 60;
  private static final int PRODUCER_EPOCH_OFFSET = 64;

  private final ByteBuffer buffer;

  private EntryHeader(ByteBuffer buffer) {
    this.buffer = buffer;
  }

  /** A new header for {@code batchBytes} bytes of batches; offsets are set later. */
  static EntryHeader forAppend(
      int batchBytes, int recordCount, long maxTimestamp, ProducerRun producer) {
    final EntryHeader header = new EntryHeader(ByteBuffer.allocate(SIZE));
    header.buffer.put(TYPE_OFFSET, TYPE_APPEND).put(VERSION_OFFSET, VERSION);
    header.buffer.putInt(BATCH_BYTES_OFFSET, batchBytes);
    header.buffer.putInt(RECORD_COUNT_OFFSET, recordCount);
    header.buffer.putLong(MAX_TIMESTAMP_OFFSET, maxTimestamp);
    header.buffer.putLong(PRODUCER_ID_OFFSET, producer.producerId());
    header.buffer.putInt(FIRST_SEQUENCE_OFFSET, producer.firstSeq());
    header.buffer.putInt(LAST_SEQUENCE_OFFSET, producer.lastSeq());
    header.buffer.putShort(PRODUCER_EPOCH_OFFSET, producer.epoch());
    return header;
  }

  /**
   * Reads a header from a Raft log entry's log data.
   *
   * @return null if the data is not an append header (some other entry type)
   */
  static EntryHeader read(ByteString logData) {
    if (logData.size() < SIZE_V1 || logData.byteAt(TYPE_OFFSET) != TYPE_APPEND) {
      return null;
    }
    final byte version = logData.byteAt(VERSION_OFFSET);
    if (version == VERSION_1 && logData.size() == SIZE_V1) {
      final ByteBuffer upgraded = ByteBuffer.allocate(SIZE);
      logData.copyTo(upgraded);
      upgraded.putLong(PRODUCER_ID_OFFSET, ProducerStateTable.NO_PRODUCER_ID);
      return new EntryHeader(upgraded.clear());
    }
    if (version != VERSION || logData.size() != SIZE) {
      throw new IllegalStateException(
          "entry header version "
              + version
              + " of "
              + logData.size()
              + " bytes is unknown to this broker");
    }
    return new EntryHeader(logData.asReadOnlyByteBuffer());
  }

  /** The header bytes as the Raft entry's log data; shares the buffer, so set offsets first. */
  ByteString asByteString() {
    return org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations.unsafeWrap(
        buffer.duplicate().clear());
  }

  void assign(long baseOffset, long nextOffset, int leaderEpoch, long appendTimeMs) {
    buffer.putLong(BASE_OFFSET_OFFSET, baseOffset);
    buffer.putLong(NEXT_OFFSET_OFFSET, nextOffset);
    buffer.putInt(LEADER_EPOCH_OFFSET, leaderEpoch);
    buffer.putLong(APPEND_TIME_OFFSET, appendTimeMs);
  }

  int batchBytes() {
    return buffer.getInt(BATCH_BYTES_OFFSET);
  }

  public long baseOffset() {
    return buffer.getLong(BASE_OFFSET_OFFSET);
  }

  public long nextOffset() {
    return buffer.getLong(NEXT_OFFSET_OFFSET);
  }

  int recordCount() {
    return buffer.getInt(RECORD_COUNT_OFFSET);
  }

  int leaderEpoch() {
    return buffer.getInt(LEADER_EPOCH_OFFSET);
  }

  long maxTimestamp() {
    return buffer.getLong(MAX_TIMESTAMP_OFFSET);
  }

  public long appendTimeMs() {
    return buffer.getLong(APPEND_TIME_OFFSET);
  }

  /** The producer and sequences of the entry's batches; {@link ProducerRun#NONE} if none. */
  public ProducerRun producer() {
    final long producerId = buffer.getLong(PRODUCER_ID_OFFSET);
    if (producerId < 0) {
      return ProducerRun.NONE;
    }
    return new ProducerRun(
        producerId,
        buffer.getShort(PRODUCER_EPOCH_OFFSET),
        buffer.getInt(FIRST_SEQUENCE_OFFSET),
        buffer.getInt(LAST_SEQUENCE_OFFSET));
  }

  @Override
  public String toString() {
    return "EntryHeader[" + baseOffset() + ", " + nextOffset() + ") " + batchBytes() + " bytes";
  }
}
