package io.skiff.raft;

import java.nio.ByteBuffer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The Raft log's part of an append entry: a fixed 40-byte header describing the batches, which
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
 *  +---------------------------------------------------------------------+
 * </pre>
 *
 * <p>Offsets and epoch are filled in by the leader when it appends the entry; followers read them
 * to check that the batches continue their log. Not thread-safe: a flyweight over one buffer.
 */
final class EntryHeader {
  static final byte TYPE_APPEND = 'A';
  static final byte VERSION = 1;
  static final int SIZE = 40;

  private static final int TYPE_OFFSET = 0;
  private static final int VERSION_OFFSET = 1;
  private static final int BATCH_BYTES_OFFSET = 4;
  private static final int BASE_OFFSET_OFFSET = 8;
  private static final int NEXT_OFFSET_OFFSET = 16;
  private static final int RECORD_COUNT_OFFSET = 24;
  private static final int LEADER_EPOCH_OFFSET = 28;
  private static final int MAX_TIMESTAMP_OFFSET = 32;

  private final ByteBuffer buffer;

  private EntryHeader(ByteBuffer buffer) {
    this.buffer = buffer;
  }

  /** A new header for {@code batchBytes} bytes of batches; offsets are set later. */
  static EntryHeader forAppend(int batchBytes, int recordCount, long maxTimestamp) {
    final EntryHeader header = new EntryHeader(ByteBuffer.allocate(SIZE));
    header.buffer.put(TYPE_OFFSET, TYPE_APPEND).put(VERSION_OFFSET, VERSION);
    header.buffer.putInt(BATCH_BYTES_OFFSET, batchBytes);
    header.buffer.putInt(RECORD_COUNT_OFFSET, recordCount);
    header.buffer.putLong(MAX_TIMESTAMP_OFFSET, maxTimestamp);
    return header;
  }

  /**
   * Reads a header from a Raft log entry's log data.
   *
   * @return null if the data is not an append header (some other entry type)
   */
  static EntryHeader read(ByteString logData) {
    if (logData.size() != SIZE || logData.byteAt(TYPE_OFFSET) != TYPE_APPEND) {
      return null;
    }
    if (logData.byteAt(VERSION_OFFSET) != VERSION) {
      throw new IllegalStateException(
          "entry header version " + logData.byteAt(VERSION_OFFSET) + " is newer than this broker");
    }
    return new EntryHeader(logData.asReadOnlyByteBuffer());
  }

  /** The header bytes as the Raft entry's log data; shares the buffer, so set offsets first. */
  ByteString asByteString() {
    return org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations.unsafeWrap(
        buffer.duplicate().clear());
  }

  void assign(long baseOffset, long nextOffset, int leaderEpoch) {
    buffer.putLong(BASE_OFFSET_OFFSET, baseOffset);
    buffer.putLong(NEXT_OFFSET_OFFSET, nextOffset);
    buffer.putInt(LEADER_EPOCH_OFFSET, leaderEpoch);
  }

  int batchBytes() {
    return buffer.getInt(BATCH_BYTES_OFFSET);
  }

  long baseOffset() {
    return buffer.getLong(BASE_OFFSET_OFFSET);
  }

  long nextOffset() {
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

  @Override
  public String toString() {
    return "EntryHeader[" + baseOffset() + ", " + nextOffset() + ") " + batchBytes() + " bytes";
  }
}
