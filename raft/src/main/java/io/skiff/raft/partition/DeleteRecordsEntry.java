package io.skiff.raft.partition;

import java.nio.ByteBuffer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The Raft log's part of a DeleteRecords entry: a fixed 16-byte record of the offset below which
 * every replica drops its records. It carries no state-machine data, and its size and type byte
 * differ from {@link EntryHeader}'s, so the append path ({@code write}, {@code read}, {@code
 * truncate}) passes over it.
 *
 * <pre>
 *  0        1        2                                                   8
 *  +--------+--------+---------------------------------------------------+
 *  | type   |version | reserved                                          |
 *  +--------+--------+---------------------------------------------------+
 *  | offset (int64) @8                                                   |
 *  +---------------------------------------------------------------------+
 * </pre>
 *
 * <p>Applying it moves the log start to {@code min(offset, highWatermark)}, where the high
 * watermark is the one at this entry's place in the Raft log: the same on every replica, so every
 * replica's log starts at the same offset afterwards. Immutable value; thread-safe.
 */
record DeleteRecordsEntry(long offset) {
  static final byte TYPE_DELETE_RECORDS = 'D';
  static final byte VERSION = 1;
  static final int SIZE = 16;

  private static final int TYPE_OFFSET = 0;
  private static final int VERSION_OFFSET = 1;
  private static final int OFFSET_OFFSET = 8;

  /**
   * Reads the entry from a Raft log entry's log data.
   *
   * @return null if the data is not a DeleteRecords entry (some other entry type)
   */
  static DeleteRecordsEntry read(ByteString logData) {
    if (logData.size() != SIZE || logData.byteAt(TYPE_OFFSET) != TYPE_DELETE_RECORDS) {
      return null;
    }
    if (logData.byteAt(VERSION_OFFSET) != VERSION) {
      throw new IllegalStateException(
          "delete-records entry version "
              + logData.byteAt(VERSION_OFFSET)
              + " is newer than this broker");
    }
    return new DeleteRecordsEntry(logData.asReadOnlyByteBuffer().getLong(OFFSET_OFFSET));
  }

  /** The entry as a Raft entry's log data. */
  ByteString asByteString() {
    final ByteBuffer buffer = ByteBuffer.allocate(SIZE);
    buffer.put(TYPE_OFFSET, TYPE_DELETE_RECORDS).put(VERSION_OFFSET, VERSION);
    buffer.putLong(OFFSET_OFFSET, offset);
    return UnsafeByteOperations.unsafeWrap(buffer);
  }
}
